// A Logger (lib/flow/ports.ts) for tests and scripts: silent below `level`, one line of
// JSON on stderr otherwise. Optionally keeps every entry for assertions.
import type { Logger } from '../../lib/flow/ports.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface LogEntry {
  readonly level: Exclude<LogLevel, 'silent'>;
  readonly obj: object;
  readonly msg: string | undefined;
}

export interface TestLogger extends Logger {
  readonly entries: LogEntry[];
}

function describeError(value: unknown): unknown {
  return value instanceof Error ? { name: value.name, message: value.message } : value;
}

export function stderrLogger(level: LogLevel = 'warn', prefix = '', entries: LogEntry[] = [], bound: object = {}): TestLogger {
  const write =
    (at: Exclude<LogLevel, 'silent'>) =>
    (own: object, msg?: string): void => {
      const obj = { ...bound, ...own };
      entries.push({ level: at, obj, msg });
      if (RANK[at] < RANK[level]) return;
      const fields = Object.fromEntries(Object.entries(obj).map(([key, value]) => [key, describeError(value)]));
      process.stderr.write(`${prefix}${JSON.stringify({ level: at, msg, ...fields })}\n`);
    };
  return {
    entries,
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (fields) => stderrLogger(level, prefix, entries, { ...bound, ...fields }),
  };
}
