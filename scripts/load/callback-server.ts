// Starts the customer's web server of a load run (callback-server-child.ts) in a child
// process and reads its report.
import { fileURLToPath } from 'node:url';
import { askChild, spawnChild, stopChild, type Cleanup } from './children.js';

export interface ServerOptions {
  /** 0: a free port. */
  readonly port: number;
  readonly promptMs: number;
}

export type ToServer = { readonly type: 'report' };
export type FromServer =
  | { readonly type: 'listening'; readonly port: number }
  | { readonly type: 'failed'; readonly message: string }
  | {
      readonly type: 'report';
      /** Requests by path. */
      readonly requests: Readonly<Record<string, number>>;
      /** Each callback request: the call's `from` and when it arrived (epoch ms). */
      readonly callbacks: readonly (readonly [string, number])[];
    };

export type ServerReport = Extract<FromServer, { type: 'report' }>;

export interface CallbackServer {
  readonly origin: string;
  readonly pid: number;
  report(): Promise<ServerReport>;
}

const CHILD = fileURLToPath(new URL('./callback-server-child.ts', import.meta.url));

function isType<T extends FromServer['type']>(type: T) {
  return (message: unknown): message is Extract<FromServer, { type: T }> => (message as { type?: unknown } | null)?.type === type;
}

export async function startCallbackServer(options: ServerOptions, cleanup: Cleanup): Promise<CallbackServer> {
  const child = spawnChild(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, LOAD_SERVER_OPTIONS: JSON.stringify(options) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  cleanup.add('the callback server', () => stopChild(child, 3000));
  const started = await askChild(child, undefined, (m): m is FromServer => isType('listening')(m) || isType('failed')(m), 20_000, 'the callback server');
  if (started.type !== 'listening') throw new Error(`the callback server did not start: ${started.type === 'failed' ? started.message : started.type}`);
  return {
    origin: `http://127.0.0.1:${started.port}`,
    pid: child.pid ?? 0,
    report: () => askChild(child, { type: 'report' } satisfies ToServer, isType('report'), 10_000, 'the callback server report'),
  };
}
