// The queue as the metrics show it, read at scrape time: job counts by state (one BullMQ
// getJobCounts) and the age of the oldest waiting job (one peek at the head of the wait
// list). Read-only, on a Redis connection of its own.
import { Queue } from 'bullmq';
import type { Logger } from '../flow/ports.js';
import type { QueueReader, QueueReading } from '../metrics/metrics.js';
import { resolveLocation, type QueueLocation } from './options.js';
import { settledWithin, WatchedRedis } from './redis.js';

/** The states counted; `completed` and `failed` are bounded by KEEP_COMPLETED and KEEP_FAILED. */
const STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'] as const;

export class QueueStats implements QueueReader {
  private readonly redis: WatchedRedis;
  private readonly queue: Queue;

  constructor(location: QueueLocation, logger: Logger) {
    const { connection, prefix, queueName } = resolveLocation(location);
    this.redis = new WatchedRedis(connection, `${prefix}:${queueName}:metrics`, logger);
    this.queue = new Queue(queueName, { connection: this.redis.client, prefix });
    this.queue.on('error', (error: Error) => logger.debug({ err: error }, 'queue metrics error'));
  }

  async read(): Promise<QueueReading> {
    const [counts, waiting] = await Promise.all([this.queue.getJobCounts(...STATES), this.queue.getWaiting(0, 0)]);
    const [oldest] = waiting;
    // A delayed job waits from when its delay ran out.
    const waitingSince = oldest === undefined ? undefined : oldest.timestamp + (oldest.delay ?? 0);
    return { counts, oldestWaitingAgeSeconds: waitingSince === undefined ? undefined : Math.max(0, (Date.now() - waitingSince) / 1000) };
  }

  /** Closes the connection within a second, whatever Redis does. */
  async close(): Promise<void> {
    await Promise.all([settledWithin(this.queue.close(), 1000), this.redis.close(1000)]);
  }
}
