import { CallEndedError } from '../flow/failure.js';
import type {
  Call,
  CallInfo,
  CallState,
  DialOptions,
  DialOutcome,
  DialTargetRef,
  DigitOptions,
  HangupCause,
  HangupRequest,
  InterruptResult,
  MediaRef,
  PauseOptions,
  PlayOptions,
  Recording,
  RecordOptions,
} from '../flow/ports.js';
import { sleep } from '../flow/sleep.js';
import type { Gender, VoiceType } from '../xml/index.js';

/** In `--digits`, a second in which the caller presses nothing. */
const SILENCE = 'w';
const SILENCE_MS = 1000;

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
  /** A `<Record>` began (after its beep): its name; `digit` when a scripted key stopped it at once. (The engine's `recording` line says what was stored.) */
  | { readonly event: 'record'; readonly name: string; readonly tag?: string; readonly maxMs: number; readonly stopOnDigits?: string; readonly digit?: string }
  /** A `<Dial>` target rung (`callerId` shown to it), then how it ended. */
  | { readonly event: 'dial'; readonly target: string; readonly type: 'number' | 'sip'; readonly callerId?: string; readonly timeout: number }
  | { readonly event: 'dial-answer'; readonly target: string }
  | { readonly event: 'dial-end'; readonly target: string; readonly outcome: 'busy' | 'no-answer' | 'cancelled' | 'hung-up' }
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
  /** What the `<Dial>` targets do (`--dial`); default: every one answers at once. */
  readonly dial?: DialBehaviour;
  /** How long a playback lasts; instant unless given. */
  readonly playbackMs?: (media: MediaRef) => number;
  readonly onEvent: (event: CallerEvent) => void;
}

/**
 * What a simulated `<Dial>`'s targets do (`simulate --dial`): `answer` at once, `busy`,
 * `no-answer` (the ring time runs out), or answer after `ms` (`answer-after:MS`), which is
 * no answer when the ring time is shorter. An answered target stays on for `talkMs`
 * (default 0) and then hangs up.
 */
export type DialBehaviour =
  | { readonly kind: 'answer' }
  | { readonly kind: 'busy' }
  | { readonly kind: 'no-answer' }
  | { readonly kind: 'answer-after'; readonly ms: number };

export class DialBehaviourError extends Error {
  readonly code = 'dial_behaviour';
  constructor(value: string) {
    super(`--dial "${value}" is not one of answer, busy, no-answer, answer-after:<ms>`);
    this.name = 'DialBehaviourError';
  }
}

/** `answer`, `busy`, `no-answer`, `answer-after:1500`. @throws DialBehaviourError */
export function parseDialBehaviour(value: string): DialBehaviour {
  const text = value.trim().toLowerCase();
  if (text === 'answer' || text === 'busy' || text === 'no-answer') return { kind: text };
  const after = /^answer-after:(\d{1,7})$/.exec(text);
  if (after) return { kind: 'answer-after', ms: Number(after[1]) };
  throw new DialBehaviourError(value);
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
  private recordings = 0;

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
    while (digits.length < opts.maxDigits) {
      const key = this.pendingDigits.shift();
      // No key left: the caller goes silent, and collection ends after its time-out.
      if (key === undefined) {
        await sleep(opts.timeout, this.ended);
        break;
      }
      if (key === SILENCE) {
        // A second of silence: collection ends if its time-out is not longer.
        await sleep(Math.min(SILENCE_MS, opts.timeout), this.ended);
        if (SILENCE_MS >= opts.timeout) break;
        continue;
      }
      if (opts.finishOnKey.includes(key)) break;
      digits += key;
    }
    this.options.onEvent({ event: 'digits', digits });
    return digits;
  }

  /**
   * Every target behaves as `--dial` says. The first (all alike) is bridged, the others
   * are cancelled; the bridge ends at once (the called party hangs up), as the
   * simulation has no one to talk to.
   */
  async dial(targets: readonly DialTargetRef[], opts: DialOptions): Promise<DialOutcome> {
    this.assertLive();
    const behaviour = this.options.dial ?? { kind: 'answer' };
    for (const target of targets) {
      const callerId = opts.callerId;
      this.options.onEvent({ event: 'dial', target: target.value, type: target.type, timeout: opts.timeout, ...(callerId === undefined ? {} : { callerId }) });
    }
    const [first] = targets;
    if (first === undefined) return { kind: 'failed', targets: [] };
    if (behaviour.kind === 'busy') {
      for (const target of targets) this.options.onEvent({ event: 'dial-end', target: target.value, outcome: 'busy' });
      return { kind: 'failed', targets: targets.map((target) => ({ target, failure: 'busy', cause: 17 })) };
    }
    const answersAfter = behaviour.kind === 'answer' ? 0 : behaviour.kind === 'answer-after' ? behaviour.ms : Infinity;
    if (answersAfter >= opts.timeout) {
      await sleep(opts.timeout, this.ended);
      this.assertLive();
      for (const target of targets) this.options.onEvent({ event: 'dial-end', target: target.value, outcome: 'no-answer' });
      return { kind: 'timeout', timeout: opts.timeout };
    }
    if (answersAfter > 0) await sleep(answersAfter, this.ended);
    this.assertLive();
    if (this.state !== 'live') await this.answer();
    this.options.onEvent({ event: 'dial-answer', target: first.value });
    for (const other of targets.slice(1)) this.options.onEvent({ event: 'dial-end', target: other.value, outcome: 'cancelled' });
    this.options.onEvent({ event: 'dial-end', target: first.value, outcome: 'hung-up' });
    return { kind: 'bridged', target: first, ms: 0 };
  }

  /**
   * A recording of nothing: it lasts as long as its children, or until the next scripted
   * key when that is a stop key, or its `maxMs` (in real time, like a pause). `<Play
   * record>` then plays it back as a `play` event naming the tag.
   */
  async record(opts: RecordOptions): Promise<Recording> {
    this.assertLive();
    this.recordings += 1;
    const name = opts.tag === undefined ? `${this.options.call}_${this.recordings}` : `${this.options.call}-${opts.tag}`;
    const stopOn = opts.stopOnDigits === '' ? {} : { stopOnDigits: opts.stopOnDigits };
    const digit = opts.during ? undefined : this.takeStopDigit(opts.stopOnDigits);
    const tag = opts.tag === undefined ? {} : { tag: opts.tag };
    this.options.onEvent({ event: 'record', name, maxMs: opts.maxMs, ...tag, ...stopOn, ...(digit === undefined ? {} : { digit }) });
    const started = Date.now();
    if (opts.during) await opts.during();
    else if (digit === undefined) await sleep(opts.maxMs, this.ended);
    this.assertLive();
    const durationSeconds = Math.floor(Math.min(Date.now() - started, opts.maxMs) / 1000);
    return { name, durationSeconds, media: { kind: 'recording', tag: opts.tag ?? name } };
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

  /**
   * The caller presses the next scripted key if the flow is listening for it; a `w` there
   * is a prompt or pause the caller lets go by without pressing anything.
   */
  private takeStopDigit(stopOn: string | undefined): string | undefined {
    const next = this.pendingDigits[0];
    if (!stopOn || next === undefined) return undefined;
    if (next === SILENCE) {
      this.pendingDigits.shift();
      return undefined;
    }
    if (!stopOn.includes(next)) return undefined;
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
