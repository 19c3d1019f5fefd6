/**
 * Stasis argument that marks a channel the engine created itself (an originated or
 * dialled leg, a media channel): `Stasis(<app>,opentact-internal,…)` or the
 * `appArgs` of an originate. Such channels never start a flow.
 */
export const INTERNAL_CHANNEL_ARG = 'opentact-internal';

/**
 * The ids of the channels the engine creates (ARI lets the creator choose the id), so
 * that their StasisStart is known to be ours even without the argument.
 */
export class OwnChannels {
  private readonly ids = new Set<string>();

  add(channelId: string): void {
    this.ids.add(channelId);
  }

  delete(channelId: string): void {
    this.ids.delete(channelId);
  }

  /** True for a channel the engine created: by its id, or by the Stasis argument. */
  isOwn(channelId: string, args: readonly string[] = []): boolean {
    return this.ids.has(channelId) || args[0] === INTERNAL_CHANNEL_ARG;
  }

  get size(): number {
    return this.ids.size;
  }
}
