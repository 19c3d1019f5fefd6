// The worker role: runs callback fetch jobs from the queue, and nothing else. The CLI
// (`opentact-ari start --role worker`) starts it and calls stop() on SIGTERM.
import type { Logger } from '../../lib/flow/ports.js';
import { DEFAULT_PREFIX as QUEUE_DEFAULTS_PREFIX } from '../../lib/queue/names.js';
import { EventWorker } from '../../lib/events/index.js';
import { CallbackWorker, QUEUE_DEFAULTS, type CallbackWorkerOptions } from '../../lib/queue/index.js';

export interface WorkerRole {
  /**
   * Resolves once the worker is connected to Redis and taking jobs. The role starts
   * without waiting for it, so that a SIGTERM can stop a role whose Redis is unreachable.
   */
  readonly ready: Promise<void>;
  /** For /ready: "ok" while the worker takes jobs, else what it is doing. */
  state(): string;
  /**
   * Stops taking jobs, lets the active ones finish for `graceMs` (default: the option
   * `shutdownGraceMs`), hands back those still running, then closes the Redis connections:
   * resolves within `graceMs` plus a second, whatever Redis does.
   */
  stop(graceMs?: number): Promise<void>;
}

export async function startWorkerRole(options: CallbackWorkerOptions, logger: Logger): Promise<WorkerRole> {
  const worker = new CallbackWorker(options, logger);
  // Beside the callbacks, the call events (spec §6): delivered by the same processes.
  const { connection, prefix, policy, secrets } = options;
  const events = new EventWorker(
    { connection, prefix: prefix ?? QUEUE_DEFAULTS_PREFIX, policy, secrets, ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }) },
    logger,
  );
  const ready = Promise.all([worker.ready(), events.ready()]).then(() => undefined);
  ready.catch(() => undefined);
  let stopping: Promise<void> | undefined;
  return {
    ready,
    state: () => (worker.state === 'ok' ? (events.state === 'ok' ? 'ok' : `events: ${events.state}`) : worker.state),
    stop(graceMs?: number) {
      stopping ??= (async () => {
        const grace = graceMs ?? options.shutdownGraceMs ?? QUEUE_DEFAULTS.shutdownGraceMs;
        logger.info({ graceMs: grace }, 'worker role stopping');
        await Promise.all([worker.close(grace), events.close(grace)]);
        logger.info({}, 'worker role stopped');
      })();
      return stopping;
    },
  };
}
