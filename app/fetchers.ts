import { DirectFetcher, type AppPayload, type SecretStore } from '../lib/callback/index.js';
import type { CallControlApp, Config } from '../lib/config/index.js';
import type { FlowFetcher, Logger } from '../lib/flow/index.js';
import { CallbackQueue, CallbackWorker, QueueFetcher } from '../lib/queue/index.js';

export interface OpenFetcher {
  readonly fetcher: FlowFetcher;
  close(): Promise<void>;
}

/** What a Call Control App sends as `app` in JSON bodies. */
export function appPayload(app: CallControlApp): AppPayload {
  return { uuid: app.uuid, name: app.name, data: app.data };
}

/**
 * A QueueFetcher per app on one queue: each carries its app's payload and, when the app
 * has a secret, the name of its signing key (the workers hold the secret).
 */
export function queueFetchers(
  queue: CallbackQueue,
  apps: readonly CallControlApp[],
  options: { readonly secrets: SecretStore; readonly maxBytes: number },
): (app: CallControlApp) => FlowFetcher {
  const fetchers = new Map<string, FlowFetcher>();
  for (const app of apps) {
    const signing = options.secrets.get(app.uuid) === undefined ? {} : { signingKeyId: app.uuid };
    fetchers.set(app.uuid, new QueueFetcher({ queue, app: appPayload(app), maxBytes: options.maxBytes, ...signing }));
  }
  return (app) => {
    const fetcher = fetchers.get(app.uuid);
    if (fetcher === undefined) throw new Error(`no fetcher for app ${app.uuid}`);
    return fetcher;
  };
}

/**
 * The fetcher for one app: through the queue when REDIS_URL is set (exactly what
 * production does, with a worker in this process beside any others on the queue), else
 * in this process.
 */
export async function openFetcher(config: Config, app: AppPayload, log: Logger): Promise<OpenFetcher> {
  const signing = config.secrets.get(app.uuid) === undefined ? {} : { signingKeyId: app.uuid };
  const maxBytes = config.callback.maxBytes;
  if (config.redis === undefined) {
    const env = { policy: config.policy, secrets: config.secrets, maxBytes };
    return { fetcher: new DirectFetcher({ env, app, ...signing }), close: async () => undefined };
  }
  const location = { connection: config.redis, prefix: config.queue.prefix };
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
