// A private redis-server on a port of its own that a test can stop, start again on the
// same port (empty: no persistence, like a Redis restarted without its data), pause
// (SIGSTOP: connections stay open, nothing answers) and resume. Never the Redis on
// 127.0.0.1:6379, never the run's shared one.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { INSTALL_HINT, RedisLauncherError } from './redis.js';
import { freeTcpPort } from './ports.js';

const READY_TIMEOUT_MS = 10_000;

export class RestartableRedis {
  readonly url: string;
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {
    this.url = `redis://127.0.0.1:${port}`;
  }

  /** A server on a free port, not started yet (connections to it are refused). */
  static async create(): Promise<RestartableRedis> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'opentact-redis-restartable-'));
    return new RestartableRedis(await freeTcpPort(), dir);
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the server, empty; resolves once it accepts connections (bounded). */
  async start(): Promise<void> {
    if (this.running) return;
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir];
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stderr?.on('data', () => undefined);
    let output = '';
    const ready = new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
        if (output.includes('Ready to accept connections')) resolve();
      });
      child.once('exit', (code, signal) =>
        reject(new RedisLauncherError(`redis-server exited (${signal ?? code}) before it was ready:\n${output}`)),
      );
      child.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          error.code === 'ENOENT'
            ? new RedisLauncherError(`redis-server is not installed; install it with: ${INSTALL_HINT}`, { cause: error })
            : error,
        ),
      );
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), READY_TIMEOUT_MS);
    try {
      await ready;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops the server (SIGTERM, then SIGKILL); its data is gone. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined || !this.running) return;
    const exited = once(child, 'exit');
    child.kill('SIGCONT'); // a paused server cannot act on SIGTERM
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }

  /** Stops the server and starts an empty one on the same port. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Freezes the server: connections stay open, nothing is answered. */
  pause(): void {
    if (this.running) this.child?.kill('SIGSTOP');
  }

  resume(): void {
    if (this.running) this.child?.kill('SIGCONT');
  }

  /** Stops the server and removes its directory. */
  async dispose(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}
