// Small value formats Asterisk uses on the ARI wire.

/**
 * Asterisk's JSON time format (ast_json_timeval): local time with milliseconds and a
 * numeric zone, e.g. `2026-11-24T15:00:00.000+0000`. The fake always writes UTC, as an
 * Asterisk running with TZ=UTC (the Docker image) does.
 */
export function asteriskTime(date: Date = new Date()): string {
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  return (
    `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}` +
    `T${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}` +
    `.${pad(date.getUTCMilliseconds(), 3)}+0000`
  );
}

/**
 * Text of a Q.850 hangup cause as ast_cause2str gives it (main/channel.c `causes[]`),
 * for the causes a call flow meets. Unknown codes give "Unknown", as Asterisk does.
 */
const CAUSE_TEXT: Readonly<Record<number, string>> = {
  0: 'Unknown',
  1: 'Unallocated (unassigned) number',
  2: 'No route to specified transmit network',
  3: 'No route to destination',
  16: 'Normal Clearing',
  17: 'User busy',
  18: 'No user responding',
  19: 'User alerting, no answer',
  21: 'Call Rejected',
  22: 'Number changed',
  26: 'Answered elsewhere',
  27: 'Destination out of order',
  28: 'Invalid number format',
  29: 'Facility rejected',
  31: 'Normal, unspecified',
  34: 'Circuit/channel congestion',
  38: 'Network out of order',
  41: 'Temporary failure',
  42: 'Switching equipment congestion',
  44: 'Requested channel not available',
  58: 'Bearer capability not available',
  127: 'Interworking, unspecified',
};

export function causeText(cause: number): string {
  return CAUSE_TEXT[cause] ?? 'Unknown';
}

/** Q.850 cause codes used by name in the fake. */
export const CAUSE = {
  NORMAL_CLEARING: 16,
  USER_BUSY: 17,
  NO_USER_RESPONSE: 18,
  NO_ANSWER: 19,
  CALL_REJECTED: 21,
  NORMAL_UNSPECIFIED: 31,
  CONGESTION: 34,
} as const;

/**
 * DELETE /channels/{id}?reason=… → cause, as resource_channels.c
 * convert_reason_to_hangup_code maps them; undefined for an unknown reason (→ 400).
 */
export function hangupReasonToCause(reason: string): number | undefined {
  const map: Readonly<Record<string, number>> = {
    normal: 16,
    busy: 17,
    congestion: 34,
    no_answer: 19,
    timeout: 18,
    rejected: 21,
    unallocated: 1,
    normal_unspecified: 31,
    number_incomplete: 28,
    codec_mismatch: 58,
    interworking: 127,
    failure: 38,
    answered_elsewhere: 26,
  };
  return Object.hasOwn(map, reason) ? map[reason] : undefined;
}

/**
 * The `cause` Asterisk puts in ChannelHangupRequest when ARI hangs a channel up:
 * ast_softhangup(chan, AST_SOFTHANGUP_EXPLICIT) publishes {"cause": <softhangup flag>,
 * "soft": true}, and AST_SOFTHANGUP_EXPLICIT is (1 << 5). The Q.850 cause chosen by
 * reason/reason_code goes to the channel's hangupcause and shows in ChannelDestroyed.
 */
export const AST_SOFTHANGUP_EXPLICIT = 32;

/** A random RFC 4122 v4 UUID, as Asterisk generates for playback ids. */
export function uuid(): string {
  return globalThis.crypto.randomUUID();
}
