// The typed configuration of the queue (parsed from the environment elsewhere).
import type { SecretStore } from '../callback/types.js';
import type { UrlPolicy } from '../callback/url-policy.js';
import { DEFAULT_MAX_DOCUMENT_BYTES } from '../xml/index.js';
import type { RedisTarget } from './redis.js';
import { DEFAULT_CONCURRENCY, DEFAULT_PREFIX, DEFAULT_QUEUE_NAME } from './names.js';

/** Where the queue lives. Every process that meets on one queue must agree on these. */
export interface QueueLocation {
  /**
   * Redis: a URL (`redis://[[user]:password@]host[:port][/db]` or `rediss://…`), or the
   * whole setting (password, TLS CA, Sentinel) as the configuration reads it.
   */
  readonly connection: RedisTarget;
  /** Key prefix of every queue key; may hold a `{hash tag}` for Redis Cluster. Default 'opentact'. */
  readonly prefix?: string;
  /** Default 'callbacks'. */
  readonly queueName?: string;
}

/** The waiting side (the process that runs calls). */
export interface CallbackQueueOptions extends QueueLocation {
  /**
   * How often a waiting fetch looks its job up in Redis in case the reply was lost, in ms.
   * Default 1000: a lost reply costs at most this much.
   */
  readonly pollIntervalMs?: number;
  /**
   * How long Redis may take to accept a job before the fetch fails with `connect`, in ms
   * (never past the fetch's deadline). An enqueue takes well under a millisecond when
   * Redis is up; default 2000.
   */
  readonly enqueueTimeoutMs?: number;
}

/** The executing side. */
export interface CallbackWorkerOptions extends QueueLocation {
  /** Jobs one process fetches at once. Default 50. */
  readonly concurrency?: number;
  /** Largest answer accepted, in bytes. Default 256 KiB. */
  readonly maxBytes?: number;
  readonly policy: UrlPolicy;
  readonly secrets: SecretStore;
  /**
   * How long close() lets active fetches finish before handing them back to the queue
   * (another worker then takes them over within the deadline); closing the connections
   * then takes at most a second more, whatever Redis does. Default 8000 ms: under the
   * 10 s a container runtime usually waits between SIGTERM and SIGKILL. `start` passes
   * SHUTDOWN_GRACE_MS.
   */
  readonly shutdownGraceMs?: number;
  /** Shown in CLIENT LIST and stored on the jobs this worker processes. */
  readonly name?: string;
}

export interface ResolvedLocation {
  readonly connection: RedisTarget;
  readonly prefix: string;
  readonly queueName: string;
}

export function resolveLocation(options: QueueLocation): ResolvedLocation {
  return {
    connection: options.connection,
    prefix: options.prefix ?? DEFAULT_PREFIX,
    queueName: options.queueName ?? DEFAULT_QUEUE_NAME,
  };
}

export const DEFAULTS = {
  pollIntervalMs: 1000,
  enqueueTimeoutMs: 2000,
  concurrency: DEFAULT_CONCURRENCY,
  maxBytes: DEFAULT_MAX_DOCUMENT_BYTES,
  shutdownGraceMs: 8000,
} as const;

/**
 * Finished jobs stay a little while, so that a waiter whose reply was lost still finds
 * the result when it looks the job up (it polls every second), and so that a retried
 * enqueue of the same call and step finds the job done instead of fetching again. Set on
 * each job, not on the Worker. Ages are in seconds.
 */
export const KEEP_COMPLETED = { age: 60, count: 10_000 } as const;
export const KEEP_FAILED = { age: 3600, count: 1000 } as const;

/** Everything both sides accept, as the configuration builds it once for every role. */
export type QueueConfig = CallbackWorkerOptions & CallbackQueueOptions;
