import { CallEndedError } from '../flow/failure.js';
import type {
  Call,
  CallInfo,
  CallState,
  DigitOptions,
  HangupCause,
  HangupRequest,
  InterruptResult,
  MediaRef,
  PauseOptions,
  PlayOptions,
} from '../flow/ports.js';
import { sleep } from '../flow/sleep.js';
import type { Gender, VoiceType } from '../xml/index.js';

/** What the caller of a simulated call experiences, one event per thing. */
export type CallerEvent =
  | { readonly event: 'answer' }
  | {
      readonly event: 'say';
      readonly text: string;
      readonly lang: string;
      readonly gender: Gender;
      readonly type: VoiceType;
      readonly code?: string;
      readonly loop: number;
      readonly digit?: string;
    }
  | { readonly event: 'play'; readonly url?: string; readonly record?: string; readonly uri?: string; readonly loop: number; readonly digit?: string }
  | { readonly event: 'pause'; readonly ms: number; readonly digit?: string }
  | { readonly event: 'digits'; readonly digits: string }
  | { readonly event: 'hangup'; readonly cause: HangupCause; readonly reason: string; readonly tag?: string }
  | { readonly event: 'caller-hangup' };

export interface ConsoleCallOptions {
  readonly call: string;
  readonly sca: string;
  readonly from: string;
  readonly tn: string;
  /** Keys the caller presses, in order, each time the flow listens for one. */
  readonly digits?: string;
  /** The caller hangs up this many ms after the call starts. */
  readonly hangupAfterMs?: number;
  /** How long a playback lasts; instant unless given. */
  readonly playbackMs?: (media: MediaRef) => number;
  readonly onEvent: (event: CallerEvent) => void;
}

/**
 * A call with no phone line: it reports what the caller would hear and do as events.
 * Pauses take real time; digits come from a script.
 */
export class ConsoleCall implements Call {
  private state: CallState = 'ringing';
  private readonly controller = new AbortController();
  private readonly pendingDigits: string[];
  private readonly hangupTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ConsoleCallOptions) {
    this.pendingDigits = [...(options.digits ?? '')];
    if (options.hangupAfterMs !== undefined) {
      this.hangupTimer = setTimeout(() => this.callerHangsUp(), options.hangupAfterMs);
    }
  }

  get info(): CallInfo {
    const { call, sca, from, tn } = this.options;
    return { call, sca, from, tn, state: this.state };
  }

  get ended(): AbortSignal {
    return this.controller.signal;
  }

  /** The caller hangs up now. */
  callerHangsUp(): void {
    if (this.ended.aborted) return;
    this.options.onEvent({ event: 'caller-hangup' });
    this.end();
  }

  /** Releases the call's timer without reporting anything (the simulation is over). */
  dispose(): void {
    this.end();
  }

  async answer(): Promise<void> {
    this.assertLive();
    if (this.state === 'live') return;
    this.state = 'live';
    this.options.onEvent({ event: 'answer' });
  }

  async play(media: MediaRef, opts: PlayOptions): Promise<InterruptResult> {
    this.assertLive();
    const digit = this.takeStopDigit(opts.stopOnDigits);
    this.options.onEvent({ ...describe(media), loop: opts.loop, ...(digit === undefined ? {} : { digit }) });
    if (digit !== undefined) return { digit };
    const ms = (this.options.playbackMs?.(media) ?? 0) * opts.loop;
    if (ms > 0) await sleep(ms, this.ended);
    return {};
  }

  async pause(ms: number, opts: PauseOptions): Promise<InterruptResult> {
    this.assertLive();
    const digit = this.takeStopDigit(opts.stopOnDigits);
    this.options.onEvent({ event: 'pause', ms, ...(digit === undefined ? {} : { digit }) });
    if (digit !== undefined) return { digit };
    await sleep(ms, this.ended);
    return {};
  }

  async collectDigits(opts: DigitOptions): Promise<string> {
    this.assertLive();
    let digits = '';
    while (digits.length < opts.maxDigits && this.pendingDigits.length > 0) {
      const key = this.pendingDigits.shift() ?? '';
      if (opts.finishOnKey.includes(key)) break;
      digits += key;
    }
    this.options.onEvent({ event: 'digits', digits });
    // With fewer keys than asked for and no finish key, the caller goes silent: wait out the time-out.
    if (digits.length < opts.maxDigits && this.pendingDigits.length === 0) await sleep(opts.timeout, this.ended);
    return digits;
  }

  async hangup(request: HangupRequest): Promise<void> {
    this.assertLive();
    const { cause, reason, tag } = request;
    this.options.onEvent({ event: 'hangup', cause, reason, ...(tag === undefined ? {} : { tag }) });
    this.end();
  }

  private end(): void {
    clearTimeout(this.hangupTimer);
    this.controller.abort();
  }

  private assertLive(): void {
    if (this.ended.aborted) throw new CallEndedError();
  }

  /** The caller presses the next scripted key if the flow is listening for it. */
  private takeStopDigit(stopOn: string | undefined): string | undefined {
    const next = this.pendingDigits[0];
    if (!stopOn || next === undefined || !stopOn.includes(next)) return undefined;
    return this.pendingDigits.shift();
  }
}

function describe(media: MediaRef): CallerEvent & { event: 'say' | 'play' } {
  switch (media.kind) {
    case 'speech': {
      const { text, voice } = media;
      return { event: 'say', text, ...voice, loop: 1 };
    }
    case 'url':
      return { event: 'play', url: media.url, loop: 1 };
    case 'recording':
      return { event: 'play', record: media.tag, loop: 1 };
    case 'sound':
      return { event: 'play', uri: media.uri, loop: 1 };
  }
}
