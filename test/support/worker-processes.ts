// Starts worker-process.ts children and drives them: wait until ready, ask for CPU usage,
// stop gracefully, or kill outright.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FromWorker, ToWorker, WorkerProcessOptions } from './worker-process.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ENTRY = path.join(here, 'worker-process.ts');
const ROOT = path.resolve(here, '..', '..');

export interface WorkerProcess {
  readonly pid: number;
  /** Resolves with the exit code or signal once the process has ended. */
  readonly exited: Promise<number | NodeJS.Signals | null>;
  cpuUsage(): Promise<NodeJS.CpuUsage>;
  /** Graceful: the worker finishes or hands back its jobs, then the process exits. */
  stop(): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

function nextMessage<T extends FromWorker['type']>(child: ChildProcess, type: T): Promise<Extract<FromWorker, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: FromWorker): void => {
      if (message.type === type) {
        cleanup();
        resolve(message as Extract<FromWorker, { type: T }>);
      } else if (message.type === 'failed') {
        cleanup();
        reject(new Error(`worker process failed: ${message.message}`));
      }
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      cleanup();
      reject(new Error(`worker process exited (${signal ?? code}) before sending '${type}'`));
    };
    const cleanup = (): void => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

export async function startWorkerProcess(options: WorkerProcessOptions): Promise<WorkerProcess> {
  const child = fork(ENTRY, [], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, WORKER_PROCESS_OPTIONS: JSON.stringify(options) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = once(child, 'exit').then(([code, signal]) => (signal as NodeJS.Signals | null) ?? (code as number | null));
  try {
    await nextMessage(child, 'ready');
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    throw error;
  }
  const ended = (): boolean => child.exitCode !== null || child.signalCode !== null;
  const request = (message: ToWorker): void => {
    if (child.connected) child.send(message);
  };
  return {
    pid: child.pid ?? 0,
    exited,
    async cpuUsage() {
      const answer = nextMessage(child, 'cpu');
      request({ type: 'cpu' });
      return (await answer).usage;
    },
    async stop() {
      if (ended()) return;
      if (child.connected) request({ type: 'stop' });
      else child.kill('SIGTERM');
      await exited;
    },
    async kill(signal = 'SIGKILL') {
      if (ended()) return;
      child.kill(signal);
      await exited;
    },
  };
}
