import { DirectFetcher, type AppPayload } from '../lib/callback/index.js';
import type { Config } from '../lib/config/index.js';
import type { FlowFetcher, Logger } from '../lib/flow/index.js';
import { CallbackQueue, CallbackWorker, QueueFetcher } from '../lib/queue/index.js';

export interface OpenFetcher {
  readonly fetcher: FlowFetcher;
  close(): Promise<void>;
}

/**
 * The fetcher for one app: through the queue when REDIS_URL is set (exactly what
 * production does, with a worker in this process beside any others on the queue), else
 * in this process.
 */
export async function openFetcher(config: Config, app: AppPayload, log: Logger): Promise<OpenFetcher> {
  const signing = config.secrets.get(app.uuid) === undefined ? {} : { signingKeyId: app.uuid };
  const maxBytes = config.callback.maxBytes;
  if (config.redisUrl === undefined) {
    const env = { policy: config.policy, secrets: config.secrets, maxBytes };
    return { fetcher: new DirectFetcher({ env, app, ...signing }), close: async () => undefined };
  }
  const location = { connection: config.redisUrl, prefix: config.queue.prefix };
  const worker = await CallbackWorker.start(
    { ...location, concurrency: config.queue.concurrency, maxBytes, policy: config.policy, secrets: config.secrets },
    log,
  );
  const queue = new CallbackQueue(location, log);
  return {
    fetcher: new QueueFetcher({ queue, app, maxBytes, ...signing }),
    async close() {
      await queue.close();
      await worker.close();
    },
  };
}
