import type { Verb, Voice } from '../xml/index.js';
import type { CallRecordings } from './call-recordings.js';
import type { Continuation } from './outcome.js';
import type { AudioSource, Call, EventSink, FlowFetcher, Logger, Speech } from './ports.js';
import type { FlowProgress } from './progress.js';

export interface FlowOptions {
  /** Documents one call may run, the first included; past it the call is hung up. */
  readonly maxDocuments: number;
  /** Voice for speaking failure reasons (`<Error say="true">`). */
  readonly errorVoice: Voice;
}

export const DEFAULT_FLOW_OPTIONS: FlowOptions = {
  maxDocuments: 100,
  errorVoice: { lang: 'en-US', gender: 'FEMALE', type: 'Standard' },
};

/** The parts a flow runs against. */
export interface FlowDependencies {
  readonly call: Call;
  readonly fetcher: FlowFetcher;
  readonly speech: Speech;
  readonly audio: AudioSource;
  readonly events: EventSink;
  readonly log: Logger;
  /** Told the position at each top-level verb boundary (the call's saved state). */
  readonly progress?: FlowProgress;
  /** Aborted to stop the flow at the next top-level verb boundary, without hanging up (a deploy). */
  readonly handover?: AbortSignal;
}

/** What a verb handler may use. One per call; owned by the interpreter. */
export interface FlowContext extends FlowDependencies {
  readonly options: FlowOptions;
  /** Aborted when the call ends; pass it to every wait. */
  readonly signal: AbortSignal;
  /** Runs verbs in order, with the error-branch rule; used for nested sequences. */
  runSequence(verbs: readonly Verb[]): Promise<Continuation>;
  /** Answers the call unless it is already live (media verbs do this first). */
  ensureAnswered(): Promise<void>;
  /** The recordings this call stored, by tag (`<Play record>`). */
  readonly recordings: CallRecordings;
  /** Numbers this call's fetches 1, 2, 3… so each has a stable identity. */
  nextFetchStep(): number;
}
