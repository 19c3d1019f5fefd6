import type { Config } from '../../lib/config/index.js';
import { createLogger } from '../../lib/log.js';
import { startWorkerRole } from '../roles/worker.js';

/** The roles this version runs. `stasis` and `http` arrive with the ARI issue. */
export const ROLES = ['worker'] as const;
export type Role = (typeof ROLES)[number];

interface RunningRole {
  stop(): Promise<void>;
}

/**
 * Starts the roles and runs until SIGTERM or SIGINT, then drains them: no new work, active
 * work finished or handed back, connections closed; exit code 0.
 */
export async function start(role: Role | undefined, config: Config): Promise<void> {
  const log = createLogger(config.logLevel);
  if (config.redisUrl === undefined) throw new Error('REDIS_URL is required to start: the roles meet in Redis');
  const roles = role === undefined ? ROLES : [role];
  const running: RunningRole[] = [];
  for (const name of roles) {
    if (name === 'worker') {
      running.push(
        await startWorkerRole(
          {
            connection: config.redisUrl,
            prefix: config.queue.prefix,
            concurrency: config.queue.concurrency,
            maxBytes: config.callback.maxBytes,
            policy: config.policy,
            secrets: config.secrets,
          },
          log.child({ role: name }),
        ),
      );
    }
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
  await Promise.all(running.map((r) => r.stop()));
  log.info({}, 'stopped');
}
