import { channelIdOf, type AriEvent } from './events.js';

export type ChannelEventHandler = (event: AriEvent) => void;

/**
 * Routes each event to the one handler registered for its channel: one listener on the
 * connection for every call, instead of ari-client's per-instance listeners (which it
 * never forgets). A call registers when it starts and unregisters when it is done.
 */
export class ChannelDispatcher {
  private readonly handlers = new Map<string, ChannelEventHandler>();

  register(channelId: string, handler: ChannelEventHandler): void {
    this.handlers.set(channelId, handler);
  }

  unregister(channelId: string): void {
    this.handlers.delete(channelId);
  }

  /** True when a handler took the event. */
  dispatch(event: AriEvent): boolean {
    const channelId = channelIdOf(event);
    const handler = channelId === undefined ? undefined : this.handlers.get(channelId);
    if (handler === undefined) return false;
    handler(event);
    return true;
  }

  get size(): number {
    return this.handlers.size;
  }
}
