import type { Config } from '../../lib/config/index.js';
import { pingRedis, RedisUnavailableError } from '../../lib/queue/index.js';
import { TrailReader, TrailUnavailableError } from '../../lib/trail/index.js';
import type { Output } from '../output.js';

/** How long `trail` waits for the Redis of REDIS_URL before giving up (exit 2). */
export const TRAIL_REDIS_MS = 3000;

/**
 * Prints a call's trail in `simulate`'s JSON-lines form: first a `call` line with its
 * summary (DID, caller, app, channel, start, end, how it ended), then one line per event,
 * each with `t` (ms since the call started) and `path`. Exit code 0, or 2 with one line
 * on stderr when Redis is not set or unreachable, or has no trail for the call.
 */
export async function trail(call: string, config: Config, out: Output): Promise<number> {
  if (config.redis === undefined) {
    out.error('opentact-ari: REDIS_URL (or REDIS_SENTINELS) is required: the trails are in Redis');
    return 2;
  }
  try {
    await pingRedis(config.redis, AbortSignal.timeout(TRAIL_REDIS_MS));
  } catch (error) {
    if (!(error instanceof RedisUnavailableError)) throw error;
    out.error(`opentact-ari: ${error.message}`);
    return 2;
  }
  const reader = new TrailReader({ connection: config.redis, prefix: config.queue.prefix, timeoutMs: TRAIL_REDIS_MS });
  try {
    const record = await reader.get(call);
    if (record === undefined) {
      out.error(`opentact-ari: no trail for call ${call} (unknown, or older than CALL_TRAIL_TTL, ${config.trail.ttlSeconds} s)`);
      return 2;
    }
    out.line(JSON.stringify({ event: 'call', ...record.call, t: 0, path: 'Response' }));
    for (const line of record.events) out.line(JSON.stringify(line));
    return 0;
  } catch (error) {
    if (!(error instanceof TrailUnavailableError)) throw error;
    out.error(`opentact-ari: ${error.message}`);
    return 2;
  } finally {
    await reader.close();
  }
}
