// Runs the load tool (scripts/load.ts) as a child process, as `npm run load` does, and
// reads its JSON result: for the tests of the tool itself.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadResult } from '../../scripts/load/result.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface LoadRun {
  readonly child: ChildProcess;
  /** Everything it printed on stderr so far (set-up steps, progress). */
  readonly stderr: () => string;
  /** Resolves once it has exited, with its exit code and result (undefined when none was written). */
  readonly finished: Promise<{ readonly code: number | null; readonly stdout: string; readonly result: LoadResult | undefined }>;
}

/** Starts `scripts/load.ts ARGS… --out <temporary file>`. */
export async function startLoadTool(args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<LoadRun> {
  const dir = await mkdtemp(join(tmpdir(), 'load-tool-test-'));
  const out = join(dir, 'result.json');
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/load.ts', ...args, '--out', out], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const finished = (async () => {
    const [code] = (await once(child, 'exit')) as [number | null];
    const text = await readFile(out, 'utf8').catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    return { code, stdout, result: text === undefined ? undefined : (JSON.parse(text) as LoadResult) };
  })();
  return { child, stderr: () => stderr, finished };
}

/** Whether a process with this id still runs. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
