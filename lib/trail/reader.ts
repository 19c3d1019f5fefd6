// Reads the trails the stasis role writes (lib/trail/writer.ts): one call's summary and
// lines, and the list of recent calls, newest first.
import type { Redis } from 'ioredis';
import type { TimelineLine } from '../simulator/timeline.js';
import { createRedis, settledWithin, type RedisTarget } from '../queue/redis.js';
import { trailKeys, type TrailKeys, type TrailSummary } from './keys.js';

export interface CallTrailRecord {
  readonly call: TrailSummary;
  readonly events: readonly TimelineLine[];
}

export interface ListQuery {
  /** At most this many calls. */
  readonly limit: number;
  /** Only calls to this number. */
  readonly did?: string;
  /** Only calls that started at or after this time (epoch ms). */
  readonly from?: number;
}

export interface TrailReaderOptions {
  readonly connection: RedisTarget;
  /** QUEUE_PREFIX. */
  readonly prefix: string;
  /** How long a read may wait for Redis before it fails. */
  readonly timeoutMs?: number;
}

export class TrailUnavailableError extends Error {
  readonly code = 'trail_unavailable';
}

/** Reads trails on one Redis connection of its own. */
export class TrailReader {
  private readonly keys: TrailKeys;
  private readonly client: Redis;
  private readonly timeoutMs: number;
  private lastError: Error | undefined;

  constructor(options: TrailReaderOptions) {
    this.keys = trailKeys(options.prefix);
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.client = createRedis(options.connection, {
      maxRetriesPerRequest: 1,
      connectionName: `${options.prefix}:trail-reader`,
      retryStrategy: (times: number) => Math.min(100 * 2 ** times, 2000),
      disconnectTimeout: 200,
    });
    this.client.on('error', (error: Error) => {
      this.lastError = error;
    });
  }

  /** A call's summary and lines; undefined when Redis has no trail for it (unknown or expired). */
  async get(call: string): Promise<CallTrailRecord | undefined> {
    const [summary, lines] = await this.bounded(
      Promise.all([this.client.get(this.keys.summary(call)), this.client.lrange(this.keys.events(call), 0, -1)]),
    );
    if (summary === null) return undefined;
    return { call: JSON.parse(summary) as TrailSummary, events: lines.map((line) => JSON.parse(line) as TimelineLine) };
  }

  /** Recent calls' summaries, newest first. */
  async list(query: ListQuery): Promise<TrailSummary[]> {
    const index = query.did === undefined ? this.keys.calls : this.keys.did(query.did);
    const min = query.from === undefined ? '-inf' : String(query.from);
    const calls = await this.bounded(this.client.zrevrangebyscore(index, '+inf', min, 'LIMIT', 0, query.limit));
    if (calls.length === 0) return [];
    const summaries = await this.bounded(this.client.mget(calls.map((call) => this.keys.summary(call))));
    // A summary that expired before its index entry was trimmed is left out.
    return summaries.filter((summary): summary is string => summary !== null).map((summary) => JSON.parse(summary) as TrailSummary);
  }

  async close(withinMs = 1000): Promise<void> {
    if (this.client.status === 'ready') await settledWithin(this.client.quit(), withinMs);
    this.client.disconnect();
  }

  private async bounded<T>(work: Promise<T>): Promise<T> {
    work.catch(() => undefined);
    if (!(await settledWithin(work, this.timeoutMs))) {
      const why = this.lastError === undefined ? `no answer within ${this.timeoutMs} ms` : this.lastError.message;
      throw new TrailUnavailableError(`Redis did not answer (${why})`);
    }
    try {
      return await work;
    } catch (error) {
      throw new TrailUnavailableError(`Redis did not answer (${error instanceof Error ? error.message : String(error)})`);
    }
  }
}
