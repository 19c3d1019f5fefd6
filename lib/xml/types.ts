// The typed form of an Opentact XML document (spec §1–§3).
// Every executable element keeps its `path` (e.g. `Response/Gather[1]/DTMF[0]`: the
// element's 0-based position among its parent's element children) and its source
// position, so logs, events and errors can name it.

export interface SourcePosition {
  /** 1-based line of the element's start tag. */
  readonly line: number;
  /** 1-based column of the element's `<`. */
  readonly column: number;
}

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';
export type Gender = 'FEMALE' | 'MALE';
export type VoiceType = 'Standard' | 'WaveNet';
export type CallField = 'to' | 'from' | 'call' | 'sca' | 'state';

interface ElementBase {
  readonly path: string;
  readonly position: SourcePosition;
}

/**
 * The failure branch of a verb (spec §2). `form` says where it stood in the document:
 * as the verb's own child, or as the verb's very next sibling.
 */
export interface ErrorBranch extends ElementBase {
  readonly kind: 'Error';
  readonly form: 'child' | 'sibling';
  readonly tag?: string;
  /** Speak the failure reason before the branch's verbs (`say`/`play` attribute). */
  readonly say: boolean;
  readonly verbs: readonly Verb[];
}

/** Present on every verb: the `<Error>` the parser attached to it, child form first. */
interface VerbBase extends ElementBase {
  readonly onError?: ErrorBranch;
}

export interface AnswerVerb extends VerbBase {
  readonly kind: 'Answer';
  readonly delay: number;
  readonly tag?: string;
}

export interface Voice {
  readonly lang: string;
  readonly gender: Gender;
  readonly type: VoiceType;
  readonly code?: string;
}

export interface SayVerb extends VerbBase {
  readonly kind: 'Say';
  readonly text: string;
  readonly voice: Voice;
  readonly loop: number;
}

export type PlaySource =
  | { readonly kind: 'url'; readonly url: string }
  | { readonly kind: 'recording'; readonly tag: string };

export interface PlayVerb extends VerbBase {
  readonly kind: 'Play';
  readonly source: PlaySource;
  readonly loop: number;
}

export interface PauseVerb extends VerbBase {
  readonly kind: 'Pause';
  readonly length: number;
  /** Keys that end the pause early; empty when none. */
  readonly dtmfStop: string;
}

export interface HangupVerb extends VerbBase {
  readonly kind: 'Hangup';
  readonly tag?: string;
}

/** What `<Callback>`, `<Gather url>` and `<Curl>` share: where and how to send a request. */
export interface RequestTarget {
  readonly url: string;
  readonly method: HttpMethod;
  /** true: fields (and app data) in a JSON body; false: fields in the query string. */
  readonly body: boolean;
}

export interface CallbackVerb extends VerbBase, RequestTarget {
  readonly kind: 'Callback';
  readonly timeout: number;
  readonly tag?: string;
}

export interface CallVerb extends VerbBase {
  readonly kind: 'Call';
  readonly field: CallField;
  readonly value: string;
  readonly verbs: readonly Verb[];
}

export type GatherPrompt = SayVerb | PlayVerb | PauseVerb;

export interface DtmfBranch extends ElementBase {
  readonly kind: 'DTMF';
  readonly value: string;
  readonly verbs: readonly Verb[];
}

export interface DefaultBranch extends ElementBase {
  readonly kind: 'Default';
  readonly tag?: string;
  readonly verbs: readonly Verb[];
}

export interface GatherVerb extends VerbBase {
  readonly kind: 'Gather';
  readonly dtmfLength: number;
  readonly dtmfStop: string;
  readonly timeout: number;
  readonly attempts: number;
  /** Where to send the digits (spec §3); the answer replaces the flow. */
  readonly target?: RequestTarget;
  readonly prompts: readonly GatherPrompt[];
  readonly branches: readonly DtmfBranch[];
  readonly default?: DefaultBranch;
}

export interface DialTarget extends ElementBase {
  readonly kind: 'To';
  readonly type: 'number' | 'sip';
  /** The number (digits, optional leading +) or the SIP URI, trimmed. */
  readonly value: string;
}

export interface DialVerb extends VerbBase {
  readonly kind: 'Dial';
  readonly timeout: number;
  readonly callerId?: string;
  readonly targets: readonly DialTarget[];
}

export interface RecordVerb extends VerbBase {
  readonly kind: 'Record';
  readonly tag?: string;
  readonly timeout: number;
  readonly dtmfStop: string;
  readonly asr?: string;
  readonly verbs: readonly Verb[];
}

export interface CurlVerb extends VerbBase, RequestTarget {
  readonly kind: 'Curl';
  readonly timeout: number;
}

/** The elements that execute in a sequence (children of Response, Call, DTMF, …). */
export type Verb =
  | AnswerVerb
  | SayVerb
  | PlayVerb
  | PauseVerb
  | HangupVerb
  | CallbackVerb
  | CallVerb
  | GatherVerb
  | DialVerb
  | RecordVerb
  | CurlVerb;

export type VerbKind = Verb['kind'];

export interface FlowDocument {
  readonly kind: 'Response';
  readonly path: 'Response';
  readonly verbs: readonly Verb[];
  /** Size of the source in bytes. */
  readonly size: number;
  /** The text it was parsed from: what a call's saved state keeps to resume after a restart. */
  readonly source: string;
}
