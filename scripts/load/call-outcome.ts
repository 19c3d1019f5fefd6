// What the caller's side saw of one call, and how the load tool classifies it: completed
// (answered, audio heard, ended with normal clearing), refused (hung up before the answer
// with a cause that says "not now": the carrier would try another route) or failed, each
// with a reason. Both drivers (real Asterisk, fake ARI) report the same observation.

/** One call as the caller's side observed it. Times are epoch ms. */
export interface CallObservation {
  /** The tool's sequence number of the call (0-based, warm-up calls excluded). */
  readonly index: number;
  /** Its caller ID, unique in the run: the callback server knows the call by it. */
  readonly from: string;
  /** When the tool placed the call (on Asterisk: sent the dial). */
  readonly placedAt: number;
  /**
   * When the engine's channel entered Stasis: on Asterisk its `ChannelDialplan` event for
   * the Stasis application, stamped by Asterisk; on the fake ARI the StasisStart sent.
   */
  readonly stasisAt?: number;
  /** When the engine's channel went Up (the engine answered). */
  readonly answeredAt?: number;
  /** When the first playback started on the engine's channel. */
  readonly firstAudioAt?: number;
  /** Playbacks that started and did not end `failed`. */
  readonly playbacksHeard: number;
  /** Playbacks that ended `failed` (e.g. media Asterisk could not fetch). */
  readonly playbacksFailed: number;
  /** When the last playback finished, whatever its state. */
  readonly lastAudioEndAt?: number;
  /** When the engine's channel was destroyed, and its Q.850 cause. */
  readonly endedAt?: number;
  readonly cause?: number;
  /** The call could not be placed (the ARI request that creates it failed): why. */
  readonly notPlaced?: string;
  /** The call had not ended `--call-timeout` ms after it was placed: the tool hung up. */
  readonly timedOut?: boolean;
}

export type Outcome = 'completed' | 'failed' | 'refused';

export interface Classified {
  readonly outcome: Outcome;
  /** Why, for failed and refused calls: e.g. `no audio (cause 16)`, `cause 34 (no circuit available)`. */
  readonly reason?: string;
}

/** Q.850 cause names, for reasons a person reads. */
const CAUSE_NAMES: Readonly<Record<number, string>> = {
  0: 'unknown',
  1: 'unallocated number',
  16: 'normal clearing',
  17: 'user busy',
  18: 'no user responding',
  19: 'no answer',
  21: 'call rejected',
  27: 'destination out of order',
  31: 'normal, unspecified',
  34: 'no circuit available',
  38: 'network out of order',
  41: 'temporary failure',
  42: 'switching equipment congestion',
  44: 'requested channel not available',
  47: 'resource unavailable',
};

/**
 * Causes with which a call hung up before the answer counts as refused: the system said
 * "not now" (overload, drain, no engine connected: the dialplan's Hangup(34)), which a
 * carrier takes as a reason to try another route.
 */
export const REFUSAL_CAUSES: ReadonlySet<number> = new Set([21, 34, 38, 41, 42, 44, 47]);

export const NORMAL_CLEARING = 16;

export function causeText(cause: number | undefined): string {
  if (cause === undefined) return 'cause unknown';
  const name = CAUSE_NAMES[cause];
  return name === undefined ? `cause ${cause}` : `cause ${cause} (${name})`;
}

export function classify(call: CallObservation): Classified {
  if (call.notPlaced !== undefined) return { outcome: 'failed', reason: `not placed: ${call.notPlaced}` };
  const heard = call.playbacksHeard > 0;
  if (call.timedOut === true) return { outcome: 'failed', reason: heard ? 'timed out after audio' : 'timed out without audio' };
  if (call.answeredAt === undefined) {
    if (call.cause !== undefined && REFUSAL_CAUSES.has(call.cause)) return { outcome: 'refused', reason: causeText(call.cause) };
    return { outcome: 'failed', reason: `not answered, ${causeText(call.cause)}` };
  }
  if (!heard) {
    const failedPlays = call.playbacksFailed > 0 ? `, ${call.playbacksFailed} playback(s) failed` : '';
    return { outcome: 'failed', reason: `no audio${failedPlays}, ${causeText(call.cause)}` };
  }
  if (call.cause !== NORMAL_CLEARING) return { outcome: 'failed', reason: `ended with ${causeText(call.cause)}` };
  return { outcome: 'completed' };
}
