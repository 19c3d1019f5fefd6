import { normaliseNumber, type CallControlApp } from '../config/apps.js';

/** The Call Control Apps by DID (numbers match exactly after dropping a leading `+`) and by UUID. */
export class AppDirectory {
  private readonly byNumber = new Map<string, CallControlApp>();
  private readonly byUuid = new Map<string, CallControlApp>();

  constructor(apps: readonly CallControlApp[]) {
    for (const app of apps) {
      this.byUuid.set(app.uuid, app);
      for (const number of app.numbers) this.byNumber.set(normaliseNumber(number), app);
    }
  }

  find(did: string): CallControlApp | undefined {
    return this.byNumber.get(normaliseNumber(did.trim()));
  }

  /** The app a saved call names. */
  byId(uuid: string): CallControlApp | undefined {
    return this.byUuid.get(uuid);
  }
}
