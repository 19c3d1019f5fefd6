// The interpreter's view of the outside world. Everything here is an interface the
// interpreter owns; ARI, BullMQ, HTTP and the console simulator implement them.
import type { FlowDocument, HttpMethod, Voice } from '../xml/index.js';
import type { FailureCode } from './failure.js';

export type CallState = 'ringing' | 'live';

/** What the flow knows about the call (spec §4 request fields). */
export interface CallInfo {
  /** The call's UUID, minted when the call entered the application. */
  readonly call: string;
  /** The Call Control App's UUID. */
  readonly sca: string;
  /** Caller ID number; empty when the caller withheld it. */
  readonly from: string;
  /** The number called (the DID). */
  readonly tn: string;
  readonly state: CallState;
}

/** Something the call can play: a ready reference, or what a simulator shows as it is. */
export type MediaRef =
  /** A URI Asterisk plays as it is: `sound:…`, `sound:http…`, `recording:…`. */
  | { readonly kind: 'sound'; readonly uri: string; readonly description?: string }
  /** Speech not rendered to audio (a console call shows the text). */
  | { readonly kind: 'speech'; readonly text: string; readonly voice: Voice }
  /** Remote audio not fetched (a console call shows the URL). */
  | { readonly kind: 'url'; readonly url: string }
  /** A stored recording by its tag. */
  | { readonly kind: 'recording'; readonly tag: string };

export interface PlayOptions {
  readonly loop: number;
  /** Keys that stop the playback; empty or absent for none. */
  readonly stopOnDigits?: string;
}

export interface PauseOptions {
  readonly stopOnDigits?: string;
}

/** How a playback or a pause ended. */
export interface InterruptResult {
  /** The key that stopped it early, if one did. */
  readonly digit?: string;
}

export interface DigitOptions {
  readonly maxDigits: number;
  /** Keys that end collection early (not included in the result); empty for none. */
  readonly finishOnKey: string;
  /** Silence, in ms, after which collection ends with what it has. */
  readonly timeout: number;
}

/** Q.850 causes the flow asks for. */
export type HangupCause = 'normal_clearing' | 'unallocated_number' | 'temporary_failure' | 'no_circuit_available';

export interface HangupRequest {
  readonly cause: HangupCause;
  /** Why, for logs and events ("end of document", "<Hangup>", "document limit reached"). */
  readonly reason: string;
  readonly tag?: string;
}

/** One `<To>` of a `<Dial>`: a number or a SIP URI, as the document gives it. */
export interface DialTargetRef {
  readonly type: 'number' | 'sip';
  readonly value: string;
}

export interface DialOptions {
  /** Ring time, in ms: nobody answering by then is `no_answer`. */
  readonly timeout: number;
  /** Caller ID shown to the called parties; absent: the caller's number. */
  readonly callerId?: string;
}

/** How one dialled target ended without being bridged. */
export type DialTargetFailure = 'busy' | 'congestion' | 'no_answer' | 'failed';

/** How a `<Dial>` ended; the verb turns it into success or a VerbFailure. */
export type DialOutcome =
  /** A target answered, was bridged with the caller, and the bridge ended (the called party hung up). */
  | { readonly kind: 'bridged'; readonly target: DialTargetRef; readonly ms: number }
  /** Nobody answered within the ring time. */
  | { readonly kind: 'timeout'; readonly timeout: number }
  /** Every target ended without answering: each one's way and its Q.850 cause, when known. */
  | {
      readonly kind: 'failed';
      readonly targets: readonly { readonly target: DialTargetRef; readonly failure: DialTargetFailure; readonly cause?: number; readonly detail?: string }[];
    };

export interface RecordOptions {
  /** The `<Record tag>`: the recording's name is made of the call's UUID and it; absent, a generated name. */
  readonly tag?: string;
  /** Longest recording, in ms (`timeout`). */
  readonly maxMs: number;
  /** Keys that end the recording (`dtmf_stop`, not recorded); empty for none. */
  readonly stopOnDigits: string;
  /** A short beep first, so the caller knows when to speak (it is not in the recording). */
  readonly beep: boolean;
  /**
   * Records while this runs (the verb's children) and stops when it settles; the
   * recording's own limits (`maxMs`) still apply. Without it: until a key or `maxMs`.
   */
  readonly during?: () => Promise<void>;
}

/** A recording that was stored. */
export interface Recording {
  /** Its name where it is stored (unique to the call). */
  readonly name: string;
  /** Seconds of audio, as Asterisk reports them (0 when the caller sent no audio). */
  readonly durationSeconds: number;
  /** What `<Play record>` plays. */
  readonly media: MediaRef;
}

/**
 * One call, as the interpreter drives it. Every method rejects with `CallEndedError`
 * (see failure.ts) once the caller has hung up, and never stays pending after `ended`
 * is aborted.
 */
export interface Call {
  readonly info: CallInfo;
  /** Aborted when the call ends, whoever ended it. */
  readonly ended: AbortSignal;
  answer(): Promise<void>;
  play(media: MediaRef, opts: PlayOptions): Promise<InterruptResult>;
  pause(ms: number, opts: PauseOptions): Promise<InterruptResult>;
  collectDigits(opts: DigitOptions): Promise<string>;
  /**
   * Rings every target at once; the first to answer is bridged with the caller until one
   * of them hangs up, the others are cancelled. The caller hanging up rejects with
   * CallEndedError once every leg and the bridge are gone.
   */
  dial(targets: readonly DialTargetRef[], opts: DialOptions): Promise<DialOutcome>;
  /**
   * Records the caller; resolves once the recording is stored. Rejects with a VerbFailure
   * when nothing was stored, and with CallEndedError when the caller hangs up (the
   * recording is ended first: nothing stays live).
   */
  record(opts: RecordOptions): Promise<Recording>;
  hangup(request: HangupRequest): Promise<void>;
}

/** Renders text to something the call can play. */
export interface Speech {
  render(text: string, voice: Voice, signal: AbortSignal): Promise<MediaRef>;
  /**
   * Called with every document the call loads, before it runs: a chance to render its
   * `<Say>` texts ahead in the background. Must return at once and never throw.
   */
  prepare?(document: FlowDocument): void;
}

/** Turns `<Play>` sources into something the call can play. */
export interface AudioSource {
  fromUrl(url: string, signal: AbortSignal): Promise<MediaRef>;
  fromRecording(tag: string, signal: AbortSignal): Promise<MediaRef>;
}

/** The request fields of spec §4. */
export interface CallbackFields {
  readonly call: string;
  readonly sca: string;
  readonly state: CallState;
  readonly from: string;
  readonly tn: string;
  readonly tag?: string;
}

export interface CallbackRequest {
  readonly url: string;
  readonly method: HttpMethod;
  /** true: JSON body with the fields and the app's data; false: fields in the query. */
  readonly body: boolean;
  readonly fields: CallbackFields;
  /** Extra fields beside the standard ones (`dtmf` for `<Gather url>`). */
  readonly extra?: Readonly<Record<string, string>>;
  /** Path of the verb that asks, e.g. `Response/Callback[2]`. */
  readonly path: string;
  /** 1-based count of fetches in this call: with `fields.call` it names the fetch uniquely. */
  readonly step: number;
}

/** Why a fetch failed. Stable strings: they reach events, logs and `<Error say>`. */
export type FetchErrorCode =
  | 'timeout'
  | 'connect'
  | 'dns'
  | 'tls'
  | 'http_status'
  | 'too_large'
  | 'redirects'
  | 'parse'
  | 'policy'
  | 'cancelled';

export interface FetchFailure {
  readonly code: FetchErrorCode;
  /** Short, speakable reason: "the server answered 404", "no answer within 5000 ms". */
  readonly reason: string;
  readonly status?: number;
  /** For `parse`: where in the fetched document. */
  readonly line?: number;
  readonly column?: number;
}

/** A request that did not succeed in its budget. */
export interface FetchFailed {
  readonly ok: false;
  readonly failure: FetchFailure;
  readonly attempts: number;
}

export type FetchResult = { readonly ok: true; readonly document: FlowDocument; readonly attempts: number; readonly status: number } | FetchFailed;

/** What `<Curl>` needs to know: the server answered 2xx (the body is not read). */
export type SendResult = { readonly ok: true; readonly attempts: number; readonly status: number } | FetchFailed;

/**
 * Makes a call's requests to the customer's server: the next document (`<Callback>`,
 * `<Gather url>`, a webhook app), or a request whose answer only has to be 2xx (`<Curl>`).
 * Both resolve by `deadline` (epoch ms) at the latest, and with `cancelled` soon after
 * `signal` aborts; they never reject for HTTP reasons.
 */
export interface FlowFetcher {
  fetch(request: CallbackRequest, deadline: number, signal: AbortSignal): Promise<FetchResult>;
  send(request: CallbackRequest, deadline: number, signal: AbortSignal): Promise<SendResult>;
}

/** What the interpreter reports; the events issue turns these into `call_flow` events. */
export type FlowEvent =
  | { readonly type: 'verb-start'; readonly command: string; readonly path: string }
  | { readonly type: 'document'; readonly source: 'initial' | 'callback'; readonly count: number; readonly url?: string }
  | {
      readonly type: 'verb';
      readonly command: string;
      readonly path: string;
      readonly success: boolean;
      readonly code?: FailureCode;
      readonly reason?: string;
      readonly tag?: string;
    }
  | {
      readonly type: 'callback';
      readonly path: string;
      readonly url: string;
      readonly method: HttpMethod;
      readonly outcome: 'ok' | 'error';
      readonly code?: FetchErrorCode;
      readonly reason?: string;
      readonly status?: number;
      readonly attempts: number;
      readonly ms: number;
    }
  | {
      readonly type: 'error-branch';
      /** Path of the `<Error>` element. */
      readonly path: string;
      /** Path of the verb that failed. */
      readonly verb: string;
      readonly tag?: string;
      readonly code: FailureCode;
      readonly reason: string;
    }
  /** A `<Record>` stored a recording (its outcome for logs and `call_flow` events). */
  | { readonly type: 'recording'; readonly path: string; readonly name: string; readonly durationSeconds: number; readonly tag?: string }
  | { readonly type: 'flow-end'; readonly reason: FlowEndReason; readonly detail?: string }
  /** The flow resumed after a restart: this verb was cut off and runs again from its start. */
  | { readonly type: 'resumed'; readonly command: string; readonly path: string };

export type FlowEndReason =
  | 'hangup'
  | 'end-of-document'
  | 'caller-hangup'
  | 'document-limit'
  | 'internal-error'
  /** Stopped without hanging up, for another process to resume (a deploy). */
  | 'handover';

export interface EventSink {
  emit(event: FlowEvent): void;
}

/** The subset of a pino logger the interpreter uses. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  /**
   * A logger whose every line carries `fields` as well (pino's child()): one per call
   * (call, app, channel, did), per job (jobId, call), per verb (path).
   */
  child(fields: object): Logger;
}
