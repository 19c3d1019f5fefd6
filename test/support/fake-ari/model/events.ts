// Events (res/ari/ari_websockets.c): Stasis messages turned into ARI events and written
// to the applications' WebSockets. They are published in order and delivered on a later
// turn of the event loop, as Stasis messages are, so an HTTP response usually leaves
// before the event it caused; an event for an application without a WebSocket is lost. A
// channel's events go to the applications subscribed to it and to the subscribeAll ones.
import { asteriskTime } from '../asterisk-values.js';
import type { AriEvent } from '../models.js';
import type { Stasis } from '../stasis.js';
import type { ChannelModel } from './channels.js';

export class Events {
  private outbox: AriEvent[] = [];
  private flushScheduled = false;
  private flushWaiters: (() => void)[] = [];
  /** Events written to an application's WebSocket, in order. */
  readonly delivered: AriEvent[] = [];
  /** Events for an application that had no WebSocket at the time: lost, as on Asterisk. */
  readonly dropped: AriEvent[] = [];
  private readonly eventListeners = new Set<(e: AriEvent) => void>();

  constructor(private readonly stasis: Stasis) {}

  onDelivered(listener: (e: AriEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /** Resolves once everything published so far has been delivered (or dropped). */
  flushed(): Promise<void> {
    if (this.outbox.length === 0 && !this.flushScheduled) return Promise.resolve();
    return new Promise((resolve) => this.flushWaiters.push(resolve));
  }

  publish(apps: Iterable<string>, type: string, fields: Omit<AriEvent, 'type' | 'timestamp' | 'application' | 'asterisk_id'>): void {
    const timestamp = asteriskTime();
    for (const app of new Set(apps)) {
      this.outbox.push({ type, timestamp, ...fields, asterisk_id: this.stasis.config.asteriskId, application: app });
    }
    if (!this.flushScheduled && this.outbox.length > 0) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.outbox;
    this.outbox = [];
    for (const event of batch) {
      const session = this.stasis.applications.session(event.application);
      if (session && session.open) {
        session.send(JSON.stringify(event));
        this.delivered.push(event);
        for (const listener of [...this.eventListeners]) listener(event);
      } else {
        this.dropped.push(event);
      }
    }
    const waiters = this.flushWaiters;
    this.flushWaiters = [];
    for (const resolve of waiters) resolve();
  }

  channelTargets(ch: ChannelModel, extra: Iterable<string> = []): string[] {
    return [...ch.subscribers, ...extra, ...this.stasis.applications.subscribeAllApps()];
  }

  publishChannel(ch: ChannelModel, type: string, fields: Omit<AriEvent, 'type' | 'timestamp' | 'application' | 'asterisk_id' | 'channel'> = {}): void {
    if (ch.killed) return;
    this.publish(this.channelTargets(ch), type, { ...fields, channel: ch.json() });
  }

  /** Asterisk restarted: what was not yet delivered is gone. */
  wipe(): void {
    this.outbox = [];
  }
}
