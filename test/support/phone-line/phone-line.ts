// The caller's side of a test call — a "phone line" — with two implementations: the fake
// ARI's control interface (fake-line.ts) and a real Asterisk, where a call is a Local
// channel pair whose `;1` half sits in a tester ARI application and plays the caller
// (asterisk-line.ts). Scenarios written against this interface run on both.
import type { AriEvent } from '../fake-ari/index.js';

/** One playback the caller got, as its events reported it. */
export interface Heard {
  readonly id: string;
  /** The media URI as the engine gave it (`sound:http://…/media/<id>.wav`). */
  readonly media: string;
  /** `playing` until PlaybackFinished, then its final state (`done`, `failed`). */
  readonly state: string;
}

/** How a call ended, seen from the line. */
export interface CallEnd {
  /** The Q.850 cause of the engine's channel (its ChannelDestroyed). */
  readonly cause: number;
}

export interface PhoneCall {
  /** The engine's channel: the one in the engine's Stasis application. */
  readonly channelId: string;
  /** Resolves when the engine has answered. */
  answered(timeoutMs?: number): Promise<void>;
  /** Every playback started on the call so far, in order. */
  heard(): Heard[];
  /** Resolves once `count` playbacks have started; gives them all. */
  untilStarted(count: number, timeoutMs?: number): Promise<Heard[]>;
  /** Resolves once `count` playbacks have finished; gives them all. */
  untilFinished(count: number, timeoutMs?: number): Promise<Heard[]>;
  /** The caller presses keys. */
  press(digits: string): Promise<void>;
  /** The caller hangs up (cause 16). */
  hangUp(): Promise<void>;
  /** The caller starts (true) or stops making sound (a tone stands for the voice), e.g. for `<Record>`. */
  talk(on: boolean): Promise<void>;
  /** Resolves when the engine's channel is gone, with its cause. */
  ended(timeoutMs?: number): Promise<CallEnd>;
  /** Every ARI event about the engine's channel, compact (`PlaybackFinished done`): for comparing the fake with Asterisk. */
  trace(): readonly string[];
}

/** What a test leaves behind on the Asterisk side: it should be nothing. */
export interface Leftovers {
  readonly channels: readonly string[];
  readonly bridges: readonly string[];
}

export interface AriTarget {
  readonly url: string;
  readonly username: string;
  readonly password: string;
}

export interface PhoneLine {
  readonly kind: 'fake' | 'asterisk';
  /** Where the engine connects. */
  readonly ari: AriTarget;
  /** A call from `from` (default 15550001111) to `did`, into the engine's application `app`. */
  call(options: { did: string; from?: string; app: string }): Promise<PhoneCall>;
  /** Channels and bridges that still exist. */
  leftovers(): Promise<Leftovers>;
  close(): Promise<void>;
}

/** A PhoneCall whose view comes from `observer` and whose caller acts through `actions`. */
export function phoneCall(observer: CallObserver, actions: Pick<PhoneCall, 'press' | 'hangUp' | 'talk'>): PhoneCall {
  return {
    channelId: observer.channelId,
    answered: (timeoutMs) => observer.answered(timeoutMs),
    heard: () => observer.heard(),
    untilStarted: (count, timeoutMs) => observer.untilStarted(count, timeoutMs),
    untilFinished: (count, timeoutMs) => observer.untilFinished(count, timeoutMs),
    ended: (timeoutMs) => observer.ended(timeoutMs),
    trace: () => observer.trace,
    press: (digits) => actions.press(digits),
    hangUp: () => actions.hangUp(),
    talk: (on) => actions.talk(on),
  };
}

/**
 * The caller's view of one call, built from ARI events about the engine's channel:
 * answer, playbacks and the end. Both lines feed it the events they see.
 */
export class CallObserver {
  private answeredFlag = false;
  private readonly playbacks: { id: string; media: string; state: string }[] = [];
  private end: CallEnd | undefined;
  private readonly waiters = new Set<() => void>();
  /** Every event about the channel, compact: `PlaybackFinished done`, `ChannelDestroyed 16`. */
  readonly trace: string[] = [];

  constructor(readonly channelId: string) {}

  feed(event: AriEvent): void {
    const channel = event.channel?.id;
    const target = event.playback?.target_uri;
    if (channel === this.channelId || target === `channel:${this.channelId}`) {
      const detail = event.playback?.state ?? event.cause ?? event.digit ?? (event.type === 'ChannelStateChange' ? event.channel?.state : undefined);
      this.trace.push(detail === undefined ? event.type : `${event.type} ${String(detail)}`);
    }
    if (event.type === 'ChannelStateChange' && channel === this.channelId && event.channel?.state === 'Up') this.answeredFlag = true;
    else if (event.type === 'PlaybackStarted' && target === `channel:${this.channelId}` && event.playback) {
      if (!this.playbacks.some((p) => p.id === event.playback?.id)) this.playbacks.push({ id: event.playback.id, media: event.playback.media_uri, state: 'playing' });
    } else if (event.type === 'PlaybackFinished' && target === `channel:${this.channelId}` && event.playback) {
      const known = this.playbacks.find((p) => p.id === event.playback?.id);
      if (known) known.state = event.playback.state;
      else this.playbacks.push({ id: event.playback.id, media: event.playback.media_uri, state: event.playback.state });
    } else if (event.type === 'ChannelDestroyed' && channel === this.channelId) this.end = { cause: event.cause ?? -1 };
    else return;
    for (const wake of [...this.waiters]) wake();
  }

  heard(): Heard[] {
    return this.playbacks.map((p) => ({ ...p }));
  }

  answered(timeoutMs = 5000): Promise<void> {
    return this.until(() => (this.answeredFlag ? true : undefined), timeoutMs, 'the answer').then(() => undefined);
  }

  untilStarted(count: number, timeoutMs = 10_000): Promise<Heard[]> {
    return this.until(() => (this.playbacks.length >= count ? this.heard() : undefined), timeoutMs, `${count} playbacks started`);
  }

  untilFinished(count: number, timeoutMs = 10_000): Promise<Heard[]> {
    const finished = (): number => this.playbacks.filter((p) => p.state !== 'playing').length;
    return this.until(() => (finished() >= count ? this.heard() : undefined), timeoutMs, `${count} playbacks finished`);
  }

  ended(timeoutMs = 10_000): Promise<CallEnd> {
    return this.until(() => this.end, timeoutMs, 'the end of the call');
  }

  /** Resolves with `check()`'s first defined value; rejects after `timeoutMs` saying what was awaited and what was seen. */
  private until<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const now = check();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const wake = (): void => {
        const value = check();
        if (value === undefined) return;
        done();
        resolve(value);
      };
      const timer = setTimeout(() => {
        done();
        const seen = JSON.stringify({ answered: this.answeredFlag, heard: this.heard().map((h) => `${h.media} ${h.state}`), end: this.end });
        reject(new Error(`call ${this.channelId}: no ${what} within ${timeoutMs} ms; seen ${seen}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(wake);
      };
      this.waiters.add(wake);
    });
  }
}
