// The sending side of call events: each event becomes a job of the `events` queue (its
// `uuid` is the job id, so adding it twice never makes two jobs). Emitting never waits:
// events are kept in memory and added in the background, in batches. While Redis is
// away they are kept, up to a bound (10 000 by default); beyond it new events are
// dropped and counted, and the outage and what it dropped are logged once.
import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../flow/ports.js';
import { EVENTS_QUEUE_NAME } from '../queue/names.js';
import { createRedis, messageOf, redisAddress, settledWithin, type RedisTarget } from '../queue/redis.js';
import { CallEvents, type CallEvent, type CallEventsStart, type EventOutlet, type EventTarget } from './call-events.js';
import { attemptsFor, DEFAULT_EVENT_RETRY, type EventRetry } from './retry.js';

/** Events kept in memory while Redis is away, at most. */
export const DEFAULT_MAX_BUFFER = 10_000;
/** Jobs added in one call to Redis. */
const BATCH = 500;
/** How long one batch may take before it is tried again (the job ids make that safe). */
const ADD_TIMEOUT_MS = 5000;
/** Delivered events stay an hour (a re-added event then finds its job); failed ones a week. */
export const EVENTS_KEEP_COMPLETED = { age: 3600, count: 100_000 } as const;
export const EVENTS_KEEP_FAILED = { age: 7 * 86_400, count: 100_000 } as const;

/** What a job of the events queue holds. */
export interface EventJobData {
  readonly event: CallEvent;
  readonly url: string;
  readonly signingKeyId?: string;
  /** The backoff between attempts (the worker's backoff strategy reads it). */
  readonly backoff: { readonly initialMs: number; readonly maxMs: number };
}

export interface EventQueueOptions {
  readonly connection: RedisTarget;
  /** QUEUE_PREFIX. */
  readonly prefix: string;
  readonly retry?: EventRetry;
  readonly maxBuffer?: number;
  readonly log: Logger;
}

export class EventQueue implements EventOutlet {
  readonly attempts: number;
  private readonly retry: EventRetry;
  private readonly maxBuffer: number;
  private readonly client: Redis;
  private readonly queue: Queue;
  private readonly log: Logger;
  private readonly address: string;
  private pending: EventJobData[] = [];
  private flushing = false;
  private scheduled = false;
  private down = false;
  private dropped = 0;
  private droppedTotal = 0;
  private closed = false;
  private readonly idle: (() => void)[] = [];

  constructor(options: EventQueueOptions) {
    this.retry = options.retry ?? DEFAULT_EVENT_RETRY;
    this.attempts = attemptsFor(this.retry);
    this.maxBuffer = options.maxBuffer ?? DEFAULT_MAX_BUFFER;
    this.log = options.log;
    this.address = redisAddress(options.connection);
    this.client = createRedis(options.connection, {
      // Nothing waits in ioredis's own queue: this class keeps what is pending.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectionName: `${options.prefix}:events`,
      retryStrategy: (times: number) => Math.min(100 * 2 ** times, 2000),
      disconnectTimeout: 200,
    });
    this.client.on('error', (error: Error) => this.outage(error));
    this.client.on('ready', () => this.schedule());
    this.queue = new Queue(EVENTS_QUEUE_NAME, { connection: this.client, prefix: options.prefix });
    this.queue.on('error', (error: Error) => this.outage(error));
  }

  /** Events not yet in Redis. */
  get backlog(): number {
    return this.pending.length;
  }

  /** Events dropped since the start because the buffer was full. */
  get droppedEvents(): number {
    return this.droppedTotal;
  }

  /** Starts a call's events (sends `init`). */
  open(target: EventTarget, start: CallEventsStart): CallEvents {
    return new CallEvents(this, target, start);
  }

  /** Never throws, never waits. */
  send(event: CallEvent, target: EventTarget): void {
    if (this.closed) return;
    if (this.pending.length >= this.maxBuffer) {
      if (this.dropped === 0) this.log.warn({ redis: this.address, buffered: this.pending.length }, 'call events: buffer full while Redis is away; dropping events until it is back');
      this.dropped += 1;
      this.droppedTotal += 1;
      return;
    }
    const { initialMs, maxMs } = this.retry;
    this.pending.push({ event, url: target.url, ...(target.signingKeyId === undefined ? {} : { signingKeyId: target.signingKeyId }), backoff: { initialMs, maxMs } });
    this.schedule();
  }

  /** Resolves true once every event so far is in Redis, false if that takes longer than `withinMs`. */
  whenQueued(withinMs = 1000): Promise<boolean> {
    if (this.pending.length === 0 && !this.flushing && !this.scheduled) return Promise.resolve(true);
    return settledWithin(new Promise<void>((resolve) => this.idle.push(resolve)), withinMs).then((settled) => settled && this.pending.length === 0);
  }

  /** Adds what is pending (within `withinMs`), then closes; later events are ignored. */
  async close(withinMs = 1000): Promise<void> {
    await this.whenQueued(withinMs);
    this.closed = true;
    if (this.pending.length > 0) this.log.warn({ redis: this.address, events: this.pending.length }, 'call events: Redis did not take the last events before shutdown; they are lost');
    this.pending = [];
    await settledWithin(this.queue.close(), withinMs);
    if (this.client.status === 'ready') await settledWithin(this.client.quit(), withinMs);
    this.client.disconnect();
  }

  private schedule(): void {
    if (this.scheduled || this.flushing || this.pending.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private jobOptions(data: EventJobData): JobsOptions {
    return {
      jobId: data.event.uuid,
      attempts: this.attempts,
      backoff: { type: 'events', delay: data.backoff.initialMs },
      removeOnComplete: EVENTS_KEEP_COMPLETED,
      removeOnFail: EVENTS_KEEP_FAILED,
    };
  }

  private async flush(): Promise<void> {
    if (this.flushing || this.client.status !== 'ready') return; // 'ready' schedules the next try
    this.flushing = true;
    try {
      while (this.pending.length > 0 && this.client.status === 'ready') {
        const batch = this.pending.slice(0, BATCH);
        const jobs = batch.map((data) => ({ name: data.event.type, data, opts: this.jobOptions(data) }));
        let failed: unknown;
        const added = this.queue.addBulk(jobs).then(
          () => undefined,
          (error: unknown) => {
            failed = error;
          },
        );
        if (!(await settledWithin(added, ADD_TIMEOUT_MS))) failed = new Error(`Redis did not take the events within ${ADD_TIMEOUT_MS} ms`);
        if (failed !== undefined) {
          // Kept for the next try: the same job ids, so nothing is added twice.
          this.outage(failed);
          if (this.client.status === 'ready') await new Promise((resolve) => setTimeout(resolve, 500));
          continue;
        }
        this.pending.splice(0, batch.length);
        this.recovered();
      }
    } finally {
      this.flushing = false;
    }
    if (this.pending.length === 0) for (const resolve of this.idle.splice(0)) resolve();
    else if (this.client.status === 'ready') this.schedule();
  }

  private outage(error: unknown): void {
    if (this.down) return;
    this.down = true;
    this.log.warn({ redis: this.address, reason: messageOf(error), buffered: this.pending.length }, 'call events: Redis is unreachable; keeping events in memory until it is back');
  }

  private recovered(): void {
    if (!this.down && this.dropped === 0) return;
    this.log.info({ redis: this.address, dropped: this.dropped }, 'call events: queueing to Redis again');
    this.down = false;
    this.dropped = 0;
  }
}
