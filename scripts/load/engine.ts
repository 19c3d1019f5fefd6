// The engine under load: `opentact-ari start` (every role in one process) started by the
// tool as a child process, configured through its environment like any deployment, or an
// engine already running. Either way the tool reads its /ready and /metrics, and its CPU
// and memory from /proc when its process id is known.
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { freeTcpPort } from '../../test/support/ports.js';
import { exitOf, hasExited, spawnChild, stopChild, type Cleanup } from './children.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const EXIT_WITH_PARENT = fileURLToPath(new URL('./exit-with-parent.ts', import.meta.url));

export interface EngineHandle {
  /** Its HTTP_PORT: `http://127.0.0.1:<port>` (/ready, /metrics). */
  readonly url: string;
  /** Undefined for a running engine whose pid was not given. */
  readonly pid: number | undefined;
  /** How the tool started it, for the report (none for a running engine). */
  readonly env: Readonly<Record<string, string>>;
  /** The engine's warnings and errors, counted by message (a started engine only). */
  logSummary(): Promise<LogSummary>;
}

export interface LogSummary {
  /** `warn: <msg>` / `error: <msg>` → lines. */
  readonly lines: Readonly<Record<string, number>>;
}

export interface EngineSettings {
  readonly ari: { readonly url: string; readonly username: string; readonly password: string; readonly app: string };
  readonly redisUrl: string;
  readonly appsFile: string;
  /** A directory of the run's own (media cache, log). */
  readonly dir: string;
  /** Overrides and additions (--engine-env). */
  readonly extraEnv: Readonly<Record<string, string>>;
}

/** Resolves once GET <url>/ready answers 200; rejects after `timeoutMs`, or when `gone()` says the process exited. */
async function whenReady(url: string, timeoutMs: number, gone: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (gone()) throw new Error('the engine exited before it was ready');
    try {
      const answer = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(2000) });
      if (answer.status === 200) return;
      last = `${answer.status} ${await answer.text()}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    // The engine announces readiness only through /ready: poll it.
    await sleep(200);
  }
  throw new Error(`the engine was not ready within ${timeoutMs} ms (last /ready: ${last})`);
}

async function summarise(logFile: string): Promise<LogSummary> {
  const counts = new Map<string, number>();
  const text = await readFile(logFile, 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    // pino levels: 40 warn, 50 error, 60 fatal. Only those lines are parsed.
    if (!/"level":(4|5|6)0\b/.test(line)) continue;
    let parsed: { level?: number; msg?: string };
    try {
      parsed = JSON.parse(line) as { level?: number; msg?: string };
    } catch {
      continue;
    }
    const level = parsed.level === 40 ? 'warn' : parsed.level === 50 ? 'error' : 'fatal';
    const key = `${level}: ${parsed.msg ?? '(no message)'}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return { lines: Object.fromEntries([...counts].sort((a, b) => b[1] - a[1])) };
}

/** Starts `opentact-ari start` from the sources; resolves once its /ready says 200. */
export async function startEngine(settings: EngineSettings, cleanup: Cleanup): Promise<EngineHandle> {
  const port = await freeTcpPort();
  const url = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    ARI_URL: settings.ari.url,
    ARI_USERNAME: settings.ari.username,
    ARI_APP: settings.ari.app,
    REDIS_URL: settings.redisUrl,
    QUEUE_PREFIX: `load-${process.pid}`,
    APPS_FILE: settings.appsFile,
    OUTBOUND_ALLOW: '127.0.0.0/8',
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(port),
    PUBLIC_BASE_URL: url,
    MEDIA_CACHE_DIR: join(settings.dir, 'media'),
    LOG_LEVEL: 'info',
    // The tool stops the engine after the calls are over: nothing is left to drain.
    SHUTDOWN_GRACE_MS: '2000',
    ...settings.extraEnv,
  };
  const logFile = join(settings.dir, 'engine.log');
  const logFd = openSync(logFile, 'a');
  const child = spawnChild(process.execPath, ['--import', 'tsx', '--import', EXIT_WITH_PARENT, 'app/cli.ts', 'start'], {
    cwd: ROOT,
    // Only what the engine needs: the tool's own environment (an ARI_URL or REDIS_URL of
    // the shell) must not reach it. The password goes here, not into `env`, which is reported.
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? settings.dir, ...env, ARI_PASSWORD: settings.ari.password },
    stdio: ['ignore', logFd, logFd, 'ipc'],
  });
  closeSync(logFd);
  cleanup.add('the engine', () => stopChild(child, 10_000));
  const exited = exitOf(child);
  try {
    await whenReady(url, 60_000, () => hasExited(child));
  } catch (error) {
    const tail = (await readFile(logFile, 'utf8').catch(() => '')).trim().split('\n').slice(-15).join('\n');
    const [code, signal] = hasExited(child) ? await exited : [null, null];
    const how = hasExited(child) ? ` (exit ${String(signal ?? code)})` : '';
    throw new Error(`${error instanceof Error ? error.message : String(error)}${how}; its last log lines:\n${tail}`);
  }
  return { url, pid: child.pid, env, logSummary: () => summarise(logFile) };
}

/** An engine already running at `url`: checks that it answers /ready. */
export async function attachEngine(url: string, pid: number | undefined): Promise<EngineHandle> {
  await whenReady(url, 10_000, () => false);
  return { url, pid, env: {}, logSummary: () => Promise.resolve({ lines: {} }) };
}

/**
 * The engine's /metrics once it runs no call (opentact_calls_active 0), so that it has
 * counted the end of every call; after `settleMs`, whatever it says then.
 */
export async function scrapeWhenIdle(url: string, settleMs: number): Promise<string | undefined> {
  const deadline = Date.now() + settleMs;
  for (;;) {
    const text = await scrapeMetrics(url);
    const active = text === undefined ? undefined : /^opentact_calls_active (\S+)$/m.exec(text)?.[1];
    if (text === undefined || active === undefined || Number(active) === 0 || Date.now() >= deadline) return text;
    // The gauge is only read, never pushed: poll it.
    await sleep(200);
  }
}

/** The engine's /metrics text, or undefined when it does not answer within 5 s. */
export async function scrapeMetrics(url: string): Promise<string | undefined> {
  try {
    const answer = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) });
    return answer.status === 200 ? await answer.text() : undefined;
  } catch {
    return undefined;
  }
}
