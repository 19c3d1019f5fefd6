import { normaliseNumber, type CallControlApp } from '../config/apps.js';

/** The Call Control Apps by DID; numbers match exactly after dropping a leading `+`. */
export class AppDirectory {
  private readonly byNumber = new Map<string, CallControlApp>();

  constructor(apps: readonly CallControlApp[]) {
    for (const app of apps) for (const number of app.numbers) this.byNumber.set(normaliseNumber(number), app);
  }

  find(did: string): CallControlApp | undefined {
    return this.byNumber.get(normaliseNumber(did.trim()));
  }
}
