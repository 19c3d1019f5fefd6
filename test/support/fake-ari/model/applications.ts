// Stasis applications (res/ari/resource_applications.c, res/stasis/app.c): the registry of
// applications, the events WebSocket each is served by, and GET /applications.
import { asteriskTime } from '../asterisk-values.js';
import type { ApplicationJson } from '../models.js';
import type { Stasis } from '../stasis.js';

/** A connected events WebSocket, as the server layer sees it. */
export interface EventSession {
  readonly id: number;
  readonly open: boolean;
  send(text: string): void;
}

interface AppRecord {
  readonly name: string;
  session: EventSession | undefined;
  subscribeAll: boolean;
}

export class Applications {
  private readonly apps = new Map<string, AppRecord>();

  constructor(private readonly stasis: Stasis) {}

  /**
   * A WebSocket connected for `names`. An application already served by another socket
   * moves to this one and the old socket gets ApplicationReplaced (ari_websockets.c).
   * Channels already in Stasis for the application stay; they get no new StasisStart.
   */
  registerSession(session: EventSession, names: readonly string[], subscribeAll: boolean): void {
    for (const name of names) {
      const existing = this.apps.get(name);
      if (existing) {
        const old = existing.session;
        if (old && old !== session && old.open) {
          old.send(
            JSON.stringify({ type: 'ApplicationReplaced', timestamp: asteriskTime(), asterisk_id: this.stasis.config.asteriskId, application: name }),
          );
        }
        existing.session = session;
        existing.subscribeAll = subscribeAll;
      } else {
        this.apps.set(name, { name, session, subscribeAll });
      }
    }
  }

  /** The WebSocket went away: its applications become inactive; their channels stay in Stasis. */
  unregisterSession(session: EventSession): void {
    for (const app of [...this.apps.values()]) {
      if (app.session === session) {
        app.session = undefined;
        this.forgetAppIfFinished(app.name);
      }
    }
  }

  /** stasis app cleanup: an inactive application with nothing subscribed leaves the registry. */
  forgetAppIfFinished(name: string): void {
    const app = this.apps.get(name);
    if (!app || app.session) return;
    const hasChannels = [...this.stasis.channels.byId.values()].some((c) => c.subscribers.has(name));
    const hasBridges = [...this.stasis.bridges.byId.values()].some((b) => b.subscribers.has(name));
    if (!hasChannels && !hasBridges) this.apps.delete(name);
  }

  isActive(app: string): boolean {
    return Boolean(this.apps.get(app)?.session?.open);
  }

  activeApps(): string[] {
    return [...this.apps.values()].filter((a) => a.session?.open).map((a) => a.name);
  }

  applicationJson(name: string): ApplicationJson | undefined {
    if (!this.apps.has(name)) return undefined;
    return {
      name,
      channel_ids: [...this.stasis.channels.byId.values()].filter((c) => c.subscribers.has(name)).map((c) => c.id),
      bridge_ids: [...this.stasis.bridges.byId.values()].filter((b) => b.subscribers.has(name)).map((b) => b.id),
      endpoint_ids: [],
      device_names: [],
      events_allowed: [],
      events_disallowed: [],
    };
  }

  applicationsJson(): ApplicationJson[] {
    return [...this.apps.keys()].map((name) => this.applicationJson(name)).filter((a): a is ApplicationJson => a !== undefined);
  }

  subscribeAllApps(): string[] {
    return [...this.apps.values()].filter((a) => a.subscribeAll && a.session).map((a) => a.name);
  }

  /** Whether the application is registered (connected now, or still holding channels or bridges). */
  has(name: string): boolean {
    return this.apps.has(name);
  }

  /** The WebSocket the application's events go to, if it has one. */
  session(name: string): EventSession | undefined {
    return this.apps.get(name)?.session;
  }

  /** Asterisk restarted: applications must connect again. */
  wipe(): void {
    this.apps.clear();
  }
}
