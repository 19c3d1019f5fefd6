// When to try again inside a fetch's budget (spec §4). Pure arithmetic on epoch ms: no
// timers, no I/O, randomness injected.

export const RETRY = {
  /** First backoff ceiling. */
  baseMs: 100,
  factor: 2,
  /** No backoff ceiling grows past this. */
  capMs: 2000,
  /** No attempt starts with less than this left before the deadline: it could not finish. */
  minAttemptMs: 50,
} as const;

export type RetryDecision =
  | { readonly retry: true; readonly waitMs: number }
  /** `deadline`: no time left for another attempt. `retry_after`: the server asked for a wait that does not fit. */
  | { readonly retry: false; readonly why: 'deadline' }
  | { readonly retry: false; readonly why: 'retry_after'; readonly retryAfterMs: number };

export interface RetryInput {
  /** Attempts made so far (1 after the first). */
  readonly attempt: number;
  readonly now: number;
  readonly deadline: number;
  /** The `Retry-After` header of the last answer, if it had one. */
  readonly retryAfter?: string;
  /** A number in [0, 1); defaults to Math.random. */
  readonly random?: () => number;
}

/** Whether an attempt started at `now` has time to do something useful. */
export function hasTimeForAttempt(now: number, deadline: number): boolean {
  return deadline - now >= RETRY.minAttemptMs;
}

/**
 * `Retry-After` as a delay from `now` in ms: delta-seconds or an HTTP date (a date in the
 * past means no wait). Undefined when absent or unreadable, and then backoff applies.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Every HTTP date form starts with the day's name; this keeps Date.parse's leniency out.
  if (!/^[a-z]{3}/i.test(text)) return undefined;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Full jitter: a random wait between 0 and min(cap, base · factor^(attempt−1)). */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(RETRY.capMs, RETRY.baseMs * RETRY.factor ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

export function planRetry({ attempt, now, deadline, retryAfter, random }: RetryInput): RetryDecision {
  const latestStart = deadline - RETRY.minAttemptMs;
  if (now > latestStart) return { retry: false, why: 'deadline' };
  // A backoff that would overshoot is shortened: a late attempt beats none.
  const backoff = Math.min(backoffMs(attempt, random), latestStart - now);
  const retryAfterMs = parseRetryAfter(retryAfter, now);
  if (retryAfterMs === undefined) return { retry: true, waitMs: backoff };
  if (now + retryAfterMs > latestStart) return { retry: false, why: 'retry_after', retryAfterMs };
  return { retry: true, waitMs: Math.max(retryAfterMs, backoff) };
}
