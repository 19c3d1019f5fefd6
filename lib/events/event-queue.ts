// The sending side of call events: each event becomes a job of the `events` queue (its
// `uuid` is the job id, so adding it twice never makes two jobs). Emitting never waits:
// events are kept in memory and added in the background, in batches. While Redis is
// away they are kept, up to a bound (10 000 by default); beyond it new events are
// dropped and counted, and the outage and what it dropped are logged once.
import { Queue, type JobsOptions } from 'bullmq';
import type { Logger } from '../flow/ports.js';
import { EVENTS_QUEUE_NAME } from '../queue/names.js';
import { RedisBacklog } from '../queue/redis-backlog.js';
import { settledWithin, type RedisTarget } from '../queue/redis.js';
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
  private readonly queue: Queue;
  private readonly pending: RedisBacklog<EventJobData>;

  constructor(options: EventQueueOptions) {
    this.retry = options.retry ?? DEFAULT_EVENT_RETRY;
    this.attempts = attemptsFor(this.retry);
    this.pending = new RedisBacklog<EventJobData>({
      connection: options.connection,
      connectionName: `${options.prefix}:events`,
      maxItems: options.maxBuffer ?? DEFAULT_MAX_BUFFER,
      batchSize: BATCH,
      log: options.log,
      messages: {
        full: 'call events: buffer full while Redis is away; dropping events until it is back',
        unreachable: 'call events: Redis is unreachable; keeping events in memory until it is back',
        back: 'call events: queueing to Redis again',
        lostAtClose: 'call events: Redis did not take the last events before shutdown; they are lost',
      },
      write: async (batch) => {
        const jobs = batch.map((data) => ({ name: data.event.type, data, opts: this.jobOptions(data) }));
        // Kept for the next try when it fails or takes too long: the same job ids, so nothing is added twice.
        const added = this.queue.addBulk(jobs);
        if (!(await settledWithin(added, ADD_TIMEOUT_MS))) throw new Error(`Redis did not take the events within ${ADD_TIMEOUT_MS} ms`);
        await added;
        return 'written';
      },
    });
    this.queue = new Queue(EVENTS_QUEUE_NAME, { connection: this.pending.client, prefix: options.prefix });
    this.queue.on('error', (error: Error) => this.pending.outage(error));
  }

  /** Events not yet in Redis. */
  get backlog(): number {
    return this.pending.size;
  }

  /** Events dropped since the start because the buffer was full. */
  get droppedEvents(): number {
    return this.pending.droppedTotal;
  }

  /** Starts a call's events (sends `init`). */
  open(target: EventTarget, start: CallEventsStart): CallEvents {
    return new CallEvents(this, target, start);
  }

  /** Never throws, never waits. */
  send(event: CallEvent, target: EventTarget): void {
    const { initialMs, maxMs } = this.retry;
    this.pending.push([{ event, url: target.url, ...(target.signingKeyId === undefined ? {} : { signingKeyId: target.signingKeyId }), backoff: { initialMs, maxMs } }]);
  }

  /** Resolves true once every event so far is in Redis, false if that takes longer than `withinMs`. */
  whenQueued(withinMs = 1000): Promise<boolean> {
    return this.pending.whenWritten(withinMs);
  }

  /** Adds what is pending (within `withinMs`), then closes; later events are ignored. */
  close(withinMs = 1000): Promise<void> {
    return this.pending.close(withinMs, async () => {
      await settledWithin(this.queue.close(), withinMs);
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
}
