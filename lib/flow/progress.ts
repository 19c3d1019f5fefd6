// Where a call's flow stands, told at every top-level verb boundary, so that the rest of
// the call can run elsewhere: after a crash or a deploy, another process resumes it.
import type { FlowDocument } from '../xml/index.js';
import type { Recording } from './ports.js';

export interface FlowPosition {
  readonly document: FlowDocument;
  /** Documents run so far, this one included. */
  readonly documents: number;
  /** The index in `document.verbs` of the top-level verb that is starting. */
  readonly verb: number;
  /**
   * Fetch steps used before that verb. Run again, the verb's own fetch gets the same
   * step, so the same job: a callback that already finished is not fetched twice.
   */
  readonly fetchSteps: number;
  /** The call's recordings by tag (`<Play record>`). */
  readonly recordings: readonly (readonly [string, Recording])[];
}

/** Hears the position as each top-level verb starts. Never waits, never throws. */
export interface FlowProgress {
  at(position: FlowPosition): void;
}
