// The delivering side of call events: a BullMQ worker on the `events` queue that POSTs
// each event to its app's `events_url` (executeFetch: the URL policy, the app's signing
// secret, a 2xx of any body). A failure throws, and BullMQ tries again after the
// backoff the job carries (see retry.ts) until its attempts are spent; the job then
// stays in the queue as failed (the dashboard shows it).
import os from 'node:os';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { executeFetch, type FetchEnvironment } from '../callback/execute.js';
import type { FetchSpec, SecretStore } from '../callback/types.js';
import type { UrlPolicy } from '../callback/url-policy.js';
import type { Logger } from '../flow/ports.js';
import { EVENTS_QUEUE_NAME } from '../queue/names.js';
import { settledWithin, WatchedRedis, type RedisTarget } from '../queue/redis.js';
import type { EventJobData } from './event-queue.js';
import { backoffFor, DEFAULT_EVENT_RETRY } from './retry.js';

/** How long one POST of an event may take, retries of transient failures included. */
export const DEFAULT_EVENT_REQUEST_TIMEOUT_MS = 10_000;
const CLOSE_TIMEOUT_MS = 1000;

export interface EventWorkerOptions {
  readonly connection: RedisTarget;
  /** QUEUE_PREFIX. */
  readonly prefix: string;
  readonly policy: UrlPolicy;
  readonly secrets: SecretStore;
  /** Events POSTed at once by this process. Default 50. */
  readonly concurrency?: number;
  readonly requestTimeoutMs?: number;
  /** Shown in CLIENT LIST. */
  readonly name?: string;
}

function isEventJobData(value: unknown): value is EventJobData {
  if (typeof value !== 'object' || value === null) return false;
  const data = value as Record<string, unknown>;
  return typeof data['url'] === 'string' && typeof data['event'] === 'object' && data['event'] !== null;
}

export class EventWorker {
  private readonly worker: Worker<EventJobData, { status: number }>;
  private readonly redis: WatchedRedis;
  private readonly env: FetchEnvironment;
  private readonly requestTimeoutMs: number;
  private readonly started: Promise<void>;
  private closing: Promise<void> | undefined;
  private takingJobs = false;

  constructor(
    options: EventWorkerOptions,
    private readonly logger: Logger,
  ) {
    const name = options.name ?? `${os.hostname()}:${process.pid}`;
    // 1 byte: the answer's body is not read (expect 'status').
    this.env = { policy: options.policy, secrets: options.secrets, maxBytes: 1024 };
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_EVENT_REQUEST_TIMEOUT_MS;
    this.redis = new WatchedRedis(options.connection, `${options.prefix}:${EVENTS_QUEUE_NAME}:worker:${name}`, logger);
    this.worker = new Worker<EventJobData, { status: number }>(EVENTS_QUEUE_NAME, (job) => this.deliver(job), {
      connection: this.redis.client,
      prefix: options.prefix,
      name,
      concurrency: options.concurrency ?? 50,
      autorun: false,
      settings: {
        backoffStrategy: (attemptsMade: number, _type?: string, _error?: Error, job?: { data: unknown }) => {
          const data = job?.data;
          return backoffFor(attemptsMade, isEventJobData(data) ? data.backoff : DEFAULT_EVENT_RETRY);
        },
      },
    });
    this.worker.on('error', (error: Error) => {
      if (this.redis.ready && !this.closing) logger.error({ err: error }, 'events worker error');
    });
    this.worker.on('failed', (job: Job<EventJobData> | undefined, error: Error) => {
      if (job === undefined) return;
      const last = job.attemptsMade >= (job.opts.attempts ?? 1);
      const fields = { jobId: job.id, call: job.data.event?.call, sequence: job.data.event?.sequence, url: job.data.url, attempts: job.attemptsMade, reason: error.message };
      if (last) logger.warn(fields, 'call event not delivered: attempts spent; kept as a failed job');
      else logger.debug(fields, 'call event not delivered; will try again');
    });
    this.started = this.begin();
    this.started.then(
      () => {
        this.takingJobs = true;
      },
      () => undefined,
    );
  }

  /** For /ready: "ok" while taking jobs. */
  get state(): string {
    if (this.closing) return 'stopping';
    if (!this.takingJobs) return 'starting';
    return this.worker.isRunning() ? 'ok' : 'not running';
  }

  ready(): Promise<void> {
    return this.started;
  }

  private async begin(): Promise<void> {
    this.worker.run().catch((error: unknown) => this.logger.error({ err: error }, 'events worker stopped'));
    await this.worker.waitUntilReady();
    this.logger.info({ queue: EVENTS_QUEUE_NAME, concurrency: this.worker.opts.concurrency }, 'events worker started');
  }

  /**
   * Stops taking jobs and lets the POSTs under way finish for `graceMs`; those still
   * running are handed back (their locks lapse and they run again). Resolves within
   * `graceMs` plus a second or two whatever Redis does.
   */
  close(graceMs = 5000): Promise<void> {
    this.closing ??= (async () => {
      // Forced when Redis is away: nothing could be written anyway, and a polite close waits for it.
      const force = !this.redis.ready;
      const closed = this.worker.close(force);
      if (!(await settledWithin(closed, force ? CLOSE_TIMEOUT_MS : Math.max(graceMs, CLOSE_TIMEOUT_MS)))) {
        await settledWithin(this.worker.close(true), CLOSE_TIMEOUT_MS);
        await settledWithin(this.worker.disconnect(), CLOSE_TIMEOUT_MS);
      }
      await this.redis.close(CLOSE_TIMEOUT_MS);
    })();
    return this.closing;
  }

  private async deliver(job: Job<EventJobData, { status: number }>): Promise<{ status: number }> {
    const data: unknown = job.data;
    if (!isEventJobData(data)) throw new UnrecoverableError('the event job could not be read');
    const spec: FetchSpec = {
      url: data.url,
      method: 'POST',
      body: true,
      fields: {},
      payload: data.event,
      deadline: Date.now() + this.requestTimeoutMs,
      expect: 'status',
      ...(data.signingKeyId === undefined ? {} : { signingKeyId: data.signingKeyId }),
    };
    const outcome = await executeFetch(spec, this.env, new AbortController().signal);
    if (outcome.ok) return { status: outcome.status };
    // A URL the policy refuses stays refused: no point in an hour of retries.
    if (outcome.failure.code === 'policy') throw new UnrecoverableError(outcome.failure.reason);
    throw new Error(outcome.failure.reason);
  }
}
