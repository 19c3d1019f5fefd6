// The worker role: runs callback fetch jobs from the queue, and nothing else. The CLI
// (`opentact-ari start --role worker`) starts it and calls stop() on SIGTERM.
import type { Logger } from '../../lib/flow/ports.js';
import { CallbackWorker, type CallbackWorkerOptions } from '../../lib/queue/index.js';

export interface WorkerRole {
  /**
   * Stops taking jobs, lets the active ones finish (or hands them back to the queue after
   * the grace period, see `shutdownGraceMs`), then closes the Redis connections.
   */
  stop(): Promise<void>;
}

export async function startWorkerRole(options: CallbackWorkerOptions, logger: Logger): Promise<WorkerRole> {
  const worker = await CallbackWorker.start(options, logger);
  return {
    async stop() {
      logger.info({}, 'worker role stopping');
      await worker.close();
      logger.info({}, 'worker role stopped');
    },
  };
}
