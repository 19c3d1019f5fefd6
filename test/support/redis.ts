// A real Redis for tests and benchmarks: `REDIS_URL` when set, else a `redis-server` of
// our own on a free loopback port, with no persistence, in a temporary directory.
//
// Suites call `sharedRedisUrl()`: the first call starts one server for the whole mocha
// run; importing this module registers a root-level after-all hook that stops it, so
// mocha exits by itself. Never the Redis on 127.0.0.1:6379 that may run on the machine.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freeTcpPort } from './ports.js';

export const INSTALL_HINT = 'apt-get install -y redis-server';

export class RedisLauncherError extends Error {
  readonly code = 'redis_launcher';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RedisLauncherError';
  }
}

export interface RedisServer {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** Stops the server (SIGTERM, then SIGKILL) and removes its directory; idempotent. */
  stop(): Promise<void>;
}

/** Resolves when the server logs that it accepts connections; rejects if it exits first. */
function whenReady(child: ChildProcess, output: { text: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output.text += chunk.toString('utf8');
      if (output.text.includes('Ready to accept connections')) {
        cleanup();
        resolve();
      }
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      cleanup();
      reject(new RedisLauncherError(`redis-server exited (${signal ?? code}) before it was ready:\n${output.text}`));
    };
    const onError = (error: NodeJS.ErrnoException): void => {
      cleanup();
      reject(
        error.code === 'ENOENT'
          ? new RedisLauncherError(`redis-server is not installed; install it with: ${INSTALL_HINT}`, { cause: error })
          : error,
      );
    };
    const cleanup = (): void => {
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
    };
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}

async function ping(url: string): Promise<void> {
  const client = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true, retryStrategy: () => null });
  try {
    await client.connect();
    const answer = await client.ping();
    if (answer !== 'PONG') throw new RedisLauncherError(`redis-server answered PING with ${answer}`);
  } finally {
    client.disconnect();
  }
}

async function launchOnce(): Promise<RedisServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'opentact-redis-'));
  const port = await freeTcpPort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr?.on('data', () => undefined);
  const output = { text: '' };
  try {
    await whenReady(child, output);
  } catch (error) {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  // Past readiness the log is not needed; keep draining it so the pipe never fills.
  child.stdout?.on('data', () => undefined);
  const url = `redis://127.0.0.1:${port}`;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    })();
    return stopping;
  };
  try {
    await ping(url);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, stop };
}

/** Starts a private redis-server (a few tries, in case the free port was taken meanwhile). */
export async function startRedisServer(): Promise<RedisServer> {
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      return await launchOnce();
    } catch (error) {
      if (error instanceof RedisLauncherError && error.message.includes('not installed')) throw error;
      last = error;
    }
  }
  throw new RedisLauncherError('could not start redis-server', { cause: last });
}

let shared: Promise<RedisServer> | undefined;

/** The Redis URL for this test run: `REDIS_URL`, or one server started on first use. */
export async function sharedRedisUrl(): Promise<string> {
  const fromEnv = process.env['REDIS_URL'];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  shared ??= startRedisServer();
  return (await shared).url;
}

export async function stopSharedRedis(): Promise<void> {
  const current = shared;
  shared = undefined;
  // A server that never started has nothing to stop; its error was reported where it was used.
  if (current) await current.then((server) => server.stop(), () => undefined);
}

/** A key prefix of its own for a suite, so suites never see each other's jobs. */
export function uniquePrefix(suite: string): string {
  return `test-${suite}-${randomUUID().slice(0, 8)}`;
}

// Loaded by a spec file, this runs while mocha reads the files: `after` at top level is
// a root hook. Loaded elsewhere (a benchmark), mocha's globals are absent.
if (typeof globalThis.after === 'function') {
  after(stopSharedRedis);
}
