import { AriRecordingFiles } from '../../lib/ari/index.js';
import { ConfigError, type Config } from '../../lib/config/index.js';
import { createLogger } from '../../lib/log.js';
import { checkEvictionPolicy, RedisHealth } from '../../lib/queue/index.js';
import { ENGINE_QUEUES, waitForRedis } from '../../lib/queue/index.js';
import { Metrics } from '../../lib/metrics/index.js';
import { QueueStats } from '../../lib/queue/queue-stats.js';
import { CallTrails } from '../../lib/trail/index.js';
import { CallStates } from '../../lib/session/index.js';
import { DEFAULT_EVENT_RETRY, EventQueue } from '../../lib/events/index.js';
import { openCallMedia, openMediaStore } from '../media.js';
import { startHttpRole, type HttpRole, type Readiness } from '../roles/http.js';
import { startStasisRole, type StasisRole } from '../roles/stasis.js';
import { startWorkerRole, type WorkerRole } from '../roles/worker.js';

/** The roles a process can run; `start` alone runs them all. */
export const ROLES = ['stasis', 'worker', 'http'] as const;
export type Role = (typeof ROLES)[number];

/** How long /ready waits for Redis's PING answer. */
const READY_PING_TIMEOUT_MS = 1000;

/**
 * Starts the roles and runs until SIGTERM or SIGINT, then drains them, in this order:
 * the stasis role takes no new calls and gives calls in progress up to SHUTDOWN_GRACE_MS
 * (their callbacks still run, on this process's worker or others), then hangs up the
 * rest; the worker finishes its jobs within what is left of SHUTDOWN_GRACE_MS and hands
 * back the others; the http server closes last, so /ready says 503 while draining.
 * Resolves when everything is closed (exit code 0).
 *
 * Redis first: until it answers, the worker and stasis roles are not started (the http
 * role is, and /ready says 503 "starting"); each failed attempt is logged with the delay
 * before the next, which doubles from 250 ms to 5 s. SIGTERM during that wait stops at
 * once. A Redis lost later is ridden out: the connections reconnect by themselves.
 */
export async function start(role: Role | undefined, config: Config): Promise<void> {
  const log = createLogger(config.logLevel, { secrets: config.secretValues ?? [] });
  if (config.redis === undefined) throw new ConfigError('REDIS_URL', 'or REDIS_SENTINELS is required to start: the roles meet in Redis');
  const roles: readonly Role[] = role === undefined ? ROLES : [role];
  const redis = config.redis;
  let stasis: StasisRole | undefined;
  let worker: WorkerRole | undefined;
  let http: HttpRole | undefined;
  let redisHealth: RedisHealth | undefined;
  let stopping = false;
  const runsStasis = roles.includes('stasis');
  if (runsStasis && config.ari === undefined) throw new ConfigError('ARI_URL', 'is required by the stasis role');
  if (runsStasis && config.appsFile === undefined) throw new ConfigError('APPS_FILE', 'is required by the stasis role');
  const needsStore = runsStasis || roles.includes('http');
  const store = needsStore ? await openMediaStore(config.media, log) : undefined;

  // http first: the stasis role hands Asterisk /media URLs from its first call on.
  // Every process serves /health, /ready and /metrics on HTTP_PORT, whatever its roles;
  // the http role adds /media and /admin. One metrics registry per process.
  const metrics = new Metrics();
  let queueStats: QueueStats | undefined;
  const health = new RedisHealth(redis);
  redisHealth = health;
  // Ready when every role of this process is, and Redis answers PING within a second;
  // `checks` says "ok" or why not, for each.
  const readiness = async (): Promise<Readiness> => {
    const checks: Record<string, string> = {};
    const pinged = health.check(READY_PING_TIMEOUT_MS);
    let details: { ari?: string; draining?: boolean; calls?: number; overload?: readonly string[] } = {};
    if (runsStasis) {
      if (stasis === undefined) {
        checks['ari'] = 'not started (waiting for Redis)';
      } else {
        const status = stasis.status();
        checks['ari'] = status.ari === 'connected' ? 'ok' : status.ari;
        checks['stasis'] = status.draining ? 'draining' : 'ok';
        details = { ari: status.ari, draining: status.draining, calls: status.calls, overload: status.overload };
      }
    }
    if (roles.includes('worker')) checks['worker'] = worker?.state() ?? 'not started (waiting for Redis)';
    if (stopping) checks['process'] = 'stopping';
    checks['redis'] = await pinged;
    const ready = Object.values(checks).every((check) => check === 'ok');
    return { ready, checks, ...details, draining: stopping || details.draining === true };
  };
  if (roles.includes('http') && store !== undefined) {
    // Recordings are Asterisk's files: the http role fetches them over ARI when ARI_URL is set.
    const { ari, admin } = config;
    const recordings = ari === undefined ? {} : { files: new AriRecordingFiles({ url: ari.url, username: ari.username, password: ari.password, timeoutMs: ari.requestTimeoutMs }) };
    // The queue dashboard (/admin/queues) shows every queue of the engine, on a Redis connection of the http role's own.
    const queues = { connection: redis, prefix: config.queue.prefix, names: ENGINE_QUEUES };
    // The call trails (/admin/calls) the stasis roles write, read on a connection of their own.
    const trails = { connection: redis, prefix: config.queue.prefix };
    http = await startHttpRole(
      { host: config.http.host, port: config.http.port, readiness, store, metrics, recordings, ...(admin === undefined ? {} : { admin }), queues, trails },
      log.child({ role: 'http' }),
    );
  } else {
    http = await startHttpRole({ host: config.http.host, port: config.http.port, readiness, metrics }, log.child({ role: 'http' }));
  }
  // From here on SIGTERM drains what has started (until now it ends the process at once).
  const stopSignal = new AbortController();
  const stopRequested = new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      log.info({ signal }, 'draining');
      stopSignal.abort();
      resolve();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  const needsRedis = runsStasis || roles.includes('worker');
  const redisAnswered = !needsRedis || (await waitForRedis(redis, { signal: stopSignal.signal, logger: log }));
  if (redisAnswered) {
    // The queue gauges read Redis at each scrape, on a connection of their own.
    queueStats = new QueueStats({ connection: redis, prefix: config.queue.prefix }, log);
    metrics.watchQueue(queueStats);
  }
  // Once per start: a Redis that may evict keys loses jobs.
  if (needsRedis && redisAnswered) await checkEvictionPolicy(redis, log);

  if (redisAnswered && roles.includes('worker')) {
    worker = await startWorkerRole(
      {
        connection: redis,
        prefix: config.queue.prefix,
        concurrency: config.queue.concurrency,
        maxBytes: config.callback.maxBytes,
        policy: config.policy,
        secrets: config.secrets,
        shutdownGraceMs: config.shutdownGraceMs,
      },
      log.child({ role: 'worker' }),
    );
  }
  let trails: CallTrails | undefined;
  let states: CallStates | undefined;
  let events: EventQueue | undefined;
  if (redisAnswered && runsStasis && config.ari !== undefined && store !== undefined) {
    // Each call's trail, written in the background on a connection of its own (CALL_TRAIL_TTL 0: none).
    if (config.trail.ttlSeconds > 0) {
      trails = new CallTrails({ connection: redis, prefix: config.queue.prefix, ttlSeconds: config.trail.ttlSeconds, log: log.child({ role: 'stasis' }) });
    }
    // Each live call's state, so that the next process resumes it after a crash or a deploy (CALL_STATE_TTL 0: none).
    if (config.callState.ttlSeconds > 0) {
      states = new CallStates({ connection: redis, prefix: config.queue.prefix, ttlSeconds: config.callState.ttlSeconds, log: log.child({ role: 'stasis' }) });
    }
    // Call events (spec §6) of the apps with an events_url, queued in the background on a connection of their own.
    if (config.apps.some((app) => app.eventsUrl !== undefined)) {
      events = new EventQueue({
        connection: redis,
        prefix: config.queue.prefix,
        retry: { ...DEFAULT_EVENT_RETRY, retryForMs: config.events.retryForMs },
        log: log.child({ role: 'stasis' }),
      });
    }
    const media = await openCallMedia(config.speech, config.media, store, config.policy, log.child({ role: 'media' }), metrics);
    stasis = startStasisRole(
      {
        ari: config.ari,
        apps: config.apps,
        redis,
        queuePrefix: config.queue.prefix,
        secrets: config.secrets,
        maxBytes: config.callback.maxBytes,
        maxDocumentsPerCall: config.maxDocumentsPerCall,
        shutdownGraceMs: config.shutdownGraceMs,
        admission: config.admission,
        dialEndpoints: config.dial,
        metrics,
        ...(trails === undefined ? {} : { trails }),
        ...(events === undefined ? {} : { events }),
        ...(states === undefined ? {} : { states }),
        ...media,
      },
      log.child({ role: 'stasis' }),
    );
  }
  if (!redisAnswered) {
    await http?.stop();
    redisHealth?.close();
    log.info({}, 'stopped');
    return;
  }
  log.info({ roles }, 'started');

  await stopRequested;
  stopping = true;
  // One grace period for the whole drain: the worker gets what the calls left of it.
  const drainEnds = Date.now() + config.shutdownGraceMs;
  await stasis?.stop();
  // The calls handed over are saved: the next process may take them at once.
  await states?.close(1000);
  // The queue gauges are not needed while the worker drains: their connection closes
  // meanwhile, so a hung Redis costs the drain no more than the worker's own bound.
  // The calls are over: their last trail lines are written (within a second) meanwhile too.
  await Promise.all([worker?.stop(Math.max(0, drainEnds - Date.now())), queueStats?.close(), trails?.close(1000), events?.close(1000)]);
  await http?.stop();
  redisHealth?.close();
  log.info({}, 'stopped');
}
