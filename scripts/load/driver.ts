// What places calls and watches them: one driver per target (a real Asterisk, the fake ARI).
import type { CallObservation } from './call-outcome.js';
import type { Distribution } from './stats.js';

export interface CallPlan {
  /** The tool's sequence number; warm-up calls have negative ones. */
  readonly index: number;
}

/** How the callers' side of a real Asterisk kept up (both in ms). */
export interface CallerSideFigures {
  /** The ARI requests that place a call, from sent to answered, by request (create, subscription, dial). */
  readonly requestMs: Readonly<Record<string, Distribution>>;
  /** How late the tester got each event: its arrival minus Asterisk's timestamp. */
  readonly eventLagMs: Distribution;
}

export interface CallDriver {
  /** What `stasisAt` → `firstAudioAt` measures on this target, in words for the report. */
  readonly firstAudioMeasure: string;
  /**
   * Places one call now, with a caller ID unique in the run, and resolves once it is over
   * (or hung up by the tool after the call time-out); never rejects.
   */
  call(plan: CallPlan): Promise<CallObservation>;
  /** How the callers' side kept up; null when there is nothing to say (the fake's child). */
  callerSide(): CallerSideFigures | null;
  /** Channels of this run still on the target; null when it cannot tell. */
  leftovers(): Promise<number | null>;
  /** Things that make the observations less reliable (e.g. the tester's WebSocket dropped). */
  notes(): readonly string[];
  close(): Promise<void>;
}
