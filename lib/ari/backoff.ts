/** Reconnection delays: 0.5 s doubling to 30 s, each drawn in [delay/2, delay] (jitter). */
export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
}

export const RECONNECT_BACKOFF: BackoffPolicy = { initialMs: 500, maxMs: 30_000 };

/** Delay before reconnection attempt `attempt` (0-based). */
export function backoffDelay(attempt: number, policy: BackoffPolicy = RECONNECT_BACKOFF, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
