// What places calls and watches them: one driver per target (a real Asterisk, the fake ARI).
import type { CallObservation } from './call-outcome.js';

export interface CallPlan {
  /** The tool's sequence number; warm-up calls have negative ones. */
  readonly index: number;
  /** The caller ID, unique per call, so the callback server can tell calls apart. */
  readonly from: string;
}

export interface CallDriver {
  /** What `stasisAt` → `firstAudioAt` measures on this target, in words for the report. */
  readonly firstAudioMeasure: string;
  /** Places one call and resolves once it is over (or hung up by the tool after the call time-out); never rejects. */
  call(plan: CallPlan): Promise<CallObservation>;
  /** Channels of this run still on the target; null when it cannot tell. */
  leftovers(): Promise<number | null>;
  /** Things that make the observations less reliable (e.g. the tester's WebSocket dropped). */
  notes(): readonly string[];
  close(): Promise<void>;
}

/** The caller ID of call `index`: 1555 and seven digits, warm-up calls from 1556…. */
export function callerIdOf(index: number): string {
  return index < 0 ? `1556${String(-index).padStart(7, '0')}` : `1555${String(index).padStart(7, '0')}`;
}
