// The waiting side: puts a fetch on the queue and waits for its outcome, by the fetch's
// own deadline at the latest, whatever Redis and the workers do.
//
// Results come back on a pub/sub channel of this process (one SUBSCRIBE, each reply read
// once) rather than through QueueEvents, where every reader parses every event of every
// job; a worker in this same process hands them over directly (local-waiters.ts). A reply
// can be lost (the subscriber reconnecting, a worker dying between finishing and
// publishing), so a waiter also looks its job up: every `pollIntervalMs`, and at once when
// the subscriber comes back after a disconnection.
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import type { FetchOutcome, FetchSpec } from '../callback/types.js';
import type { FetchFailure, Logger } from '../flow/ports.js';
import { JobLostError, QueueFetchError, RedisUnavailableError } from './errors.js';
import { isFetchOutcome, parseProgress, parseReply, type CallbackJobData, type CancelMessage } from './messages.js';
import { callOf } from './callback-worker.js';
import { localWaiters, type LocalWaiter } from './local-waiters.js';
import { cancelChannel, JOB_NAME, progressChannel, replyChannel } from './names.js';
import { DEFAULTS, KEEP_COMPLETED, KEEP_FAILED, resolveLocation, type CallbackQueueOptions } from './options.js';
import { settledWithin, WatchedRedis } from './redis.js';

/** How long close() gives Redis, whatever it does. */
const CLOSE_TIMEOUT_MS = 1000;

interface Waiter {
  readonly jobId: string;
  /** Settles the waiter once; later calls do nothing. */
  readonly deliver: (outcome: FetchOutcome) => void;
  /** Set once Redis has the job: from then on it can be looked up. */
  enqueued: boolean;
  nextPollAt: number;
  /** Attempts the worker has reported so far (its progress messages). */
  attempts: number;
}

function failed(failure: FetchFailure, attempts = 0): FetchOutcome {
  return { ok: false, failure, attempts };
}

export class CallbackQueue {
  private readonly queue: Queue<CallbackJobData, FetchOutcome>;
  private readonly commands: WatchedRedis;
  private readonly subscriber: WatchedRedis;
  /** The channel this waiting side's replies come on (its own: a random instance id). */
  readonly replyTo: string;
  private readonly progressTo: string;
  private readonly cancelTo: string;
  private readonly pollIntervalMs: number;
  private readonly enqueueTimeoutMs: number;
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly lookingUp = new Set<string>();
  private readonly subscribed: Promise<void>;
  private pollTimer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  /** What a worker of this process calls instead of publishing to replyTo. */
  private readonly local: LocalWaiter = {
    reply: (jobId, outcome) => this.receiveReply(jobId, outcome),
    progress: (jobId, attempts) => this.noteAttempts(jobId, attempts),
  };

  constructor(
    options: CallbackQueueOptions,
    private readonly logger: Logger,
  ) {
    const { connection, prefix, queueName } = resolveLocation(options);
    const instance = randomUUID();
    this.pollIntervalMs = options.pollIntervalMs ?? DEFAULTS.pollIntervalMs;
    this.enqueueTimeoutMs = options.enqueueTimeoutMs ?? DEFAULTS.enqueueTimeoutMs;
    this.replyTo = replyChannel(prefix, queueName, instance);
    this.progressTo = progressChannel(this.replyTo);
    this.cancelTo = cancelChannel(prefix, queueName);
    this.commands = new WatchedRedis(connection, `${prefix}:${queueName}:waiter:${instance}`, logger);
    this.subscriber = new WatchedRedis(connection, `${prefix}:${queueName}:replies:${instance}`, logger);
    this.queue = new Queue<CallbackJobData, FetchOutcome>(queueName, { connection: this.commands.client, prefix });
    this.queue.on('error', (error: Error) => logger.debug({ err: error }, 'callback queue error'));
    localWaiters.add(this.replyTo, this.local);

    this.subscriber.client.on('message', (channel: string, message: string) => {
      if (channel === this.replyTo) this.handleReply(message);
      else if (channel === this.progressTo) this.handleProgress(message);
    });
    // Never rejects: until Redis answers, fetches wait for it within their deadlines.
    this.subscribed = this.subscribe().catch(() => undefined);
    let connectedOnce = false;
    this.subscriber.client.on('ready', () => {
      if (!connectedOnce) {
        connectedOnce = true;
        return;
      }
      // Replies published while the subscriber was away are lost: subscribe again (a
      // no-op if ioredis already did), then look every pending job up.
      this.subscribe().then(
        () => this.lookUpAll(),
        () => undefined,
      );
    });
  }

  /** Resolves once replies can be received; fetches wait for this themselves. */
  ready(): Promise<void> {
    return this.subscribed;
  }

  /**
   * Runs `spec` on the queue as job `jobId`. Resolves with its outcome, or with a failure
   * of its own: `timeout` at the deadline, `cancelled` soon after `signal` aborts (both
   * with the attempts the worker reported so far), `connect` when Redis cannot take the
   * job. Never rejects, never settles after the deadline; the job is cancelled when the
   * waiter gives up on it.
   */
  submit(jobId: string, spec: FetchSpec, signal: AbortSignal): Promise<FetchOutcome> {
    const started = Date.now();
    const budgetMs = Math.max(0, Math.round(spec.deadline - started));
    if (this.closing) return Promise.resolve(failed({ code: 'connect', reason: 'the callback queue is closed' }));
    if (signal.aborted) return Promise.resolve(failed({ code: 'cancelled', reason: 'the fetch was cancelled' }));
    if (budgetMs <= 0) return Promise.resolve(failed({ code: 'timeout', reason: 'no valid answer within 0 ms' }));

    return new Promise<FetchOutcome>((resolve) => {
      let settled = false;
      let added: Promise<boolean> = Promise.resolve(false);
      const timers: NodeJS.Timeout[] = [];

      const settle = (outcome: FetchOutcome, cancelJob: boolean): void => {
        if (settled) return;
        settled = true;
        for (const timer of timers) clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.unregister(waiter);
        resolve(outcome);
        if (cancelJob && !this.waiters.has(jobId)) this.cancelWhenAdded(jobId, spec.deadline, added);
      };
      const waiter: Waiter = {
        jobId,
        deliver: (outcome) => settle(outcome, false),
        enqueued: false,
        nextPollAt: Infinity,
        attempts: 0,
      };
      const onAbort = (): void =>
        settle(failed({ code: 'cancelled', reason: 'the fetch was cancelled' }, waiter.attempts), true);
      const unavailable = (): FetchOutcome => failed(this.unavailable(Date.now() - started).toFailure());

      signal.addEventListener('abort', onAbort, { once: true });
      timers.push(
        setTimeout(() => {
          const outcome = waiter.enqueued
            ? failed({ code: 'timeout', reason: `no valid answer within ${budgetMs} ms` }, waiter.attempts)
            : unavailable();
          settle(outcome, true);
        }, budgetMs),
      );
      if (this.enqueueTimeoutMs < budgetMs) {
        timers.push(
          setTimeout(() => {
            if (!waiter.enqueued) settle(unavailable(), true);
          }, this.enqueueTimeoutMs),
        );
      }
      this.register(waiter);

      added = this.subscribed
        .then(() => (settled ? false : this.enqueue(jobId, spec)))
        .then(
          (isAdded) => {
            if (isAdded) {
              waiter.enqueued = true;
              waiter.nextPollAt = Date.now() + this.pollIntervalMs;
              this.schedulePolling();
            }
            return isAdded;
          },
          (error: unknown) => {
            settle(failed(this.enqueueFailure(error).toFailure()), false);
            return false;
          },
        );
    });
  }

  /**
   * Stops waiting (pending fetches fail with `connect`) and closes the connections,
   * within about a second whatever Redis does.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      localWaiters.remove(this.replyTo, this.local);
      clearTimeout(this.pollTimer);
      const closed = failed({ code: 'connect', reason: 'the callback queue was closed' });
      for (const set of [...this.waiters.values()]) for (const waiter of [...set]) waiter.deliver(closed);
      await settledWithin(this.queue.close(), CLOSE_TIMEOUT_MS);
      await Promise.all([this.subscriber.close(CLOSE_TIMEOUT_MS), this.commands.close(CLOSE_TIMEOUT_MS)]);
    })();
    return this.closing;
  }

  /** A reply message from a worker in another process. */
  private handleReply(message: string): void {
    const reply = parseReply(message);
    if (reply === undefined) {
      this.logger.warn({ channel: this.replyTo }, 'unreadable callback reply ignored');
      return;
    }
    this.receiveReply(reply.jobId, reply.outcome);
  }

  /** A worker's reply, published or handed over in this process. Protected so a test can play a lost reply. */
  protected receiveReply(jobId: string, outcome: FetchOutcome): void {
    this.deliver(jobId, outcome);
  }

  /** A worker's count of the attempts made so far; kept for a waiter that gives up first. */
  private handleProgress(message: string): void {
    const progress = parseProgress(message);
    if (progress !== undefined) this.noteAttempts(progress.jobId, progress.attempts);
  }

  private noteAttempts(jobId: string, attempts: number): void {
    const set = this.waiters.get(jobId);
    if (!set) return;
    for (const waiter of set) waiter.attempts = Math.max(waiter.attempts, attempts);
  }

  private async subscribe(): Promise<void> {
    await this.subscriber.client.subscribe(this.replyTo, this.progressTo);
  }

  private async enqueue(jobId: string, spec: FetchSpec): Promise<boolean> {
    await this.queue.add(
      JOB_NAME,
      { spec, replyTo: this.replyTo },
      { jobId, attempts: 1, removeOnComplete: KEEP_COMPLETED, removeOnFail: KEEP_FAILED },
    );
    return true;
  }

  private unavailable(waitedMs: number): RedisUnavailableError {
    const cause = this.commands.lastError;
    return cause === undefined || this.commands.ready
      ? new RedisUnavailableError(`Redis at ${this.commands.address} did not take the callback job within ${waitedMs} ms`)
      : new RedisUnavailableError(`Redis at ${this.commands.address} is unreachable (${cause.message})`, { cause });
  }

  private enqueueFailure(error: unknown): QueueFetchError {
    const message = error instanceof Error ? error.message : String(error);
    return new RedisUnavailableError(`Redis at ${this.commands.address} refused the callback job (${message})`, {
      cause: error,
    });
  }

  private register(waiter: Waiter): void {
    let set = this.waiters.get(waiter.jobId);
    if (!set) {
      set = new Set();
      this.waiters.set(waiter.jobId, set);
    }
    set.add(waiter);
  }

  private unregister(waiter: Waiter): void {
    const set = this.waiters.get(waiter.jobId);
    if (!set) return;
    set.delete(waiter);
    if (set.size === 0) this.waiters.delete(waiter.jobId);
  }

  private deliver(jobId: string, outcome: FetchOutcome): void {
    const set = this.waiters.get(jobId);
    if (!set) return; // late, or not ours: dropped
    for (const waiter of [...set]) waiter.deliver(outcome);
  }

  /**
   * Gives up on a job: removed if waiting or delayed (or already finished); if a worker
   * runs it, that worker aborts it on the cancel message. Both are sent, in that order
   * of no importance: a worker that takes the job between the two still sees the cancel.
   */
  private cancelWhenAdded(jobId: string, until: number, added: Promise<boolean>): void {
    void added
      .then(async (isAdded) => {
        if (!isAdded || this.closing) return;
        const message: CancelMessage = { jobId, until };
        await Promise.all([this.commands.client.publish(this.cancelTo, JSON.stringify(message)), this.queue.remove(jobId)]);
      })
      .catch((error: unknown) => this.logger.debug({ err: error, jobId, call: callOf(jobId) }, 'could not cancel a callback job'));
  }

  private schedulePolling(): void {
    if (this.pollTimer !== undefined || this.closing) return;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = undefined;
      this.pollDue();
      if (this.waiters.size > 0) this.schedulePolling();
    }, this.pollIntervalMs);
  }

  private pollDue(): void {
    // Timers fire a little early or late: a waiter due within half a tick is due now.
    const now = Date.now() + this.pollIntervalMs / 2;
    for (const [jobId, set] of this.waiters) {
      const due = [...set].some((waiter) => waiter.enqueued && waiter.nextPollAt <= now);
      if (!due) continue;
      for (const waiter of set) waiter.nextPollAt = Date.now() + this.pollIntervalMs;
      this.lookUp(jobId);
    }
  }

  private lookUpAll(): void {
    for (const [jobId, set] of this.waiters) {
      if ([...set].some((waiter) => waiter.enqueued)) this.lookUp(jobId);
    }
  }

  /** Reads the job's state and result; delivers it when the job is finished or gone. */
  private lookUp(jobId: string): void {
    if (this.lookingUp.has(jobId) || this.closing) return;
    this.lookingUp.add(jobId);
    this.queue
      .getJob(jobId)
      .then((job) => {
        if (job === undefined) {
          this.deliver(jobId, failed(new JobLostError('the callback job disappeared from Redis').toFailure()));
        } else if (job.finishedOn !== undefined && isFetchOutcome(job.returnvalue)) {
          this.deliver(jobId, job.returnvalue);
        } else if (job.finishedOn !== undefined && job.failedReason) {
          const lost = new JobLostError(`the callback worker failed: ${job.failedReason}`);
          this.deliver(jobId, failed(lost.toFailure(), job.attemptsMade));
        }
      })
      .catch((error: unknown) => this.logger.debug({ err: error, jobId, call: callOf(jobId) }, 'callback job look-up failed'))
      .finally(() => this.lookingUp.delete(jobId));
  }
}
