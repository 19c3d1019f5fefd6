export { DEFAULT_MAX_EVENTS, DEFAULT_TRAIL_TTL_SECONDS, trailKeys, type TrailKeys, type TrailSummary } from './keys.js';
export { CallTrail, CallTrails, type CallTrailsOptions, type TrailStart } from './writer.js';
export { TrailReader, TrailUnavailableError, type CallTrailRecord, type ListQuery, type TrailReaderOptions } from './reader.js';
