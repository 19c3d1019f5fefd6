// The Call port over one ARI channel. Every wait (playback, pause, digits) settles on the
// channel's events, on its own timer, or with CallEndedError the moment the channel goes;
// nothing outlives the call.
import { randomUUID } from 'node:crypto';
import { CallEndedError, VerbFailure } from '../flow/failure.js';
import type {
  Call,
  CallInfo,
  CallState,
  DialOptions,
  DialOutcome,
  DialTargetRef,
  DigitOptions,
  HangupRequest,
  InterruptResult,
  Logger,
  MediaRef,
  PauseOptions,
  PlayOptions,
  Recording,
  RecordOptions,
} from '../flow/ports.js';
import { Q850 } from './causes.js';
import { dialTargets, dialUnavailable, resumeDial, type BridgedDial, type DialDeps } from './dial.js';
import { AriNotFoundError, AriRequestError } from './errors.js';
import type { AriEvent, ChannelSnapshot } from './events.js';
import { mediaUri } from './media.js';
import { ChannelRecorder } from './recording.js';
import type { AriRest } from './rest.js';
import { ariVerbFailure } from './verb-failure.js';
import { waitFor } from './wait.js';

export interface AriCallOptions {
  readonly channel: ChannelSnapshot;
  /** The call's UUID, its app's UUID, caller ID and DID. */
  readonly call: string;
  readonly sca: string;
  readonly from: string;
  readonly tn: string;
  readonly rest: AriRest;
  readonly log: Logger;
  /** What `<Dial>` needs (the application, the dispatcher, the endpoint templates); absent: Dial fails. */
  readonly dial?: Omit<DialDeps, 'rest' | 'log'>;
  /** Called each time Asterisk accepts a playback of the flow's audio (not the beep). */
  readonly onAudio?: () => void;
  /** Called when the flow asks for the hang-up (before ARI is asked), with its cause. */
  readonly onHangup?: (request: HangupRequest) => void;
  /** Called once when the channel is up (answered by the flow or found up). */
  readonly onLive?: () => void;
  /** Called as each playback of the flow's audio is asked for, with its id. */
  readonly onPlayback?: (playbackId: string) => void;
  /** A `<Dial>` bridged before a restart: the flow's first Dial goes on with it if its bridge still exists. */
  readonly resumedDial?: BridgedDial;
}

type DigitListener = (digit: string) => void;

/** The beep before a recording: 1 kHz (Asterisk's indications tone syntax), for BEEP_MS. */
export const BEEP_URI = 'tone:1000';
const BEEP_MS = 250;

const ENDING_EVENTS: Readonly<Record<string, string>> = {
  StasisEnd: 'the channel left the application',
  ChannelHangupRequest: 'the caller hung up',
  ChannelDestroyed: 'the channel was destroyed',
};

export class AriCall implements Call {
  readonly channelId: string;
  private readonly controller = new AbortController();
  private readonly rest: AriRest;
  private readonly log: Logger;
  private readonly identity: Omit<CallInfo, 'state'>;
  private state: CallState;
  private digitListener: DigitListener | undefined;
  /**
   * Keys pressed after a key stopped a playback or a pause and before the next wait
   * listens: the caller typing ahead through a `<Gather>` prompt. The next collection
   * takes them first; a new playback or pause drops them.
   */
  private typeahead: string[] | undefined;
  /** Playbacks started and not finished: id → what to do when they finish. */
  private readonly playbacks = new Map<string, (state: string) => void>();
  private hangingUp = false;
  private why: string | undefined;
  private readonly dialDeps: DialDeps | undefined;
  private readonly recorder: ChannelRecorder;
  private readonly onAudio: (() => void) | undefined;
  private readonly onHangup: ((request: HangupRequest) => void) | undefined;
  private readonly onLive: (() => void) | undefined;
  private readonly onPlayback: ((playbackId: string) => void) | undefined;
  private cause: number | undefined;
  private resumedDial: BridgedDial | undefined;

  constructor(options: AriCallOptions) {
    this.channelId = options.channel.id;
    this.onAudio = options.onAudio;
    this.onHangup = options.onHangup;
    this.onLive = options.onLive;
    this.onPlayback = options.onPlayback;
    this.resumedDial = options.resumedDial;
    this.rest = options.rest;
    this.log = options.log;
    this.identity = { call: options.call, sca: options.sca, from: options.from, tn: options.tn };
    this.state = options.channel.state === 'Up' ? 'live' : 'ringing';
    this.dialDeps = options.dial === undefined ? undefined : { ...options.dial, rest: options.rest, log: options.log };
    this.recorder = new ChannelRecorder({
      channelId: this.channelId,
      call: options.call,
      ended: this.controller.signal,
      rest: this.rest,
      log: this.log,
      beep: () => this.beep(),
      listen: (listener) => this.listen(listener),
      channelGone: () => this.end('the caller hung up'),
    });
  }

  get info(): CallInfo {
    return { ...this.identity, state: this.state };
  }

  get ended(): AbortSignal {
    return this.controller.signal;
  }

  /** Why the call ended, once it has. */
  get endReason(): string | undefined {
    return this.why;
  }

  /** The Q.850 cause Asterisk gave when the channel hung up or was destroyed, if it did. */
  get hangupCause(): number | undefined {
    return this.cause;
  }

  /** Ids of the playbacks still waited for (checked after a reconnection). */
  get pendingPlaybacks(): string[] {
    return [...this.playbacks.keys()];
  }

  /** One event about this channel, from the dispatcher. */
  handle(event: AriEvent): void {
    switch (event.type) {
      case 'ChannelDtmfReceived':
        if (event.digit === undefined) return;
        if (this.digitListener) this.digitListener(event.digit);
        else this.typeahead?.push(event.digit);
        return;
      case 'PlaybackFinished':
        if (event.playback) this.finishPlayback(event.playback.id, event.playback.state);
        return;
      case 'RecordingStarted':
      case 'RecordingFinished':
      case 'RecordingFailed':
        this.recorder.handle(event);
        return;
      case 'ChannelStateChange':
        if (event.channel?.state === 'Up') this.becomeLive();
        return;
      default: {
        const reason = ENDING_EVENTS[event.type];
        if (reason !== undefined && this.cause === undefined && event.cause !== undefined) this.cause = event.cause;
        if (reason !== undefined) this.end(this.hangingUp ? 'hung up by the flow' : reason);
      }
    }
  }

  /** Ends the call on this side: every wait rejects with CallEndedError. Idempotent. */
  end(reason: string): void {
    if (this.controller.signal.aborted) return;
    this.why = reason;
    this.controller.abort();
  }

  /** A playback finished (`done`, `failed`, …), by its event or found gone after a reconnection. */
  finishPlayback(playbackId: string, state: string): void {
    this.playbacks.get(playbackId)?.(state);
  }

  async answer(): Promise<void> {
    if (this.state === 'live') return;
    await this.channelRequest(() => this.rest.answer(this.channelId));
    this.becomeLive();
  }

  private becomeLive(): void {
    if (this.state === 'live') return;
    this.state = 'live';
    this.onLive?.();
  }

  async play(media: MediaRef, opts: PlayOptions): Promise<InterruptResult> {
    const uri = mediaUri(media);
    this.typeahead = undefined;
    for (let i = 0; i < Math.max(1, opts.loop); i += 1) {
      const result = await this.playOnce(uri, opts.stopOnDigits ?? '');
      if (result.digit !== undefined) return result;
    }
    return {};
  }

  pause(ms: number, opts: PauseOptions): Promise<InterruptResult> {
    const stopOn = opts.stopOnDigits ?? '';
    this.typeahead = undefined;
    return waitFor<InterruptResult>(this.ended, (settle) => {
      const timer = setTimeout(() => settle.resolve({}), ms);
      const release = this.listen((digit) => {
        if (!stopOn.includes(digit)) return;
        this.typeahead = [];
        settle.resolve({ digit });
      });
      return () => {
        clearTimeout(timer);
        release();
      };
    });
  }

  collectDigits(opts: DigitOptions): Promise<string> {
    let digits = '';
    const typedAhead = this.typeahead ?? [];
    this.typeahead = undefined;
    return waitFor<string>(this.ended, (settle) => {
      let timer: NodeJS.Timeout | undefined;
      const take = (digit: string): void => {
        if (opts.finishOnKey.includes(digit)) {
          settle.resolve(digits);
          return;
        }
        digits += digit;
        if (digits.length >= opts.maxDigits) {
          settle.resolve(digits);
          return;
        }
        clearTimeout(timer);
        timer = setTimeout(() => settle.resolve(digits), opts.timeout);
      };
      timer = setTimeout(() => settle.resolve(digits), opts.timeout);
      for (const digit of typedAhead) take(digit);
      const release = this.listen(take);
      return () => {
        clearTimeout(timer);
        release();
      };
    });
  }

  record(opts: RecordOptions): Promise<Recording> {
    this.typeahead = undefined;
    return this.recorder.record(opts);
  }

  /** See lib/ari/dial.ts. */
  dial(targets: readonly DialTargetRef[], opts: DialOptions): Promise<DialOutcome> {
    if (this.ended.aborted) return Promise.reject(new CallEndedError());
    const deps = this.dialDeps;
    if (deps === undefined) return Promise.reject(dialUnavailable());
    const caller = { channelId: this.channelId, ended: this.ended, answer: () => this.answer() };
    const resumed = this.resumedDial;
    this.resumedDial = undefined;
    if (resumed === undefined) return dialTargets(caller, targets, opts, deps);
    return resumeDial(caller, resumed, opts, deps).then((outcome) => outcome ?? dialTargets(caller, targets, opts, deps));
  }

  async hangup(request: HangupRequest): Promise<void> {
    if (this.ended.aborted) throw new CallEndedError();
    const { cause, reason, tag } = request;
    const reasonCode = Q850[cause];
    this.log.info({ channel: this.channelId, cause, reasonCode, reason, ...(tag === undefined ? {} : { tag }) }, 'hanging up');
    this.onHangup?.(request);
    this.hangingUp = true;
    try {
      await this.rest.hangup(this.channelId, reasonCode);
    } catch (error) {
      if (error instanceof AriNotFoundError) {
        this.end('the caller hung up');
        throw new CallEndedError();
      }
      this.hangingUp = false;
      // Not logged here: every caller of hangup logs its failure.
      throw error instanceof AriRequestError ? ariVerbFailure(error) : error;
    }
    this.end(`hung up: ${reason}`);
  }

  private playOnce(uri: string, stopOn: string): Promise<InterruptResult> {
    const playbackId = randomUUID();
    return waitFor<InterruptResult>(this.ended, (settle) => {
      this.playbacks.set(playbackId, (state) => {
        if (state === 'failed') settle.reject(new VerbFailure('media', 'the audio could not be played'));
        else settle.resolve({});
      });
      let stopped = false;
      const release = this.listen((digit) => {
        // Keys that come while the playback is being stopped are the caller typing ahead.
        if (stopped) this.typeahead?.push(digit);
        if (stopped || !stopOn.includes(digit) || !this.playbacks.delete(playbackId)) return;
        stopped = true;
        this.typeahead = [];
        // Asterisk queues a playback behind one still playing: stop this one before going on.
        this.rest
          .stopPlayback(playbackId)
          .catch((error: unknown) => this.log.debug({ err: error, playbackId }, 'could not stop a playback'))
          .finally(() => settle.resolve({ digit }));
      });
      this.onPlayback?.(playbackId);
      this.rest.play(this.channelId, uri, playbackId).then(
        () => this.onAudio?.(),
        (error: unknown) => settle.reject(this.playFailure(error, uri)),
      );
      return () => {
        this.playbacks.delete(playbackId);
        release();
      };
    });
  }

  /**
   * The beep before a recording: a tone, stopped after BEEP_MS. Asterisk's own `beep=true`
   * needs its `beep` sound file, which images without sound files lack.
   */
  private beep(): Promise<void> {
    const playbackId = randomUUID();
    return waitFor<void>(this.ended, (settle) => {
      this.playbacks.set(playbackId, () => settle.resolve());
      const timer = setTimeout(() => {
        this.rest.stopPlayback(playbackId).catch((error: unknown) => {
          this.log.debug({ err: error, playbackId }, 'could not stop the beep');
          settle.resolve();
        });
      }, BEEP_MS);
      this.rest.play(this.channelId, BEEP_URI, playbackId).catch((error: unknown) => settle.reject(this.playFailure(error, BEEP_URI)));
      return () => {
        clearTimeout(timer);
        this.playbacks.delete(playbackId);
      };
    });
  }

  private playFailure(error: unknown, uri: string): unknown {
    if (error instanceof AriNotFoundError && error.channelGone) {
      this.end('the caller hung up');
      return new CallEndedError();
    }
    return this.requestFailure(error, 'playback request failed', { media: uri });
  }

  /** An ARI request that failed (not for a gone channel): a verb failure, logged; anything else as it is. */
  private requestFailure(error: unknown, message: string, fields: object = {}): unknown {
    if (!(error instanceof AriRequestError)) return error;
    this.log.warn({ channel: this.channelId, ...fields, err: error }, message);
    return ariVerbFailure(error);
  }

  /** Makes `listener` the one that hears the caller's keys; returns its release. */
  private listen(listener: DigitListener): () => void {
    this.digitListener = listener;
    return () => {
      if (this.digitListener === listener) this.digitListener = undefined;
    };
  }

  /**
   * A request on the channel: a 404 means the caller hung up, another ARI failure is a
   * VerbFailure (ari_timeout, ari_unavailable); never outlives the call.
   */
  private channelRequest<T>(run: () => Promise<T>): Promise<T> {
    return waitFor<T>(this.ended, (settle) => {
      run().then(settle.resolve, (error: unknown) => {
        if (error instanceof AriNotFoundError) {
          this.end('the caller hung up');
          settle.reject(new CallEndedError());
        } else {
          settle.reject(this.requestFailure(error, 'ARI request failed'));
        }
      });
      return () => undefined;
    });
  }
}
