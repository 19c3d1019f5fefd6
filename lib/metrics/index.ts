export { Metrics, METRICS_PREFIX, type QueueReader, type QueueReading, type RemoteAudioOutcome } from './metrics.js';
export { meteredEvents, meteredFetcher } from './flow.js';
