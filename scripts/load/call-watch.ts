// One call followed through the ARI events of the engine's channel, into the
// CallObservation both drivers report. The real Asterisk's tester application and the fake
// ARI's child process feed it the same event types.
import type { CallObservation } from './call-outcome.js';

/** The parts of an ARI event a CallWatch reads. */
export interface WatchedEvent {
  readonly type: string;
  readonly channel?: { readonly id: string; readonly state?: string };
  readonly playback?: { readonly target_uri?: string; readonly state?: string };
  readonly cause?: number;
  readonly dialplan_app?: string;
}

/**
 * Which event says the engine's channel entered Stasis: on Asterisk, a tester subscribed
 * to the channel gets its `ChannelDialplan` for the Stasis application (not the
 * StasisStart, which goes to the engine's application only); the fake's child sees the
 * StasisStart itself.
 */
export type StasisMarker = 'ChannelDialplan' | 'StasisStart';

export class CallWatch {
  private stasisAt: number | undefined;
  private answeredAt: number | undefined;
  private firstAudioAt: number | undefined;
  private started = 0;
  private failed = 0;
  private lastAudioEndAt: number | undefined;
  private endedAt: number | undefined;
  private cause: number | undefined;
  private notPlacedWhy: string | undefined;
  private timedOutFlag = false;
  private markEnded: () => void = () => undefined;
  /** Resolves when the engine's channel is destroyed (or the call was not placed). */
  readonly ended = new Promise<void>((resolve) => {
    this.markEnded = resolve;
  });

  constructor(
    readonly index: number,
    /** The caller ID the call carries. */
    readonly from: string,
    readonly placedAt: number,
    /** The engine's channel. */
    readonly channelId: string,
    private readonly marker: StasisMarker,
  ) {}

  get isOver(): boolean {
    return this.endedAt !== undefined || this.notPlacedWhy !== undefined;
  }

  /** The engine's channel is known to be gone. */
  get channelGone(): boolean {
    return this.endedAt !== undefined;
  }

  /** Takes an event about the engine's channel or its playbacks, `at` epoch ms. */
  feed(event: WatchedEvent, at: number): void {
    const onChannel = event.channel?.id === this.channelId;
    switch (event.type) {
      case 'ChannelDialplan':
      case 'StasisStart':
        if (onChannel && event.type === this.marker && (event.type === 'StasisStart' || event.dialplan_app === 'Stasis')) this.stasisAt ??= at;
        break;
      case 'ChannelStateChange':
        if (onChannel && event.channel?.state === 'Up') this.answeredAt ??= at;
        break;
      case 'PlaybackStarted':
        this.firstAudioAt ??= at;
        this.started += 1;
        break;
      case 'PlaybackFinished':
        if (event.playback?.state === 'failed') this.failed += 1;
        this.lastAudioEndAt = at;
        break;
      case 'ChannelDestroyed':
        if (!onChannel) break;
        this.endedAt ??= at;
        this.cause ??= event.cause;
        this.markEnded();
        break;
      default:
        break;
    }
  }

  notPlaced(why: string): void {
    this.notPlacedWhy ??= why;
    this.markEnded();
  }

  timedOut(): void {
    this.timedOutFlag = true;
  }

  observation(): CallObservation {
    return {
      index: this.index,
      from: this.from,
      placedAt: this.placedAt,
      stasisAt: this.stasisAt,
      answeredAt: this.answeredAt,
      firstAudioAt: this.firstAudioAt,
      playbacksHeard: Math.max(0, this.started - this.failed),
      playbacksFailed: this.failed,
      lastAudioEndAt: this.lastAudioEndAt,
      endedAt: this.endedAt,
      cause: this.cause,
      notPlaced: this.notPlacedWhy,
      timedOut: this.timedOutFlag || undefined,
    };
  }
}

/** The engine channel an event is about: its channel, or its playback's target. */
export function engineChannelOf(event: WatchedEvent): string | undefined {
  const target = event.playback?.target_uri;
  if (target?.startsWith('channel:')) return target.slice('channel:'.length);
  return event.channel?.id;
}

/** `2026-11-29T20:52:55.145+0000` (Asterisk's event timestamp) → epoch ms; undefined when unreadable. */
export function asteriskTime(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(text.replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));
  return Number.isNaN(ms) ? undefined : ms;
}
