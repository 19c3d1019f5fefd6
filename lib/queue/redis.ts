// ioredis connections for the queue. BullMQ needs `maxRetriesPerRequest: null` (a
// command waits through a reconnect instead of failing after a few tries); the waiting
// side never hangs on that, because every wait is bounded by the call's own deadline.
import { Redis } from 'ioredis';
import type { Logger } from '../flow/ports.js';

/** Where a Redis URL points, without credentials, for logs and failure reasons. */
export function redisAddress(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname || '127.0.0.1'}:${parsed.port || '6379'}`;
  } catch {
    return 'an invalid Redis URL';
  }
}

/** One connection, and what went wrong with it lately. */
export class WatchedRedis {
  readonly client: Redis;
  readonly address: string;
  /** The last connection error; cleared once the connection is ready again. */
  lastError: Error | undefined;
  private down = false;

  /** Opens a connection named `name` (as CLIENT LIST shows it). */
  constructor(url: string, name: string, logger: Logger) {
    this.address = redisAddress(url);
    this.client = new Redis(url, {
      maxRetriesPerRequest: null,
      connectionName: name,
      // Reconnect quickly at first: a Redis restart or failover takes about a second.
      retryStrategy: (times: number) => Math.min(100 * 2 ** times, 2000),
    });
    // Logged once per outage, not once per reconnect attempt.
    this.client.on('error', (error: Error) => {
      this.lastError = error;
      if (!this.down) {
        this.down = true;
        logger.warn({ redis: this.address, connection: name, err: error }, 'Redis connection lost');
      }
    });
    this.client.on('ready', () => {
      if (this.down) logger.info({ redis: this.address, connection: name }, 'Redis connection back');
      this.down = false;
      this.lastError = undefined;
    });
  }

  get ready(): boolean {
    return this.client.status === 'ready';
  }

  /** Closes politely when connected, at once otherwise (QUIT would wait for a reconnect). */
  async close(): Promise<void> {
    const { client } = this;
    if (client.status === 'end') return;
    if (client.status === 'ready') {
      let timer: NodeJS.Timeout | undefined;
      const gaveUp = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 1000);
      });
      await Promise.race([client.quit().then(
        () => undefined,
        () => undefined,
      ), gaveUp]);
      clearTimeout(timer);
    }
    client.disconnect();
  }
}
