// A callback worker in a process of its own, for tests and the benchmark:
//   fork('test/support/worker-process.ts', { execArgv: ['--import', 'tsx'] })
// with its settings as JSON in WORKER_PROCESS_OPTIONS (see WorkerProcessOptions). It
// reports 'ready' over IPC once taking jobs, answers 'cpu' with its CPU usage, stops
// gracefully on 'stop' or SIGTERM, and can be killed at any time.
import { startWorkerRole } from '../../app/roles/worker.js';
import { UrlPolicy } from '../../lib/callback/index.js';
import { stderrLogger, type LogLevel } from './stderr-logger.js';

export interface WorkerProcessOptions {
  readonly connection: string;
  readonly prefix: string;
  readonly queueName?: string;
  readonly concurrency?: number;
  /** OUTBOUND_ALLOW; tests use '127.0.0.0/8'. */
  readonly allow: string;
  readonly secrets?: Readonly<Record<string, string>>;
  readonly shutdownGraceMs?: number;
  readonly logLevel?: LogLevel;
}

export type ToWorker = { readonly type: 'stop' } | { readonly type: 'cpu' };
export type FromWorker =
  | { readonly type: 'ready'; readonly pid: number }
  | { readonly type: 'cpu'; readonly usage: NodeJS.CpuUsage }
  | { readonly type: 'stopped' }
  | { readonly type: 'failed'; readonly message: string };

function send(message: FromWorker): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  const raw = process.env['WORKER_PROCESS_OPTIONS'];
  if (raw === undefined) throw new Error('WORKER_PROCESS_OPTIONS is not set');
  const options = JSON.parse(raw) as WorkerProcessOptions;
  const secrets = new Map(Object.entries(options.secrets ?? {}));
  const logger = stderrLogger(options.logLevel ?? 'warn', `[worker ${process.pid}] `);
  const role = await startWorkerRole(
    {
      connection: options.connection,
      prefix: options.prefix,
      ...(options.queueName === undefined ? {} : { queueName: options.queueName }),
      ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
      ...(options.shutdownGraceMs === undefined ? {} : { shutdownGraceMs: options.shutdownGraceMs }),
      policy: new UrlPolicy(options.allow),
      secrets: { get: (keyId) => secrets.get(keyId) },
    },
    logger,
  );
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= role.stop().then(() => {
      send({ type: 'stopped' });
      process.disconnect?.();
    });
    return stopping;
  };
  process.on('SIGTERM', () => void stop());
  process.on('message', (message: ToWorker) => {
    if (message.type === 'stop') void stop();
    else if (message.type === 'cpu') send({ type: 'cpu', usage: process.cpuUsage() });
  });
  // The parent going away (its IPC channel closing) stops this worker too.
  process.on('disconnect', () => void stop());
  await role.ready;
  send({ type: 'ready', pid: process.pid });
}

main().catch((error: unknown) => {
  send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  process.exitCode = 1;
  process.disconnect?.();
});
