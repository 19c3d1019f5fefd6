// The executing side: a BullMQ worker that runs each fetch job with executeFetch and
// publishes the outcome on the waiting process's reply channel (or hands it over, when
// that process is this one); it also listens for cancel requests and aborts the jobs it
// runs.
import os from 'node:os';
import { DelayedError, Worker, type Job } from 'bullmq';
import { executeFetch, type FetchEnvironment } from '../callback/index.js';
import type { FetchOutcome } from '../callback/types.js';
import type { Logger } from '../flow/ports.js';
import { RedisUnavailableError } from './errors.js';
import { isCallbackJobData, parseCancel, type CallbackJobData, type ProgressMessage, type ReplyMessage } from './messages.js';
import { localWaiters } from './local-waiters.js';
import { cancelChannel, progressChannel } from './names.js';
import { DEFAULTS, resolveLocation, type CallbackWorkerOptions } from './options.js';
import { RecentCancels } from './recent-cancels.js';
import { settledWithin, WatchedRedis } from './redis.js';

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

/** How long closing the connections may take after the grace period, whatever Redis does. */
export const CLOSE_TIMEOUT_MS = 1000;

/*
 * Lost jobs. A job this worker runs can stop being its own: Redis lost it (restarted
 * without persistence, or the waiting side removed it once its deadline had passed), or
 * its lock lapsed during a long stall and another worker took it over. BullMQ then says
 * so on every lock renewal ("could not renew lock", every 250 ms) and once more when the
 * job finishes ("Missing key … moveToFinished", "Lock mismatch …"). These are expected
 * races, not faults: the worker logs one warning per job, aborts the job's fetch, and
 * writes nothing for it (the processor throws DelayedError, BullMQ's "the processor
 * moved the job itself"): a job still in Redis is another worker's, or the stalled
 * check's, and a waiter whose job is gone finds that out by looking it up.
 */
const LOST_JOB_ERRORS = [
  /^could not renew lock for job (.+)$/,
  /^Missing key for job (.+)\. \w+$/,
  /^Missing lock for job (.+)\. \w+$/,
  /^Lock mismatch for job (.+)\. Cmd \w+ from \w+$/,
  /^Job (.+) is not in the \w+ state\. \w+$/,
];

/** The job a BullMQ error says this worker no longer holds, if that is what it says. */
export function lostJobOf(error: Error): string | undefined {
  for (const pattern of LOST_JOB_ERRORS) {
    const match = pattern.exec(error.message);
    if (match?.[1] !== undefined) return match[1];
  }
  return undefined;
}

/** Thrown by the processor for a job it gives up on: BullMQ then writes nothing for it. */
class Abandoned extends DelayedError {
  constructor(reason: string) {
    super(reason);
  }
}

/** The call a job belongs to, from its id (jobIdFor: `<call>.<step>`), for log lines. */
export function callOf(jobId: string | undefined): string | undefined {
  if (jobId === undefined) return undefined;
  const dot = jobId.lastIndexOf('.');
  if (dot <= 0) return undefined;
  try {
    return decodeURIComponent(jobId.slice(0, dot));
  } catch {
    return undefined;
  }
}

function failure(code: 'timeout' | 'connect' | 'cancelled', reason: string): FetchOutcome {
  return { ok: false, failure: { code, reason }, attempts: 0 };
}

/** A job this worker runs: what stops its fetch, and whether that was because the job was lost. */
interface RunningJob {
  readonly stop: AbortController;
  lost: boolean;
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
  /** The jobs this worker runs, each with what aborts its fetch (lost, cancelled, handed back). */
  private readonly running = new Map<string, RunningJob>();
  /** Jobs reported lost lately: each is logged once, whatever BullMQ says next. */
  private readonly lost = new RecentCancels();
  /** Aborted when close() hands the remaining jobs back. */
  private readonly handBack = new AbortController();
  private readonly started: Promise<void>;
  private closing: Promise<void> | undefined;
  private takingJobs = false;
  private failedToStart: string | undefined;

  /**
   * Creates the worker and starts it, and resolves once it takes jobs (see ready()); rejects
   * with RedisUnavailableError, the worker closed, when that takes longer than `timeoutMs`.
   */
  static async start(options: CallbackWorkerOptions, logger: Logger, timeoutMs = 5000): Promise<CallbackWorker> {
    const worker = new CallbackWorker(options, logger);
    try {
      const ready = worker.ready();
      if (!(await settledWithin(ready, timeoutMs))) {
        const cause = worker.commands.lastError ?? worker.subscriber.lastError;
        const why = cause === undefined ? `no answer within ${timeoutMs} ms` : cause.message;
        throw new RedisUnavailableError(`Redis at ${worker.commands.address} is unreachable (${why})`, { cause });
      }
      await ready;
    } catch (error) {
      await worker.close(0);
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
    // The waiting side parses the answer (documentFromOutcome): checking it here too would parse it twice.
    this.env = { policy: options.policy, secrets: options.secrets, maxBytes: options.maxBytes ?? DEFAULTS.maxBytes, checkDocuments: false };
    this.shutdownGraceMs = options.shutdownGraceMs ?? DEFAULTS.shutdownGraceMs;
    this.cancelTo = cancelChannel(prefix, queueName);
    this.commands = new WatchedRedis(connection, `${prefix}:${queueName}:worker:${name}`, logger);
    this.subscriber = new WatchedRedis(connection, `${prefix}:${queueName}:cancels:${name}`, logger);

    // One declared parameter: BullMQ then makes no AbortController per job (cancelJob); a
    // cancel message aborts the job's fetch through `running` instead.
    const processor = (job: Job<CallbackJobData, FetchOutcome>) => this.run(job);
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
      const jobId = lostJobOf(error);
      if (jobId !== undefined) this.lose(jobId, error.message);
      // Connection trouble is reported once per outage by WatchedRedis.
      else if (this.commands.ready && !this.closing) logger.error({ err: error }, 'callback worker error');
    });
    this.worker.on('lockRenewalFailed', (jobIds: string[]) => {
      for (const jobId of jobIds) this.lose(jobId, `could not renew lock for job ${jobId}`);
    });
    this.worker.on('failed', (job: Job<CallbackJobData, FetchOutcome> | undefined, error: Error) => {
      logger.warn({ jobId: job?.id, call: callOf(job?.id), err: error }, 'callback job failed');
      const data: unknown = job?.data;
      if (job?.id !== undefined && isCallbackJobData(data)) {
        this.reply(job.id, data.replyTo, failure('connect', `the callback worker failed: ${error.message}`));
      }
    });
    this.subscriber.client.on('message', (_channel: string, message: string) => {
      const cancel = parseCancel(message);
      if (cancel === undefined) return;
      this.cancels.add(cancel.jobId, cancel.until);
      this.running.get(cancel.jobId)?.stop.abort();
    });
    this.started = this.begin();
    this.started.then(
      () => {
        this.takingJobs = true;
      },
      (error: unknown) => {
        this.failedToStart = error instanceof Error ? error.message : String(error);
      },
    );
  }

  /**
   * For /ready: "ok" while taking jobs; else "starting", "stopping" or "stopped: <why>".
   */
  get state(): string {
    if (this.closing) return 'stopping';
    if (this.failedToStart !== undefined) return `stopped: ${this.failedToStart}`;
    if (!this.takingJobs) return 'starting';
    return this.worker.isRunning() ? 'ok' : 'not running';
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
   * still running after `graceMs` (default `shutdownGraceMs`) are handed back: nothing is
   * written for them, their locks lapse, and another worker takes them over within the
   * deadline (or Redis's stalled check does once Redis is back). Then closes the
   * connections. Resolves within `graceMs` plus CLOSE_TIMEOUT_MS whatever Redis does;
   * idempotent.
   */
  close(graceMs = this.shutdownGraceMs): Promise<void> {
    this.closing ??= this.shutDown(Math.max(0, graceMs));
    return this.closing;
  }

  private async shutDown(graceMs: number): Promise<void> {
    const ends = Date.now() + graceMs;
    const left = (): number => Math.max(0, ends - Date.now());
    // Takes no new job; with `true` it waits for nothing, Redis included.
    await settledWithin(this.worker.pause(true), left());
    const finished = await this.activeJobsFinished(left);
    if (!finished) {
      this.logger.warn({ jobs: this.inFlight.size }, 'handing unfinished callback jobs back to the queue');
    }
    // Forced when jobs are handed back (lock renewals stop, nothing is written for them)
    // and when Redis is away (nothing could be written anyway; a polite close would wait
    // for it). Otherwise BullMQ records the last results before the connections close.
    const force = !finished || !this.commands.ready;
    const closed = this.worker.close(force);
    if (!(await settledWithin(closed, Math.max(left(), CLOSE_TIMEOUT_MS)))) {
      this.logger.warn({ redis: this.commands.address }, 'Redis did not let the callback worker close in time; disconnecting');
      await settledWithin(this.worker.disconnect(), CLOSE_TIMEOUT_MS);
    }
    this.handBack.abort();
    for (const job of this.running.values()) job.stop.abort();
    await Promise.all([this.subscriber.close(CLOSE_TIMEOUT_MS), this.commands.close(CLOSE_TIMEOUT_MS)]);
  }

  /** True once no fetch runs; false if some still do when `left()` reaches 0. */
  private async activeJobsFinished(left: () => number): Promise<boolean> {
    while (this.inFlight.size > 0) {
      if (left() <= 0) return false;
      await settledWithin(Promise.all(this.inFlight), left());
    }
    return true;
  }

  /** A job this worker no longer holds: logged once, its fetch aborted, nothing written. */
  private lose(jobId: string, reason: string): void {
    const running = this.running.get(jobId);
    if (running !== undefined) {
      running.lost = true;
      running.stop.abort();
    }
    if (this.lost.has(jobId)) return;
    // Remembered for a minute: BullMQ's later messages about this job are not logged again.
    this.lost.add(jobId, Date.now() + 60_000);
    this.logger.warn(
      { jobId, call: callOf(jobId), reason, running: running !== undefined },
      'callback job lost (Redis no longer has it, or another worker took it over); not working on it',
    );
  }

  /**
   * The processor. The reply goes out as soon as the outcome is known, before BullMQ
   * marks the job completed (one Redis round trip less for the call); the job's stored
   * result, written just after, is what a waiter finds if the reply is lost.
   */
  private async run(job: Job<CallbackJobData, FetchOutcome>): Promise<FetchOutcome> {
    const data: unknown = job.data;
    if (!isCallbackJobData(data)) return failure('connect', 'the callback job could not be read');
    const jobId = job.id ?? '';
    // One controller per job, aborted by whatever stops it: a cancel message, lose(), or
    // the hand-back at shutdown. A cancel heard before this line is in `cancels`.
    const running: RunningJob = { stop: new AbortController(), lost: false };
    this.running.set(jobId, running);
    let outcome: FetchOutcome;
    try {
      outcome = await this.outcomeOf(jobId, data, running.stop.signal);
    } finally {
      this.running.delete(jobId);
    }
    // A job handed back at shutdown is not answered: another worker will run it. A lost
    // job is not answered either: it is not this worker's any more.
    if (this.handBack.signal.aborted) throw new Abandoned('handed back at shutdown');
    if (running.lost) throw new Abandoned('lost');
    this.reply(jobId, data.replyTo, outcome);
    return outcome;
  }

  private outcomeOf(jobId: string, data: CallbackJobData, stop: AbortSignal): Promise<FetchOutcome> {
    if (this.cancels.has(jobId)) {
      return Promise.resolve(failure('cancelled', 'the fetch was cancelled'));
    }
    const late = Date.now() - data.spec.deadline;
    if (late >= 0) {
      return Promise.resolve(failure('timeout', `the deadline had passed ${late} ms before a worker took the job`));
    }
    if (this.handBack.signal.aborted) return Promise.resolve(failure('cancelled', 'the worker is stopping'));
    const onAttempt = (attempts: number): void => this.progress(jobId, data.replyTo, attempts);
    const running = executeFetch(data.spec, { ...this.env, onAttempt }, stop);
    this.inFlight.add(running);
    void running.then(() => this.inFlight.delete(running));
    return running;
  }

  /** Tells the waiting process how many attempts the fetch has made; best effort. */
  private progress(jobId: string, replyTo: string, attempts: number): void {
    const local = localWaiters.get(replyTo);
    if (local !== undefined) {
      local.progress(jobId, attempts);
      return;
    }
    if (!this.commands.ready) return; // not queued for later: it would arrive too late to matter
    const message: ProgressMessage = { jobId, attempts };
    this.commands.client
      .publish(progressChannel(replyTo), JSON.stringify(message))
      .catch((error: unknown) => this.logger.debug({ err: error, jobId, call: callOf(jobId) }, 'callback progress not sent'));
  }

  /** Hands the outcome to a waiting side of this process, else publishes it on its reply channel. */
  private reply(jobId: string, replyTo: string, outcome: FetchOutcome): void {
    const local = localWaiters.get(replyTo);
    if (local !== undefined) {
      // The waiter's trouble is not the job's: the outcome stays stored for its look-up.
      try {
        local.reply(jobId, outcome);
      } catch (error) {
        this.logger.debug({ err: error, jobId, call: callOf(jobId) }, 'callback reply not handed over');
      }
      return;
    }
    const message: ReplyMessage = { jobId, outcome };
    // A reply that does not get through is found by the waiter's look-up.
    this.commands.client
      .publish(replyTo, JSON.stringify(message))
      .catch((error: unknown) => this.logger.debug({ err: error, jobId, call: callOf(jobId) }, 'callback reply not sent'));
  }
}
