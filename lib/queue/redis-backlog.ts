// Things to write to Redis without ever making the writer wait: kept in memory and written
// in the background, in batches, on a connection of their own that queues nothing itself.
// While Redis is away they are kept, up to a bound; beyond it new ones are dropped and
// counted. The outage, the overflow and the recovery are each logged once. The call trail
// and the call events both write this way.
import type { Redis } from 'ioredis';
import type { Logger } from '../flow/ports.js';
import { createRedis, messageOf, redisAddress, settledWithin, type RedisTarget } from './redis.js';

/**
 * How a batch went: `written`; `kept` (it did not reach Redis: tried again once Redis is
 * back, or after a short pause if the connection still looks up); `refused` (Redis
 * answered with an error: dropped, the writer logs it).
 */
export type BatchOutcome = 'written' | 'kept' | 'refused';

export interface RedisBacklogOptions<T> {
  readonly connection: RedisTarget;
  readonly connectionName: string;
  /** Items kept in memory while Redis is away, at most. */
  readonly maxItems: number;
  readonly batchSize: number;
  readonly log: Logger;
  /** The log lines, each said once per outage. */
  readonly messages: { readonly full: string; readonly unreachable: string; readonly back: string; readonly lostAtClose: string };
  /** Writes one batch on `client`; a rejection counts as `kept`. */
  write(batch: readonly T[], client: Redis): Promise<BatchOutcome>;
}

/** A Redis command as ioredis's pipeline takes it: its name, then its arguments. */
export type RedisCommand = readonly (string | number)[];

/**
 * A `write` for a backlog of commands: each batch as one pipeline. A batch that did not
 * reach Redis is kept for the reconnection; one Redis refused (out of memory, a wrong key
 * type) is dropped, and said once per process as `refusal`: the next ones fail alike.
 */
export function pipelineWrite(log: Logger, refusal: string): RedisBacklogOptions<RedisCommand>['write'] {
  let refusedLogged = false;
  return async (batch, client) => {
    const results = await client.pipeline(batch.map((command) => [...command])).exec();
    const failed = results?.find(([error]) => error !== null)?.[0];
    if (!failed) return 'written';
    if (failed.message.includes('Connection is closed') || failed.message.includes("Stream isn't writeable")) return 'kept';
    if (!refusedLogged) log.warn({ reason: failed.message }, refusal);
    refusedLogged = true;
    return 'refused';
  };
}

/** A pause before trying a batch again while the connection still looks up. */
const RETRY_PAUSE_MS = 500;

export class RedisBacklog<T> {
  readonly client: Redis;
  private readonly address: string;
  private pending: T[] = [];
  private flushing = false;
  private scheduled = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private down = false;
  private dropped = 0;
  private droppedSinceStart = 0;
  private closed = false;
  private readonly idle: (() => void)[] = [];

  constructor(private readonly options: RedisBacklogOptions<T>) {
    this.address = redisAddress(options.connection);
    this.client = createRedis(options.connection, {
      // Nothing waits in ioredis's own queue: this class keeps what is pending.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectionName: options.connectionName,
      retryStrategy: (times: number) => Math.min(100 * 2 ** times, 2000),
      disconnectTimeout: 200,
    });
    this.client.on('error', (error: Error) => this.outage(error));
    this.client.on('ready', () => {
      this.recovered();
      this.schedule();
    });
  }

  /** Items not yet in Redis. */
  get size(): number {
    return this.pending.length;
  }

  /** Items dropped since the start because the backlog was full. */
  get droppedTotal(): number {
    return this.droppedSinceStart;
  }

  /** Keeps `items` for writing; never throws, never waits. */
  push(items: readonly T[]): void {
    if (this.closed) return;
    const room = this.options.maxItems - this.pending.length;
    if (room < items.length) {
      if (this.dropped === 0) this.options.log.warn({ redis: this.address, backlog: this.pending.length }, this.options.messages.full);
      const lost = items.length - Math.max(0, room);
      this.dropped += lost;
      this.droppedSinceStart += lost;
    }
    if (room > 0) this.pending.push(...items.slice(0, room));
    this.schedule();
  }

  /** Resolves true once everything pushed so far is written, false if that takes longer than `withinMs`. */
  whenWritten(withinMs = 1000): Promise<boolean> {
    if (this.pending.length === 0 && !this.flushing && !this.scheduled) return Promise.resolve(true);
    return settledWithin(new Promise<void>((resolve) => this.idle.push(resolve)), withinMs).then((settled) => settled && this.pending.length === 0);
  }

  /** Marks Redis as away (logged once per outage), e.g. on an error of something using `client`. */
  outage(error: unknown): void {
    if (this.down) return;
    this.down = true;
    this.options.log.warn({ redis: this.address, reason: messageOf(error), backlog: this.pending.length }, this.options.messages.unreachable);
  }

  /**
   * Writes what is pending (within `withinMs`, whatever Redis does), runs `beforeQuit`
   * (bounded by the caller), then closes the connection; later pushes are ignored.
   */
  async close(withinMs = 1000, beforeQuit?: () => Promise<void>): Promise<void> {
    await this.whenWritten(withinMs);
    this.closed = true;
    clearTimeout(this.retryTimer);
    if (this.pending.length > 0) this.options.log.warn({ redis: this.address, lost: this.pending.length }, this.options.messages.lostAtClose);
    this.pending = [];
    await beforeQuit?.();
    if (this.client.status === 'ready') await settledWithin(this.client.quit(), withinMs);
    this.client.disconnect();
  }

  private schedule(): void {
    if (this.closed || this.scheduled || this.flushing || this.pending.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.flushing || this.client.status !== 'ready') return; // 'ready' schedules the next try
    this.flushing = true;
    let pause = false;
    try {
      while (this.pending.length > 0 && this.client.status === 'ready' && !this.closed) {
        const batch = this.pending.slice(0, this.options.batchSize);
        const outcome = await this.options.write(batch, this.client).catch((error: unknown) => {
          this.outage(error);
          return 'kept' as const;
        });
        if (outcome === 'kept') {
          pause = true;
          break;
        }
        this.pending.splice(0, batch.length);
        if (outcome === 'written') this.recovered();
      }
    } finally {
      this.flushing = false;
    }
    if (this.pending.length === 0) for (const resolve of this.idle.splice(0)) resolve();
    else if (pause && this.client.status === 'ready') this.retryTimer = setTimeout(() => this.schedule(), RETRY_PAUSE_MS);
    else if (!pause) this.schedule();
  }

  private recovered(): void {
    if (!this.down && this.dropped === 0) return;
    this.options.log.info({ redis: this.address, dropped: this.dropped }, this.options.messages.back);
    this.down = false;
    this.dropped = 0;
  }
}
