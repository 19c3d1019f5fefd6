// Shared set-up for the queue suites: the run's Redis, a prefix per suite, in-process
// workers and waiting sides that are all closed after the suite.
import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { UrlPolicy } from '../../../lib/callback/url-policy.js';
import type { AppPayload, SecretStore } from '../../../lib/callback/types.js';
import type { CallbackRequest, Logger } from '../../../lib/flow/ports.js';
import { CallbackQueue, CallbackWorker, type CallbackQueueOptions, type CallbackWorkerOptions } from '../../../lib/queue/index.js';
import { sharedRedisUrl, uniquePrefix } from '../../support/redis.js';
import { stderrLogger } from '../../support/stderr-logger.js';
import { startWorkerProcess, type WorkerProcess } from '../../support/worker-processes.js';

export const VALID_XML = '<Response><Hangup/></Response>';
export const LOOPBACK = '127.0.0.0/8';
export const APP: AppPayload = { uuid: 'app-queue-1', name: 'Queue app', data: { plan: 'gold' } };
export const secrets: SecretStore = { get: (keyId) => (keyId === APP.uuid ? 'queue-secret' : undefined) };
/** A signal that never aborts; one per fetch, as a call has (a shared one would collect listeners). */
export function live(): AbortSignal {
  return new AbortController().signal;
}
/** Warnings and errors show in the test output; the rest stays quiet. */
export const logger: Logger = stderrLogger('error');

export function request(url: string, overrides: Partial<CallbackRequest> = {}): CallbackRequest {
  return {
    url,
    method: 'POST',
    body: false,
    fields: { call: randomUUID(), sca: APP.uuid, state: 'live', from: '+15550001', tn: '+15550100' },
    path: 'Response/Callback[0]',
    step: 1,
    ...overrides,
  };
}

/** Everything a suite opened, closed in its after-all hook. */
export class QueueSuite {
  readonly prefix: string;
  private url: string | undefined;
  private readonly closers: (() => Promise<void>)[] = [];
  private readonly queueEvents = new Map<string, Promise<QueueEvents>>();

  constructor(name: string) {
    this.prefix = uniquePrefix(name);
  }

  async redisUrl(): Promise<string> {
    this.url ??= await sharedRedisUrl();
    return this.url;
  }

  async worker(overrides: Partial<CallbackWorkerOptions> = {}): Promise<CallbackWorker> {
    const worker = await CallbackWorker.start(
      {
        connection: await this.redisUrl(),
        prefix: this.prefix,
        policy: new UrlPolicy(LOOPBACK),
        secrets,
        concurrency: 20,
        ...overrides,
      },
      logger,
    );
    this.closers.push(() => worker.close());
    return worker;
  }

  async waiter(overrides: Partial<CallbackQueueOptions> = {}): Promise<CallbackQueue> {
    const queue = new CallbackQueue({ connection: await this.redisUrl(), prefix: this.prefix, ...overrides }, logger);
    this.closers.push(() => queue.close());
    await queue.ready();
    return queue;
  }

  /** For a subclass of CallbackQueue built by the test. */
  track<T extends { close(): Promise<void> }>(closable: T): T {
    this.closers.push(() => closable.close());
    return closable;
  }

  async workerProcess(overrides: { queueName?: string; concurrency?: number; shutdownGraceMs?: number } = {}): Promise<WorkerProcess> {
    const child = await startWorkerProcess({
      connection: await this.redisUrl(),
      prefix: this.prefix,
      allow: LOOPBACK,
      secrets: { [APP.uuid]: 'queue-secret' },
      logLevel: 'error',
      ...overrides,
    });
    this.closers.push(() => child.kill());
    return child;
  }

  /** A plain BullMQ Queue on the suite's prefix, to look at jobs. */
  async inspector(queueName = 'callbacks'): Promise<Queue> {
    const client = new Redis(await this.redisUrl(), { maxRetriesPerRequest: null });
    const queue = new Queue(queueName, { connection: client, prefix: this.prefix });
    this.closers.push(async () => {
      await queue.close();
      await client.quit();
    });
    return queue;
  }

  /** BullMQ's QueueEvents on the suite's prefix, for job.waitUntilFinished in tests. */
  async events(queueName = 'callbacks'): Promise<QueueEvents> {
    let events = this.queueEvents.get(queueName);
    events ??= (async () => {
      const client = new Redis(await this.redisUrl(), { maxRetriesPerRequest: null });
      // From the stream's start: events written before the first XREAD are not missed.
      const queueEvents = new QueueEvents(queueName, { connection: client, prefix: this.prefix, lastEventId: '0' });
      this.closers.push(async () => {
        await queueEvents.close();
        client.disconnect();
      });
      await queueEvents.waitUntilReady();
      return queueEvents;
    })();
    this.queueEvents.set(queueName, events);
    return events;
  }

  /** A raw connection for admin commands (CLIENT LIST / KILL). */
  async admin(): Promise<Redis> {
    const client = new Redis(await this.redisUrl(), { maxRetriesPerRequest: null });
    this.closers.push(async () => {
      await client.quit();
    });
    return client;
  }

  async close(): Promise<void> {
    const closers = this.closers.splice(0).reverse();
    for (const close of closers) await close();
  }
}

/** Resolves when QueueEvents reports `event` for `jobId`. */
export function jobEvent(events: QueueEvents, event: 'added' | 'removed' | 'completed', jobId: string): Promise<void> {
  return new Promise((resolve) => {
    const listener = (args: { jobId: string }): void => {
      if (args.jobId !== jobId) return;
      events.off(event, listener);
      resolve();
    };
    events.on(event, listener);
  });
}

/** Milliseconds since `start` (performance.now()), rounded to 0.1 ms. */
export function since(start: number): number {
  return Math.round((performance.now() - start) * 10) / 10;
}

/** Prints a measured figure beside the test's name. */
export function report(line: string): void {
  process.stdout.write(`      ↳ ${line}\n`);
}
