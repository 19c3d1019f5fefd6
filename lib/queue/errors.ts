// Failures of the queue itself (Redis, lost jobs), with the stable codes of FetchErrorCode
// so that they reach the flow exactly like HTTP failures do.
import type { FetchErrorCode, FetchFailure } from '../flow/ports.js';

export class QueueFetchError extends Error {
  readonly code: FetchErrorCode;
  /** Short and speakable, like every FetchFailure reason. */
  readonly reason: string;

  constructor(code: FetchErrorCode, reason: string, options?: { cause?: unknown }) {
    super(reason, options);
    this.name = 'QueueFetchError';
    this.code = code;
    this.reason = reason;
  }

  toFailure(): FetchFailure {
    return { code: this.code, reason: this.reason };
  }
}

/** Redis could not be reached, or did not take the job in time. */
export class RedisUnavailableError extends QueueFetchError {
  constructor(reason: string, options?: { cause?: unknown }) {
    super('connect', reason, options);
    this.name = 'RedisUnavailableError';
  }
}

/** The job is gone from Redis, or BullMQ gave up on it (it stalled too often). */
export class JobLostError extends QueueFetchError {
  constructor(reason: string, options?: { cause?: unknown }) {
    super('connect', reason, options);
    this.name = 'JobLostError';
  }
}
