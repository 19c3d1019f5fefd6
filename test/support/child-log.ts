// A child process's output, read as the engine writes it: one JSON object per line (a
// line that is not JSON is kept as `{ msg: <line> }`), with a bounded wait for a line.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';

export interface JsonLine {
  readonly msg?: string;
  readonly [key: string]: unknown;
}

/**
 * A child process's JSON lines (one stream), and a bounded wait for one. With `maxLines`
 * only the last that many are kept (a long-running child); a wait still sees every line
 * that arrives after it starts.
 */
export class JsonLog {
  readonly lines: JsonLine[] = [];
  readonly text: string[] = [];
  private readonly waiters: { test: (l: JsonLine) => boolean; resolve: (l: JsonLine) => void }[] = [];

  constructor(stream: NodeJS.ReadableStream | null, maxLines = Infinity) {
    let buffer = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      buffer += chunk;
      const parts = buffer.split('\n');
      buffer = parts.pop() ?? '';
      for (const part of parts) {
        if (part.trim() === '') continue;
        this.text.push(part);
        let line: JsonLine;
        try {
          line = JSON.parse(part) as JsonLine;
        } catch {
          line = { msg: part };
        }
        this.lines.push(line);
        if (this.lines.length > maxLines) {
          this.lines.splice(0, this.lines.length - maxLines);
          this.text.splice(0, this.text.length - maxLines);
        }
        for (const waiter of this.waiters.filter((w) => w.test(line))) {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    });
  }

  waitFor(test: (l: JsonLine) => boolean, timeoutMs: number, what: string): Promise<JsonLine> {
    const found = this.lines.find(test);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${what} within ${timeoutMs} ms; last lines:\n${this.text.slice(-20).join('\n')}`)), timeoutMs);
      this.waiters.push({
        test,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
    });
  }
}

/** Stops a child: SIGTERM, then SIGKILL after `graceMs`. */
export async function stopChild(child: ChildProcess | undefined, graceMs = 5000): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(kill);
}

