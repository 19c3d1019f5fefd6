// The executing side: a BullMQ worker that runs each fetch job with executeFetch and
// publishes the outcome on the waiting process's reply channel; it also listens for
// cancel requests and aborts the jobs it runs.
import os from 'node:os';
import { Worker, type Job } from 'bullmq';
import { executeFetch, type FetchEnvironment } from '../callback/index.js';
import type { FetchOutcome } from '../callback/types.js';
import type { Logger } from '../flow/ports.js';
import { isCallbackJobData, parseCancel, type CallbackJobData, type ReplyMessage } from './messages.js';
import { cancelChannel } from './names.js';
import { DEFAULTS, resolveLocation, type CallbackWorkerOptions } from './options.js';
import { RecentCancels } from './recent-cancels.js';
import { WatchedRedis } from './redis.js';

/*
 * Stalled jobs (a worker process dies mid-fetch). A worker holds a lock on each job it
 * runs and renews it every LOCK_RENEW_MS; a dead process stops renewing. Every
 * STALLED_INTERVAL_MS one live worker runs BullMQ's stalled check, which marks the active
 * jobs as suspects and re-queues the suspects of the previous check whose lock has
 * expired (a renewal clears the mark). So the job of a dead worker is waiting again at
 * most LOCK_DURATION_MS + STALLED_INTERVAL_MS (3 s) after the death, and another worker
 * fetches it if the deadline still allows (budgets are 0.1–120 s, 5 s by default).
 * Renewing every 500 ms against a 2 s lock leaves a live worker 1.5 s of event-loop
 * stall before its job is wrongly taken over and fetched twice; each renewal is one
 * Redis call for all the worker's jobs, and each check one short script per interval.
 * MAX_STALLED_COUNT = 1: a job is taken over once; a job that stalls again (it may be
 * what kills its workers) fails instead of taking down the fleet one worker at a time.
 */
export const LOCK_DURATION_MS = 2000;
export const LOCK_RENEW_MS = 500;
export const STALLED_INTERVAL_MS = 1000;
export const MAX_STALLED_COUNT = 1;

function failure(code: 'timeout' | 'connect' | 'cancelled', reason: string): FetchOutcome {
  return { ok: false, failure: { code, reason }, attempts: 0 };
}

export class CallbackWorker {
  private readonly worker: Worker<CallbackJobData, FetchOutcome>;
  private readonly commands: WatchedRedis;
  private readonly subscriber: WatchedRedis;
  private readonly cancels = new RecentCancels();
  private readonly env: FetchEnvironment;
  private readonly cancelTo: string;
  private readonly shutdownGraceMs: number;
  private readonly inFlight = new Set<Promise<FetchOutcome>>();
  /** Aborted when close() hands the remaining jobs back. */
  private readonly handBack = new AbortController();
  private readonly started: Promise<void>;
  private closing: Promise<void> | undefined;

  /** Creates the worker and starts it, and resolves once it takes jobs (see ready()). */
  static async start(options: CallbackWorkerOptions, logger: Logger): Promise<CallbackWorker> {
    const worker = new CallbackWorker(options, logger);
    try {
      await worker.ready();
    } catch (error) {
      await worker.close();
      throw error;
    }
    return worker;
  }

  /**
   * Starts at once: connects, listens for cancels, then takes jobs. While Redis cannot be
   * reached it keeps trying (logged once per outage); close() works meanwhile.
   */
  constructor(
    options: CallbackWorkerOptions,
    private readonly logger: Logger,
  ) {
    const { connection, prefix, queueName } = resolveLocation(options);
    const name = options.name ?? `${os.hostname()}:${process.pid}`;
    this.env = { policy: options.policy, secrets: options.secrets, maxBytes: options.maxBytes ?? DEFAULTS.maxBytes };
    this.shutdownGraceMs = options.shutdownGraceMs ?? DEFAULTS.shutdownGraceMs;
    this.cancelTo = cancelChannel(prefix, queueName);
    this.commands = new WatchedRedis(connection, `${prefix}:${queueName}:worker:${name}`, logger);
    this.subscriber = new WatchedRedis(connection, `${prefix}:${queueName}:cancels:${name}`, logger);

    // Three declared parameters: BullMQ passes the AbortSignal that cancelJob aborts only
    // to a processor whose length is 3.
    const processor = (job: Job<CallbackJobData, FetchOutcome>, _token?: string, signal?: AbortSignal) =>
      this.run(job, signal);
    this.worker = new Worker<CallbackJobData, FetchOutcome>(queueName, processor, {
      connection: this.commands.client,
      prefix,
      name,
      concurrency: options.concurrency ?? DEFAULTS.concurrency,
      lockDuration: LOCK_DURATION_MS,
      lockRenewTime: LOCK_RENEW_MS,
      stalledInterval: STALLED_INTERVAL_MS,
      maxStalledCount: MAX_STALLED_COUNT,
      autorun: false,
    });
    this.worker.on('error', (error: Error) => {
      // Connection trouble is reported once per outage by WatchedRedis.
      if (this.commands.ready) logger.error({ err: error }, 'callback worker error');
    });
    this.worker.on('failed', (job: Job<CallbackJobData, FetchOutcome> | undefined, error: Error) => {
      logger.warn({ jobId: job?.id, err: error }, 'callback job failed');
      if (job) this.reply(job, failure('connect', `the callback worker failed: ${error.message}`));
    });
    this.subscriber.client.on('message', (_channel: string, message: string) => {
      const cancel = parseCancel(message);
      if (cancel === undefined) return;
      this.cancels.add(cancel.jobId, cancel.until);
      this.worker.cancelJob(cancel.jobId, 'cancelled by the waiting side');
    });
    this.started = this.begin();
    this.started.catch(() => undefined);
  }

  /** Resolves once connected to Redis, listening for cancels and taking jobs. */
  ready(): Promise<void> {
    return this.started;
  }

  private async begin(): Promise<void> {
    // Cancels first: a job this worker takes can be cancelled from the start.
    await this.subscriber.client.subscribe(this.cancelTo);
    if (this.closing) throw new Error('the callback worker was closed before it started');
    this.worker.run().catch((error: unknown) => this.logger.error({ err: error }, 'callback worker stopped'));
    await this.worker.waitUntilReady();
    const { name, concurrency } = this.worker.opts;
    this.logger.info({ queue: this.worker.name, worker: name, concurrency }, 'callback worker started');
  }

  /**
   * Stops taking jobs and lets the active ones finish (each ends by its deadline). Those
   * still running after `shutdownGraceMs` are handed back: their locks lapse and another
   * worker takes them over within the deadline. Then closes the connections. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    await this.worker.pause(true).catch(() => undefined);
    const finished = await this.activeJobsFinished(this.shutdownGraceMs);
    if (!finished) {
      this.logger.warn({ jobs: this.inFlight.size }, 'handing unfinished callback jobs back to the queue');
    }
    // Forced: lock renewals stop, and nothing is written for the unfinished jobs, whose
    // fetches are then aborted here.
    await this.worker.close(!finished).catch(() => undefined);
    this.handBack.abort();
    await Promise.all([this.subscriber.close(), this.commands.close()]);
  }

  private async activeJobsFinished(graceMs: number): Promise<boolean> {
    const deadline = Date.now() + graceMs;
    while (this.inFlight.size > 0) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, left);
      });
      await Promise.race([Promise.all(this.inFlight), expired]);
      clearTimeout(timer);
    }
    return true;
  }

  /**
   * The processor. The reply goes out as soon as the outcome is known, before BullMQ
   * marks the job completed (one Redis round trip less for the call); the job's stored
   * result, written just after, is what a waiter finds if the reply is lost.
   */
  private async run(job: Job<CallbackJobData, FetchOutcome>, signal: AbortSignal | undefined): Promise<FetchOutcome> {
    const data: unknown = job.data;
    if (!isCallbackJobData(data)) return failure('connect', 'the callback job could not be read');
    const outcome = await this.outcomeOf(job.id, data, signal);
    // A job handed back at shutdown is not answered: another worker will run it.
    if (!this.handBack.signal.aborted) this.reply(job, outcome);
    return outcome;
  }

  private outcomeOf(jobId: string | undefined, data: CallbackJobData, signal: AbortSignal | undefined): Promise<FetchOutcome> {
    if (jobId !== undefined && this.cancels.has(jobId)) {
      return Promise.resolve(failure('cancelled', 'the fetch was cancelled'));
    }
    const late = Date.now() - data.spec.deadline;
    if (late >= 0) {
      return Promise.resolve(failure('timeout', `the deadline had passed ${late} ms before a worker took the job`));
    }
    const stop = signal === undefined ? this.handBack.signal : AbortSignal.any([signal, this.handBack.signal]);
    const running = executeFetch(data.spec, this.env, stop);
    this.inFlight.add(running);
    void running.then(() => this.inFlight.delete(running));
    return running;
  }

  private reply(job: Job<CallbackJobData, FetchOutcome>, outcome: FetchOutcome): void {
    const data: unknown = job.data;
    if (job.id === undefined || !isCallbackJobData(data)) return;
    const message: ReplyMessage = { jobId: job.id, outcome };
    // A reply that does not get through is found by the waiter's look-up.
    this.commands.client
      .publish(data.replyTo, JSON.stringify(message))
      .catch((error: unknown) => this.logger.debug({ err: error, jobId: job.id }, 'callback reply not sent'));
  }
}
