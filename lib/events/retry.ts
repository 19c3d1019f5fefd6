// How long an event is retried: exponential backoff from `initialMs`, doubling up to
// `maxMs`, for as many attempts as it takes for the waits to add up to `retryForMs`.

export interface EventRetry {
  /** EVENTS_RETRY_FOR_MS: the waits between attempts add up to at least this. Default 1 hour. */
  readonly retryForMs: number;
  /** The first wait, doubled after each failure. Default 1 s. */
  readonly initialMs: number;
  /** The longest wait. Default 5 minutes. */
  readonly maxMs: number;
}

export const DEFAULT_EVENT_RETRY: EventRetry = { retryForMs: 3_600_000, initialMs: 1000, maxMs: 300_000 };

/** The wait before attempt `attemptsMade + 1` (attemptsMade ≥ 1). */
export function backoffFor(attemptsMade: number, retry: Pick<EventRetry, 'initialMs' | 'maxMs'>): number {
  const exponent = Math.min(Math.max(0, attemptsMade - 1), 40);
  return Math.min(retry.maxMs, retry.initialMs * 2 ** exponent);
}

/** Attempts (BullMQ `attempts`) whose waits add up to at least `retryForMs`. */
export function attemptsFor(retry: EventRetry): number {
  let attempts = 1;
  let waited = 0;
  while (waited < retry.retryForMs && attempts < 100_000) {
    waited += Math.max(1, backoffFor(attempts, retry));
    attempts += 1;
  }
  return attempts;
}
