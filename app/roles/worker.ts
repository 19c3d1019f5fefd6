// The worker role: runs callback fetch jobs from the queue, and nothing else. The CLI
// (`opentact-ari start --role worker`) starts it and calls stop() on SIGTERM.
import type { Logger } from '../../lib/flow/ports.js';
import { CallbackWorker, type CallbackWorkerOptions } from '../../lib/queue/index.js';

export interface WorkerRole {
  /**
   * Resolves once the worker is connected to Redis and taking jobs. The role starts
   * without waiting for it, so that a SIGTERM can stop a role whose Redis is unreachable.
   */
  readonly ready: Promise<void>;
  /**
   * Stops taking jobs, lets the active ones finish (or hands them back to the queue after
   * the grace period, see `shutdownGraceMs`), then closes the Redis connections.
   */
  stop(): Promise<void>;
}

export async function startWorkerRole(options: CallbackWorkerOptions, logger: Logger): Promise<WorkerRole> {
  const worker = new CallbackWorker(options, logger);
  const ready = worker.ready();
  ready.catch(() => undefined);
  let stopping: Promise<void> | undefined;
  return {
    ready,
    stop() {
      stopping ??= (async () => {
        logger.info({}, 'worker role stopping');
        await worker.close();
        logger.info({}, 'worker role stopped');
      })();
      return stopping;
    },
  };
}
