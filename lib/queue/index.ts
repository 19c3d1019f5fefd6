export { CallbackQueue } from './callback-queue.js';
export { QueueFetcher, type QueueFetcherOptions } from './queue-fetcher.js';
export {
  CallbackWorker,
  LOCK_DURATION_MS,
  LOCK_RENEW_MS,
  STALLED_INTERVAL_MS,
  MAX_STALLED_COUNT,
} from './callback-worker.js';
export {
  DEFAULTS as QUEUE_DEFAULTS,
  KEEP_COMPLETED,
  KEEP_FAILED,
  type QueueLocation,
  type CallbackQueueOptions,
  type CallbackWorkerOptions,
  type QueueConfig,
} from './options.js';
export { jobIdFor, replyChannel, progressChannel, cancelChannel, DEFAULT_PREFIX, DEFAULT_QUEUE_NAME, DEFAULT_CONCURRENCY, ENGINE_QUEUES, EVENTS_QUEUE_NAME } from './names.js';
export { QueueFetchError, RedisUnavailableError, JobLostError } from './errors.js';
export {
  parseReply,
  parseProgress,
  parseCancel,
  isFetchOutcome,
  type CallbackJobData,
  type ReplyMessage,
  type ProgressMessage,
  type CancelMessage,
} from './messages.js';
export {
  pingRedis,
  waitForRedis,
  redisAddress,
  redisOptions,
  createRedis,
  checkEvictionPolicy,
  RedisHealth,
  REQUIRED_EVICTION_POLICY,
  type RedisConnection,
  type RedisTarget,
  type WaitForRedisOptions,
} from './redis.js';
