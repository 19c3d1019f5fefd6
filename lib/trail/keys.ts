// Where a call's trail lives in Redis, under QUEUE_PREFIX:
//   <prefix>:trail:call:<uuid>    the call's summary (JSON string)
//   <prefix>:trail:events:<uuid>  its timeline, one JSON line per list item
//   <prefix>:trail:calls          every call's UUID, scored by its start (epoch ms)
//   <prefix>:trail:did:<did>      the same, for one DID (the list's `did` filter)
// Every key expires CALL_TRAIL_TTL seconds after its last write; the sorted sets are
// trimmed of calls older than that each time a call starts.

export interface TrailKeys {
  summary(call: string): string;
  events(call: string): string;
  readonly calls: string;
  did(did: string): string;
}

export function trailKeys(prefix: string): TrailKeys {
  const base = `${prefix}:trail`;
  return {
    summary: (call) => `${base}:call:${call}`,
    events: (call) => `${base}:events:${call}`,
    calls: `${base}:calls`,
    did: (did) => `${base}:did:${did}`,
  };
}

/** What a trail says about its call besides its events. */
export interface TrailSummary {
  /** The call's UUID. */
  readonly call: string;
  /** The number called. */
  readonly did: string;
  /** Caller ID; empty when withheld. */
  readonly from: string;
  readonly app: { readonly uuid: string; readonly name: string };
  /** The Asterisk channel id. */
  readonly channel: string;
  /** When the call entered the application (ISO 8601). */
  readonly start: string;
  /** When its flow ended (ISO 8601); absent while the call is in progress. */
  readonly end?: string;
  /**
   * How the flow ended (hangup, end-of-document, caller-hangup, document-limit,
   * internal-error), or `no-document` when no flow ran.
   */
  readonly reason?: string;
  /** Why the channel ended, as the engine saw it ("the caller hung up", "hung up: <Hangup>"). */
  readonly detail?: string;
  /** Lines kept in the trail (the `dropped` line included). */
  readonly events?: number;
  /** Lines left out once the trail reached its cap. */
  readonly dropped?: number;
}

/** Lines kept per call before the rest are only counted (the last line says how many). */
export const DEFAULT_MAX_EVENTS = 500;

/** CALL_TRAIL_TTL's default: a day. */
export const DEFAULT_TRAIL_TTL_SECONDS = 86_400;
