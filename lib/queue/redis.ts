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

/**
 * Where Redis is, as the operator gives it (REDIS_URL and its companions). Every ioredis
 * connection of the engine is built from this by `redisOptions`, so every role honours
 * TLS, passwords and Sentinel alike.
 */
export interface RedisConnection {
  /**
   * `redis://[[user]:password@]host[:port][/db]` or `rediss://…` (TLS). With `sentinels`
   * its host and port are ignored; its credentials, database and scheme apply to the master.
   */
  readonly url?: string;
  /** REDIS_PASSWORD: the password, when it is not in the URL (it wins over the URL's). */
  readonly password?: string;
  /** REDIS_TLS_CA_FILE's PEM: the CA(s) trusted for a `rediss://` server (a self-signed one). */
  readonly tlsCa?: string;
  /** REDIS_SENTINELS: ask these sentinels where the master named `sentinelName` is. */
  readonly sentinels?: readonly { readonly host: string; readonly port: number }[];
  readonly sentinelName?: string;
  /** REDIS_SENTINEL_PASSWORD: when the sentinels themselves require one. */
  readonly sentinelPassword?: string;
}

/** A Redis URL alone, or the whole connection setting. */
export type RedisTarget = string | RedisConnection;

function connectionOf(target: RedisTarget): RedisConnection {
  return typeof target === 'string' ? { url: target } : target;
}

/**
 * The ioredis options of a connection to `target`, `extra` (timeouts, names, retry
 * strategy) added: the one place that turns the operator's setting into a connection.
 * @throws Error when the URL cannot be parsed.
 */
export function redisOptions(target: RedisTarget, extra: RedisOptions = {}): RedisOptions {
  const connection = connectionOf(target);
  const options: RedisOptions = { ...extra };
  let tls = false;
  if (connection.url !== undefined) {
    const url = new URL(connection.url);
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new Error(`not a redis:// or rediss:// URL`);
    tls = url.protocol === 'rediss:';
    if (url.hostname !== '') options.host = url.hostname.replace(/^\[|\]$/g, '');
    if (url.port !== '') options.port = Number(url.port);
    if (url.username !== '') options.username = decodeURIComponent(url.username);
    if (url.password !== '') options.password = decodeURIComponent(url.password);
    const db = url.pathname.replace(/^\//, '');
    if (db !== '') options.db = Number(db);
  }
  if (connection.password !== undefined) options.password = connection.password;
  if (tls || connection.tlsCa !== undefined) {
    options.tls = connection.tlsCa === undefined ? {} : { ca: connection.tlsCa };
  }
  if (connection.sentinels !== undefined && connection.sentinels.length > 0) {
    options.sentinels = connection.sentinels.map(({ host, port }) => ({ host, port }));
    options.name = connection.sentinelName ?? 'mymaster';
    delete options.host;
    delete options.port;
    if (connection.sentinelPassword !== undefined) options.sentinelPassword = connection.sentinelPassword;
    if (options.tls !== undefined) {
      options.enableTLSForSentinelMode = true;
      options.sentinelTLS = options.tls;
    }
  }
  return options;
}

/** A new ioredis client for `target` (see redisOptions). */
export function createRedis(target: RedisTarget, extra: RedisOptions = {}): Redis {
  return new Redis(redisOptions(target, extra));
}

/** Where Redis is, without credentials, for logs and failure reasons. */
export function redisAddress(target: RedisTarget): string {
  const connection = connectionOf(target);
  if (connection.sentinels !== undefined && connection.sentinels.length > 0) {
    return `${connection.sentinelName ?? 'mymaster'} via sentinels ${connection.sentinels.map((s) => `${s.host}:${s.port}`).join(',')}`;
  }
  if (connection.url === undefined) return '127.0.0.1:6379';
  try {
    const parsed = new URL(connection.url);
    return `${parsed.protocol === 'rediss:' ? 'rediss://' : ''}${parsed.hostname || '127.0.0.1'}:${parsed.port || '6379'}`;
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
  constructor(target: RedisTarget, name: string, logger: Logger) {
    this.address = redisAddress(target);
    this.name = name;
    this.client = new TrackedRedis(redisOptions(target, {
      maxRetriesPerRequest: null,
      connectionName: name,
      // Reconnect quickly at first: a Redis restart or failover takes about a second.
      retryStrategy: (times: number) => Math.min(100 * 2 ** times, 2000),
      disconnectTimeout: DISCONNECT_TIMEOUT_MS,
    }));
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
export async function pingRedis(target: RedisTarget, signal: AbortSignal): Promise<void> {
  const reason = await probe(target, signal);
  if (reason !== undefined) throw new RedisUnavailableError(`Redis at ${redisAddress(target)} is unreachable (${reason})`);
}

/** A connection for one check: connects when asked, never retries, queues nothing offline. */
function oneShotClient(target: RedisTarget, connectionName: string): Redis {
  return createRedis(target, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectionName,
    disconnectTimeout: DISCONNECT_TIMEOUT_MS,
  });
}

/** The reason Redis did not answer PING (one line), or undefined when it did. */
async function probe(target: RedisTarget, signal: AbortSignal): Promise<string | undefined> {
  let client: Redis;
  try {
    client = oneShotClient(target, 'opentact-ari:probe');
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
export async function waitForRedis(target: RedisTarget, options: WaitForRedisOptions): Promise<boolean> {
  const { signal, logger } = options;
  const firstDelayMs = options.firstDelayMs ?? 250;
  const maxDelayMs = options.maxDelayMs ?? 5000;
  const attemptTimeoutMs = options.attemptTimeoutMs ?? 2000;
  const address = redisAddress(target);
  const started = Date.now();
  for (let attempt = 1; !signal.aborted; attempt += 1) {
    const reason = await probe(target, AbortSignal.any([signal, AbortSignal.timeout(attemptTimeoutMs)]));
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

/** The eviction policy the queue needs; every other one lets Redis drop keys, jobs among them. */
export const REQUIRED_EVICTION_POLICY = 'noeviction';

/**
 * Reads Redis's `maxmemory-policy` (CONFIG GET) once and says what it means: anything
 * but `noeviction` is logged as an error, with why (under memory pressure Redis evicts
 * keys, and an evicted key is a lost job: a callback that never runs, a call that waits
 * for it until its deadline). A server that refuses CONFIG (managed Redis often renames
 * it) is logged at info, asking the operator to check. Never throws; resolves with the
 * policy, or undefined when it could not be read.
 */
export async function checkEvictionPolicy(target: RedisTarget, logger: Logger, timeoutMs = 2000): Promise<string | undefined> {
  const redis = redisAddress(target);
  let client: Redis | undefined;
  try {
    client = oneShotClient(target, 'opentact-ari:config-check');
    client.on('error', () => undefined);
    const connected = client;
    const read = (async () => {
      await connected.connect();
      return (await connected.config('GET', 'maxmemory-policy')) as unknown;
    })();
    read.catch(() => undefined);
    if (!(await settledWithin(read, timeoutMs))) throw new Error(`no answer within ${timeoutMs} ms`);
    const answer = await read;
    const policy = Array.isArray(answer) && typeof answer[1] === 'string' ? answer[1] : undefined;
    if (policy === undefined) throw new Error('CONFIG GET maxmemory-policy gave no value');
    if (policy !== REQUIRED_EVICTION_POLICY) {
      logger.error(
        { redis, maxmemoryPolicy: policy, required: REQUIRED_EVICTION_POLICY },
        `Redis maxmemory-policy is ${policy}, not ${REQUIRED_EVICTION_POLICY}: when Redis fills up it will evict keys, and an evicted key is a lost callback job ` +
          `(the call waits for it until its deadline, then takes its error branch). Set maxmemory-policy ${REQUIRED_EVICTION_POLICY} on this Redis`,
      );
    } else {
      logger.debug({ redis, maxmemoryPolicy: policy }, 'Redis maxmemory-policy is noeviction');
    }
    return policy;
  } catch (error) {
    logger.info(
      { redis, reason: messageOf(error) },
      `could not read Redis maxmemory-policy; make sure it is ${REQUIRED_EVICTION_POLICY} (an evicted key is a lost callback job)`,
    );
    return undefined;
  } finally {
    client?.disconnect();
  }
}

/**
 * One connection kept open for readiness checks: check() asks Redis for PING and says
 * "ok", or why not, within `timeoutMs`.
 */
export class RedisHealth {
  private readonly client: Redis;
  private lastError: Error | undefined;

  constructor(target: RedisTarget) {
    this.client = createRedis(target, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectionName: 'opentact-ari:health',
      retryStrategy: (times: number) => Math.min(100 * 2 ** times, 2000),
      disconnectTimeout: DISCONNECT_TIMEOUT_MS,
    });
    this.client.on('error', (error: Error) => {
      this.lastError = error;
    });
    this.client.on('ready', () => {
      this.lastError = undefined;
    });
  }

  /** "ok" when Redis answered PING within `timeoutMs`, else the reason, one line. */
  async check(timeoutMs = 1000): Promise<string> {
    if (this.client.status !== 'ready') {
      return this.lastError === undefined ? `not connected (${this.client.status})` : `unreachable (${this.lastError.message})`;
    }
    const ping = this.client.ping();
    ping.catch(() => undefined);
    if (!(await settledWithin(ping, timeoutMs))) return `no answer within ${timeoutMs} ms`;
    try {
      await ping;
      return 'ok';
    } catch (error) {
      return `PING failed (${messageOf(error)})`;
    }
  }

  close(): void {
    endNow(this.client);
  }
}
