// The engine (test/support/engine.ts) in a process of its own, so that a test can kill it
// with SIGKILL or SIGTERM mid-call and start another. Started by engine-process.ts:
//   fork('test/support/engine-child.ts', { execArgv: ['--import', 'tsx'] })
// with REDIS_URL set to the parent's Redis. Its settings come as the first IPC message
// ('start', EngineChildOptions: JSON, the apps as apps-file YAML text, parsed here with the
// real parser). It logs JSON lines on stderr, reports 'ready' over IPC once the stasis role
// is connected to ARI (with its pid, its http role's origin and its labels), answers
// 'labels' / 'say-uris' / 'status', and stops the engine gracefully on SIGTERM, SIGINT,
// 'stop' or the parent going away, as `opentact-ari start` does on SIGTERM.
import { parse as parseYaml } from 'yaml';
import { parseApps } from '../../lib/config/index.js';
import type { Voice } from '../../lib/xml/index.js';
import { Engine, type EngineOptions } from './engine.js';
import { stderrLogger, type LogLevel } from './stderr-logger.js';

/** EngineOptions as JSON: the apps as an apps file's text, the logger as a level. */
export interface EngineChildOptions extends Omit<EngineOptions, 'apps' | 'logger' | 'metrics'> {
  /** An apps file's content (YAML or JSON, `{ apps: [ … ] }`), as APPS_FILE holds it. */
  readonly appsYaml: string;
  /** The child's log level (default `info`). */
  readonly logLevel?: LogLevel;
}

export interface EngineStatus {
  readonly ready: boolean;
  readonly ari: string;
  readonly draining: boolean;
  readonly calls: number;
}

/** `[sound: URI, label]` pairs (Engine.labels). */
export type LabelEntries = readonly (readonly [string, string])[];

export type ToEngine =
  | { readonly type: 'start'; readonly options: EngineChildOptions }
  | { readonly type: 'stop' }
  | { readonly type: 'labels'; readonly id: number }
  /** Labels these Say texts `say:<text>` (as EngineOptions.says) and answers with every label. */
  | { readonly type: 'say-uris'; readonly id: number; readonly texts: readonly string[]; readonly voice?: Voice }
  | { readonly type: 'status'; readonly id: number };

export type FromEngine =
  | { readonly type: 'ready'; readonly pid: number; readonly httpOrigin: string; readonly mediaDir: string; readonly labels: LabelEntries }
  | { readonly type: 'labels'; readonly id: number; readonly labels: LabelEntries }
  | { readonly type: 'status'; readonly id: number; readonly status: EngineStatus }
  | { readonly type: 'stopped' }
  | { readonly type: 'failed'; readonly message: string };

/** How long the process may stay up once the engine is closed before it is ended (and says what held it). */
const EXIT_GRACE_MS = 5000;

function send(message: FromEngine): void {
  if (process.connected) process.send?.(message);
}

function labelEntries(engine: Engine): LabelEntries {
  return [...engine.labels.entries()];
}

let engine: Engine | undefined;
let starting: Promise<Engine | undefined> | undefined;
let stopping: Promise<void> | undefined;

function stop(reason: string): Promise<void> {
  stopping ??= (async () => {
    const started = await (starting ?? Promise.resolve(undefined)).catch(() => undefined);
    process.stderr.write(`${JSON.stringify({ level: 'info', msg: 'engine child stopping', reason })}\n`);
    await started?.close();
    send({ type: 'stopped' });
    if (process.connected) process.disconnect();
    // Everything is closed: the process should end by itself. If a handle keeps it up, say
    // which and end it with exit code 3, so the test sees the leak instead of hanging.
    setTimeout(() => {
      const holding = process.getActiveResourcesInfo().filter((kind) => kind !== 'Timeout');
      process.stderr.write(`${JSON.stringify({ level: 'error', msg: 'engine child still held open after close', holding })}\n`);
      process.exit(3);
    }, EXIT_GRACE_MS).unref();
  })();
  return stopping;
}

async function startEngine(options: EngineChildOptions): Promise<Engine | undefined> {
  const logger = stderrLogger(options.logLevel ?? 'info');
  const { appsYaml, logLevel: _level, ...rest } = options;
  const apps = parseApps(parseYaml(appsYaml), 'engine-child-apps.yaml', { maxBytes: 256 * 1024, env: process.env });
  const started = await Engine.start({ ...rest, apps, logger });
  engine = started;
  return started;
}

process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
// The parent going away (its IPC channel closing) stops this engine too: no orphan holds calls.
process.on('disconnect', () => void stop('parent gone'));
process.on('message', (message: ToEngine) => {
  switch (message.type) {
    case 'start':
      if (starting !== undefined) return;
      starting = startEngine(message.options);
      starting.then(
        (started) => {
          if (started === undefined || stopping !== undefined) return;
          send({ type: 'ready', pid: process.pid, httpOrigin: `http://127.0.0.1:${started.http.port}`, mediaDir: started.store.dir, labels: labelEntries(started) });
        },
        (error: unknown) => {
          send({ type: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
          process.exitCode = 1;
          if (process.connected) process.disconnect();
        },
      );
      return;
    case 'stop':
      void stop('stop message');
      return;
    case 'labels':
      send({ type: 'labels', id: message.id, labels: engine === undefined ? [] : labelEntries(engine) });
      return;
    case 'say-uris':
      if (engine !== undefined) for (const text of message.texts) engine.labels.set(engine.sayUri(text, message.voice), `say:${text}`);
      send({ type: 'labels', id: message.id, labels: engine === undefined ? [] : labelEntries(engine) });
      return;
    case 'status': {
      const status = engine?.role.status() ?? { ready: false, ari: 'not started', draining: false, calls: 0 };
      send({ type: 'status', id: message.id, status: { ready: status.ready, ari: status.ari, draining: status.draining, calls: status.calls } });
      return;
    }
  }
});
