// ioredis connections for the queue. BullMQ needs `maxRetriesPerRequest: null` (a
// command waits through a reconnect instead of failing after a few tries); the waiting
// side never hangs on that, because every wait is bounded by the call's own deadline,
// and closing is bounded too (see closeWithin).
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../flow/ports.js';
import { RedisUnavailableError } from './errors.js';

/**
 * How long ioredis waits for a socket to close after disconnect() before destroying it.
 * Its default, 2 s, also runs when the socket is already gone (Redis down), and keeps a
 * process that is otherwise done alive that long.
 */
const DISCONNECT_TIMEOUT_MS = 200;

/** Where a Redis URL points, without credentials, for logs and failure reasons. */
export function redisAddress(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname || '127.0.0.1'}:${parsed.port || '6379'}`;
  } catch {
    return 'an invalid Redis URL';
  }
}

/** The message of an error, for a log field or a one-line reason (never a stack). */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Outages are reported once per Redis address and process, not once per connection: a
 * process holds up to four connections to one Redis (a worker's two, a waiting side's
 * two), and all of them fail together. The first connection to fail logs the outage; the
 * last one to come back logs the end of it.
 */
const outages = new Map<string, Set<string>>();

function markDown(address: string, connection: string): boolean {
  let down = outages.get(address);
  const first = down === undefined || down.size === 0;
  down ??= new Set();
  down.add(connection);
  outages.set(address, down);
  return first;
}

function markUp(address: string, connection: string): boolean {
  const down = outages.get(address);
  if (down === undefined || !down.delete(connection)) return false;
  if (down.size > 0) return false;
  outages.delete(address);
  return true;
}

/** The message ioredis rejects a command with when its connection is closed. */
const CONNECTION_CLOSED = 'Connection is closed.';

/**
 * Ends a client now, pending commands included. ioredis's disconnect() on a client that
 * is waiting to reconnect leaves the commands queued for the reconnection pending for
 * ever (the socket's close, which would reject them, has already happened), and so can
 * a client BullMQ has ended; whoever awaits them (BullMQ's blocking wait for a job, with its own timer) keeps the process
 * alive. They are rejected here as ioredis itself would have.
 */
function endNow(client: Redis): void {
  client.disconnect();
  const flush = (client as unknown as { flushQueue?: (error: Error) => void }).flushQueue;
  flush?.call(client, new Error(CONNECTION_CLOSED));
}

/**
 * The client handed to BullMQ, which makes a copy of it for its blocking connection: the
 * copies are kept so that closing ends them too, whatever state they are in.
 */
class TrackedRedis extends Redis {
  readonly copies = new Set<Redis>();

  override duplicate(override?: Partial<RedisOptions>): Redis {
    const copy = super.duplicate(override);
    this.copies.add(copy);
    return copy;
  }
}

/** One connection, and what went wrong with it lately. */
export class WatchedRedis {
  readonly client: TrackedRedis;
  readonly address: string;
  /** The last connection error; cleared once the connection is ready again. */
  lastError: Error | undefined;
  private readonly name: string;

  /** Opens a connection named `name` (as CLIENT LIST shows it). */
  constructor(url: string, name: string, logger: Logger) {
    this.address = redisAddress(url);
    this.name = name;
    this.client = new TrackedRedis(url, {
      maxRetriesPerRequest: null,
      connectionName: name,
      // Reconnect quickly at first: a Redis restart or failover takes about a second.
      retryStrategy: (times: number) => Math.min(100 * 2 ** times, 2000),
      disconnectTimeout: DISCONNECT_TIMEOUT_MS,
    });
    // Logged once per outage (see `outages`), not once per connection or reconnect attempt.
    this.client.on('error', (error: Error) => {
      this.lastError = error;
      if (markDown(this.address, name)) {
        logger.warn({ redis: this.address, reason: error.message }, 'Redis connection lost; reconnecting');
      }
    });
    this.client.on('ready', () => {
      this.lastError = undefined;
      if (markUp(this.address, name)) logger.info({ redis: this.address }, 'Redis connection back');
    });
  }

  get ready(): boolean {
    return this.client.status === 'ready';
  }

  /**
   * Closes politely when connected, at once otherwise (QUIT would wait for a reconnect);
   * within `withinMs` whatever Redis does.
   */
  async close(withinMs = 1000): Promise<void> {
    const { client } = this;
    markUp(this.address, this.name);
    if (client.status === 'ready') {
      await settledWithin(client.quit(), withinMs);
    }
    for (const copy of [...client.copies]) endNow(copy);
    endNow(client);
  }
}

/**
 * Resolves true when `work` settles (either way) within `ms`, false when it does not;
 * `work` is left to settle or not on its own.
 */
export async function settledWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  const gaveUp = new AbortController();
  const settled = work.then(
    () => true,
    () => true,
  );
  const expired = sleep(Math.max(0, ms), false, { signal: gaveUp.signal }).catch(() => false);
  try {
    return await Promise.race([settled, expired]);
  } finally {
    gaveUp.abort();
  }
}

/**
 * One connection attempt and a PING, for start-up checks: resolves once Redis answers,
 * rejects with RedisUnavailableError when it cannot be reached, refuses, or `signal`
 * aborts first. Never retries.
 */
export async function pingRedis(url: string, signal: AbortSignal): Promise<void> {
  const reason = await probe(url, signal);
  if (reason !== undefined) throw new RedisUnavailableError(`Redis at ${redisAddress(url)} is unreachable (${reason})`);
}

/** The reason Redis did not answer PING (one line), or undefined when it did. */
async function probe(url: string, signal: AbortSignal): Promise<string | undefined> {
  let client: Redis;
  try {
    client = new Redis(url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectionName: 'opentact-ari:probe',
      disconnectTimeout: DISCONNECT_TIMEOUT_MS,
    });
  } catch (error) {
    return messageOf(error);
  }
  let lastError: Error | undefined;
  client.on('error', (error: Error) => {
    lastError = error;
  });
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(new Error('no answer in time'));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([client.connect().then(() => client.ping()), aborted]);
    return undefined;
  } catch (error) {
    // The connection's own error says why ("connect ECONNREFUSED …"); the rejection
    // only that the connection closed.
    if (lastError !== undefined) return lastError.message;
    return signal.aborted ? 'no answer in time' : messageOf(error);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
    client.disconnect();
  }
}

export interface WaitForRedisOptions {
  /** Aborting stops the wait: waitForRedis then resolves false. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /** The delay before the first retry, doubled after each failure. Default 250 ms. */
  readonly firstDelayMs?: number;
  /** The longest delay between two attempts. Default 5000 ms. */
  readonly maxDelayMs?: number;
  /** How long one attempt may take. Default 2000 ms. */
  readonly attemptTimeoutMs?: number;
}

/**
 * Waits until Redis answers PING, retrying with a doubling delay; each failed attempt is
 * one warn line (the address, the reason, the attempt and the delay before the next).
 * Resolves true once Redis answered, false if `signal` aborted first.
 */
export async function waitForRedis(url: string, options: WaitForRedisOptions): Promise<boolean> {
  const { signal, logger } = options;
  const firstDelayMs = options.firstDelayMs ?? 250;
  const maxDelayMs = options.maxDelayMs ?? 5000;
  const attemptTimeoutMs = options.attemptTimeoutMs ?? 2000;
  const address = redisAddress(url);
  const started = Date.now();
  for (let attempt = 1; !signal.aborted; attempt += 1) {
    const reason = await probe(url, AbortSignal.any([signal, AbortSignal.timeout(attemptTimeoutMs)]));
    if (signal.aborted) return false;
    if (reason === undefined) {
      if (attempt > 1) logger.info({ redis: address, attempts: attempt, waitedMs: Date.now() - started }, 'Redis answers');
      return true;
    }
    const retryInMs = Math.min(firstDelayMs * 2 ** (attempt - 1), maxDelayMs);
    logger.warn(
      { redis: address, reason, attempt, retryInMs, waitedMs: Date.now() - started },
      attempt === 1 ? 'Redis is unreachable; waiting for it before starting' : 'Redis is still unreachable',
    );
    const waited = await sleep(retryInMs, true, { signal }).catch(() => false);
    if (!waited) return false;
  }
  return false;
}
