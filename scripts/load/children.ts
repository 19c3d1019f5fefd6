// The processes and resources the load tool starts, and their stopping: every start
// registers its stop with a Cleanup, which runs them newest first, each bounded in time,
// on the way out whatever the way (end of run, error, Ctrl-C). Child processes are also
// killed with SIGKILL when this process exits with one still running, as a last resort.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';

/**
 * `work`'s value, or 'timeout' when it takes longer than `ms`; the timer never outlives the
 * race. (A plain timer: an aborted AbortSignal builds a DOMException, which costs too much
 * at a few thousand calls per second.)
 */
export async function within<T>(work: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(resolve, ms, 'timeout');
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

const running = new Set<ChildProcess>();

process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Spawns a child process that is killed when this process exits, if it is still running then. */
export function spawnChild(command: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  const child = spawn(command, args, options);
  running.add(child);
  child.once('exit', () => running.delete(child));
  child.once('error', () => running.delete(child));
  return child;
}

export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child has exited. */
export async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (hasExited(child) || child.pid === undefined) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  if ((await within(exited, graceMs)) !== 'timeout') return;
  child.kill('SIGKILL');
  await within(exited, 2000);
}

/** Resolves with [code, signal] when the child exits. */
export function exitOf(child: ChildProcess): Promise<[number | null, NodeJS.Signals | null]> {
  if (hasExited(child)) return Promise.resolve([child.exitCode, child.signalCode]);
  return once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
}

interface Step {
  readonly name: string;
  readonly run: () => Promise<void>;
}

export class Cleanup {
  private readonly steps: Step[] = [];
  private running: Promise<void> | undefined;

  /** Registers what undoes a start; it runs before everything registered earlier. */
  add(name: string, run: () => Promise<void>): void {
    this.steps.push({ name, run });
  }

  /** Runs every step once, newest first, each within `stepTimeoutMs`; reports failures on stderr. */
  runAll(stepTimeoutMs = 15_000): Promise<void> {
    this.running ??= (async () => {
      for (const step of this.steps.splice(0).reverse()) {
        try {
          const outcome = await within(step.run(), stepTimeoutMs);
          if (outcome === 'timeout') process.stderr.write(`load: stopping ${step.name} took over ${stepTimeoutMs} ms; moving on\n`);
        } catch (error) {
          process.stderr.write(`load: stopping ${step.name} failed: ${error instanceof Error ? error.message : String(error)}\n`);
        }
      }
    })();
    return this.running;
  }
}

/**
 * Sends `message` to a child over IPC and resolves with its first message that `accept`
 * takes; rejects after `timeoutMs` or when the child exits first.
 */
export function askChild<Reply>(child: ChildProcess, message: unknown, accept: (reply: unknown) => reply is Reply, timeoutMs: number, what: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const onMessage = (reply: unknown): void => {
      if (!accept(reply)) return;
      done();
      resolve(reply);
    };
    const onExit = (): void => {
      done();
      reject(new Error(`${what}: the child process exited first`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`${what}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
    if (message !== undefined) child.send(message as Parameters<ChildProcess['send']>[0]);
  });
}
