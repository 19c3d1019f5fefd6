// Asterisk's WARNING and ERROR lines of a run, counted by message: under overload Asterisk
// says so itself (e.g. "task processor queue reached 500 scheduled tasks"). Channel names
// and ids are blurred so that one kind of line is counted once.
import { tally } from './stats.js';

const PROBLEM = /\b(WARNING|ERROR)\[\d+\](?:\[[^\]]*\])?: (\S+?):\d+ (\S+): (.*)$/;

export function asteriskProblems(lines: readonly string[]): Record<string, number> {
  const keys: string[] = [];
  for (const line of lines) {
    const match = PROBLEM.exec(line);
    if (match === null) continue;
    const [, level, file, func, message = ''] = match;
    const blurred = message
      .replace(/\bload-[0-9a-f]{8}(-\d+-(caller|engine))?/g, 'load-…')
      .replace(/\b(Local|PJSIP|Stasis|Snoop)\/\S+/g, '$1/…')
      .replace(/\b[0-9a-f]{8,}(-[0-9a-f]{4,})*\b/gi, '…')
      .trim();
    keys.push(`${level} ${file} ${func}: ${blurred}`);
  }
  return tally(keys);
}
