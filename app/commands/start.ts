import { ConfigError, type Config } from '../../lib/config/index.js';
import { createLogger } from '../../lib/log.js';
import { openCallMedia, openMediaStore } from '../media.js';
import { startHttpRole, type HttpRole, type Readiness } from '../roles/http.js';
import { startStasisRole, type StasisRole } from '../roles/stasis.js';
import { startWorkerRole, type WorkerRole } from '../roles/worker.js';

/** The roles a process can run; `start` alone runs them all. */
export const ROLES = ['stasis', 'worker', 'http'] as const;
export type Role = (typeof ROLES)[number];

/**
 * Starts the roles and runs until SIGTERM or SIGINT, then drains them, in this order:
 * the stasis role takes no new calls and gives calls in progress up to SHUTDOWN_GRACE_MS
 * (their callbacks still run, on this process's worker or others), then hangs up the
 * rest; the worker finishes or hands back its jobs; the http server closes last, so /ready
 * says 503 while draining. Resolves when everything is closed (exit code 0).
 */
export async function start(role: Role | undefined, config: Config): Promise<void> {
  const log = createLogger(config.logLevel);
  if (config.redisUrl === undefined) throw new ConfigError('REDIS_URL', 'is required to start: the roles meet in Redis');
  const roles: readonly Role[] = role === undefined ? ROLES : [role];
  const redisUrl = config.redisUrl;
  let stasis: StasisRole | undefined;
  let worker: WorkerRole | undefined;
  let http: HttpRole | undefined;
  let stopping = false;
  const runsStasis = roles.includes('stasis');
  if (runsStasis && config.ari === undefined) throw new ConfigError('ARI_URL', 'is required by the stasis role');
  if (runsStasis && config.appsFile === undefined) throw new ConfigError('APPS_FILE', 'is required by the stasis role');
  const needsStore = runsStasis || roles.includes('http');
  const store = needsStore ? await openMediaStore(config.media, log) : undefined;

  // http first: the stasis role hands Asterisk /media URLs from its first call on.
  if (roles.includes('http') && store !== undefined) {
    const readiness = (): Readiness => {
      if (stasis !== undefined) return stasis.status();
      if (runsStasis) return { ready: false, starting: true };
      return { ready: !stopping, draining: stopping };
    };
    http = await startHttpRole({ host: config.http.host, port: config.http.port, readiness, store }, log.child({ role: 'http' }));
  }
  if (roles.includes('worker')) {
    worker = await startWorkerRole(
      {
        connection: redisUrl,
        prefix: config.queue.prefix,
        concurrency: config.queue.concurrency,
        maxBytes: config.callback.maxBytes,
        policy: config.policy,
        secrets: config.secrets,
      },
      log.child({ role: 'worker' }),
    );
  }
  if (runsStasis && config.ari !== undefined && store !== undefined) {
    const media = await openCallMedia(config.speech, config.media, store, config.policy, log.child({ role: 'media' }));
    stasis = startStasisRole(
      {
        ari: config.ari,
        apps: config.apps,
        redisUrl,
        queuePrefix: config.queue.prefix,
        secrets: config.secrets,
        maxBytes: config.callback.maxBytes,
        maxDocumentsPerCall: config.maxDocumentsPerCall,
        shutdownGraceMs: config.shutdownGraceMs,
        dialEndpoints: config.dial,
        ...media,
      },
      log.child({ role: 'stasis' }),
    );
  }
  log.info({ roles }, 'started');

  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      log.info({ signal }, 'draining');
      resolve();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  stopping = true;
  await stasis?.stop();
  await worker?.stop();
  await http?.stop();
  log.info({}, 'stopped');
}
