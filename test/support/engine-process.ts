// The engine in a child process (engine-child.ts) that a test can kill -9 or SIGTERM
// mid-call and start again, against the fake ARI or a real Asterisk:
//
//   const engine = await startEngineProcess({ ari, app: 'opentact', appsYaml, prefix });
//   … place a call, see engine.label(media) …
//   await engine.kill();                 // SIGKILL; resolves once the process has exited
//   const next = await startEngineProcess({ … same options … });
//   await next.terminate();              // SIGTERM: the engine drains, then the process exits
//
// The child logs JSON lines on stderr; the last `logLines` of them are kept here (`log`)
// and put in the message of any failure (`describe()` gives them too).
//
// Each start has a new http port and media directory unless `httpPort` and `mediaDir` are
// given: give both to a restarted engine for the media URLs handed out before the restart
// to keep working, as in production (a stable PUBLIC_BASE_URL and MEDIA_DIR). A media
// directory of the child's own is removed here once the child has exited, however it ended.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Voice } from '../../lib/xml/index.js';
import { JsonLog } from './child-log.js';
import type { EngineChildOptions, EngineStatus, FromEngine, LabelEntries, ToEngine } from './engine-child.js';
import { sharedRedisUrl } from './redis.js';

export type { EngineChildOptions, EngineStatus } from './engine-child.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ENTRY = path.join(here, 'engine-child.ts');
const ROOT = path.resolve(here, '..', '..');

export interface EngineProcessOptions extends EngineChildOptions {
  /** The Redis the child uses (REDIS_URL); default this test run's (`sharedRedisUrl()`). */
  readonly redisUrl?: string;
  /** How long to wait for 'ready' (default 20 s: tsx compiles the engine on a busy machine). */
  readonly readyTimeoutMs?: number;
  /** How many of the child's log lines to keep (default 200). */
  readonly logLines?: number;
  /** Copy the child's stderr to this process's stderr too (debugging). */
  readonly echo?: boolean;
}

export interface EngineProcess {
  readonly pid: number;
  /** The child's http role: `http://127.0.0.1:<port>` (/media, /ready, /metrics, /admin). */
  readonly httpOrigin: string;
  /** The child's media store directory (`mediaDir`, or a temporary one removed after exit). */
  readonly mediaDir: string;
  /** `sound:` URI → label (`welcome.wav`, `say:Hello`), as of 'ready' or the last `refreshLabels`/`labelSays`. */
  readonly labels: ReadonlyMap<string, string>;
  /** Resolves with the exit code or signal once the process has ended (never rejects). */
  readonly exited: Promise<number | NodeJS.Signals | null>;
  /** Whether the process has ended. */
  readonly ended: boolean;
  /** The child's last log lines (parsed JSON; a line that is not JSON is `{ msg: line }`). */
  readonly log: JsonLog;
  /** A media URI's label, or the URI itself. */
  label(uri: string): string;
  /** Asks the child for its labels now. */
  refreshLabels(timeoutMs?: number): Promise<ReadonlyMap<string, string>>;
  /** Labels these Say texts `say:<text>` in the child (e.g. the Says of fetched documents); gives every label. */
  labelSays(texts: readonly string[], voice?: Voice, timeoutMs?: number): Promise<ReadonlyMap<string, string>>;
  /** The stasis role's status (connected, draining, calls in progress). */
  status(timeoutMs?: number): Promise<EngineStatus>;
  /** Sends `signal` (default SIGKILL); resolves once the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<number | NodeJS.Signals | null>;
  /**
   * SIGTERM: the engine drains (calls get `shutdownGraceMs`, the rest are hung up) and the
   * process exits. Past `timeoutMs` (default 15 s) it is killed and this rejects.
   */
  terminate(timeoutMs?: number): Promise<number | NodeJS.Signals | null>;
  /** The pid, how it ended (if it did) and the last log lines: for failure messages. */
  describe(lines?: number): string;
}

/** Forks the engine child and resolves once its stasis role is connected to ARI. */
export async function startEngineProcess(options: EngineProcessOptions): Promise<EngineProcess> {
  const { redisUrl, readyTimeoutMs = 20_000, logLines = 200, echo = false, ...childOptions } = options;
  const redis = redisUrl ?? (await sharedRedisUrl());
  const child = fork(ENTRY, [], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, REDIS_URL: redis },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  const log = new JsonLog(child.stderr, logLines);
  if (echo) child.stderr?.on('data', (chunk: string) => process.stderr.write(chunk));
  // Known once 'ready' arrives; a temporary media directory the child had no time to remove (SIGKILL) goes here.
  let ownMediaDir: string | undefined;
  const exited = once(child, 'exit').then(async ([code, signal]) => {
    if (ownMediaDir !== undefined) await rm(ownMediaDir, { recursive: true, force: true }).catch(() => undefined);
    return (signal as NodeJS.Signals | null) ?? (code as number | null);
  });
  const hasEnded = (): boolean => child.exitCode !== null || child.signalCode !== null;
  const describe = (lines = 30): string => {
    const how = hasEnded() ? `, exited (${child.signalCode ?? child.exitCode})` : '';
    return `engine process ${child.pid ?? '?'}${how}; its last log lines:\n${log.text.slice(-lines).join('\n')}`;
  };

  child.send({ type: 'start', options: childOptions } satisfies ToEngine);
  let ready: Extract<FromEngine, { type: 'ready' }>;
  try {
    ready = await nextMessage(child, (m): m is Extract<FromEngine, { type: 'ready' }> => m.type === 'ready', readyTimeoutMs, 'ready', describe);
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    throw error;
  }

  if (childOptions.mediaDir === undefined) ownMediaDir = ready.mediaDir;
  const labels = new Map<string, string>(ready.labels);
  const setLabels = (entries: LabelEntries): ReadonlyMap<string, string> => {
    labels.clear();
    for (const [uri, label] of entries) labels.set(uri, label);
    return labels;
  };
  let nextId = 0;
  const ask = async <T extends FromEngine['type']>(request: (id: number) => ToEngine, type: T, timeoutMs: number): Promise<Extract<FromEngine, { type: T }>> => {
    if (hasEnded() || !child.connected) throw new Error(`cannot ask for '${type}': ${describe()}`);
    nextId += 1;
    const id = nextId;
    const answer = nextMessage(child, (m): m is Extract<FromEngine, { type: T }> => m.type === type && 'id' in m && m.id === id, timeoutMs, `'${type}' answer`, describe);
    child.send(request(id));
    return answer;
  };
  const waitExit = async (timeoutMs: number, what: string): Promise<number | NodeJS.Signals | null> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), timeoutMs);
    });
    const outcome = await Promise.race([exited, late]);
    clearTimeout(timer);
    if (outcome !== 'late') return outcome;
    const message = `engine process did not exit within ${timeoutMs} ms of ${what}; killed. ${describe()}`;
    child.kill('SIGKILL');
    await exited;
    throw new Error(message);
  };

  return {
    pid: ready.pid,
    httpOrigin: ready.httpOrigin,
    mediaDir: ready.mediaDir,
    labels,
    exited,
    get ended() {
      return hasEnded();
    },
    log,
    label: (uri) => labels.get(uri) ?? uri,
    async refreshLabels(timeoutMs = 5000) {
      return setLabels((await ask((id) => ({ type: 'labels', id }), 'labels', timeoutMs)).labels);
    },
    async labelSays(texts, voice, timeoutMs = 5000) {
      const request = (id: number): ToEngine => ({ type: 'say-uris', id, texts, ...(voice === undefined ? {} : { voice }) });
      return setLabels((await ask(request, 'labels', timeoutMs)).labels);
    },
    async status(timeoutMs = 5000) {
      return (await ask((id) => ({ type: 'status', id }), 'status', timeoutMs)).status;
    },
    async kill(signal = 'SIGKILL') {
      if (!hasEnded()) child.kill(signal);
      // SIGKILL cannot be caught: the kernel ends the process at once.
      return waitExit(signal === 'SIGKILL' ? 5000 : 15_000, signal);
    },
    async terminate(timeoutMs = 15_000) {
      if (!hasEnded()) child.kill('SIGTERM');
      return waitExit(timeoutMs, 'SIGTERM');
    },
    describe,
  };
}

/** The next message that passes `test`; rejects on 'failed', on exit, or after `timeoutMs`. */
function nextMessage<M extends FromEngine>(
  child: ChildProcess,
  test: (message: FromEngine) => message is M,
  timeoutMs: number,
  what: string,
  describe: () => string,
): Promise<M> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: FromEngine): void => {
      if (test(message)) {
        cleanup();
        resolve(message);
      } else if (message.type === 'failed') {
        cleanup();
        reject(new Error(`engine process failed: ${message.message}\n${describe()}`));
      }
    };
    const onExit = (): void => {
      cleanup();
      // Let the last stderr lines arrive before describing them.
      setImmediate(() => reject(new Error(`engine process exited before sending ${what}: ${describe()}`)));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no ${what} from the engine process within ${timeoutMs} ms: ${describe()}`));
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}
