// Runs a chain of child processes (`a | b | …`) without a shell: argument arrays only,
// the input written to the first one's stdin, every process killed when the signal aborts.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { SpeechError, TTS_INSTALL_HINT } from './errors.js';

export interface Stage {
  readonly command: string;
  readonly args: readonly string[];
}

const STDERR_LIMIT = 2048;

type Child = ChildProcessByStdio<Writable, Readable, Readable>;

interface Outcome {
  readonly stage: Stage;
  readonly code: number | null;
  readonly spawnError?: NodeJS.ErrnoException;
  readonly stderr: string;
}

/**
 * Resolves when every process exited 0. The last stage's stdout is discarded (it writes
 * its output to a file).
 * @throws SpeechError 'engine_missing', 'engine_failed' or 'cancelled'
 */
export async function runPipeline(stages: readonly Stage[], input: string | Buffer, signal: AbortSignal): Promise<void> {
  if (signal.aborted) throw new SpeechError('cancelled', 'cancelled before starting');
  const children: Child[] = stages.map((stage) => spawn(stage.command, [...stage.args], { stdio: ['pipe', 'pipe', 'pipe'] }));
  const killAll = (): void => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  signal.addEventListener('abort', killAll, { once: true });
  children.forEach((child, i) => {
    // A process that dies early makes its neighbours' pipes fail (EPIPE): its exit code
    // tells the story, so stream errors are only swallowed here.
    child.stdin.on('error', () => undefined);
    child.stdout.on('error', () => undefined);
    const next = children[i + 1];
    if (next) child.stdout.pipe(next.stdin);
    else child.stdout.resume();
  });
  children[0]?.stdin.end(typeof input === 'string' ? Buffer.from(input, 'utf8') : input);
  try {
    // One failing process stops the others: a writer to a dead pipe could block forever.
    const outcomes = await Promise.all(
      children.map((child, i) =>
        outcomeOf(child, stages[i] as Stage).then((outcome) => {
          if (outcome.code !== 0) killAll();
          return outcome;
        }),
      ),
    );
    if (signal.aborted) throw new SpeechError('cancelled', 'stopped while rendering');
    const missing = outcomes.find((o) => o.spawnError?.code === 'ENOENT');
    if (missing) {
      throw new SpeechError('engine_missing', `"${missing.stage.command}" was not found; install it: ${TTS_INSTALL_HINT}`, {
        cause: missing.spawnError,
      });
    }
    const failed = outcomes.find((o) => o.spawnError !== undefined || o.code !== 0);
    if (failed) {
      const how = failed.spawnError ? `could not start: ${failed.spawnError.message}` : `exited with ${failed.code ?? 'a signal'}`;
      const said = outcomes.map((o) => o.stderr).filter((s) => s !== '').join(' | ');
      throw new SpeechError('engine_failed', `${failed.stage.command} ${how}${said ? `: ${said}` : ''}`);
    }
  } finally {
    signal.removeEventListener('abort', killAll);
  }
}

function outcomeOf(child: Child, stage: Stage): Promise<Outcome> {
  return new Promise((resolve) => {
    let stderr = '';
    let spawnError: NodeJS.ErrnoException | undefined;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      if (stderr.length < STDERR_LIMIT) stderr += text.slice(0, STDERR_LIMIT - stderr.length);
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      spawnError = error;
    });
    // 'close': the process is gone and its stdio is drained, so nothing writes afterwards.
    child.on('close', (code) => {
      resolve({ stage, code, stderr: stderr.trim(), ...(spawnError ? { spawnError } : {}) });
    });
  });
}
