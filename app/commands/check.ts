import { readFile } from 'node:fs/promises';
import { MAX_PROBLEMS, XmlError, formatProblem, parseDocument } from '../../lib/xml/index.js';
import { describeError } from '../describe-error.js';
import type { Output } from '../output.js';

export interface CheckOptions {
  readonly maxBytes: number;
}

/** Problems listed per document; past this, one line says how many more there are. */
export const SHOWN_PROBLEMS = MAX_PROBLEMS;

/**
 * Validates documents: one line `FILE:LINE:COL: CODE message (path)` per problem on stdout,
 * the first 1000 of a document in document order, then `FILE: N more problems not shown`
 * when it has more (every problem is counted). Exit code 0 when all are valid, 1 when a
 * document has problems, 2 when a file cannot be read.
 */
export async function check(files: readonly string[], options: CheckOptions, out: Output): Promise<number> {
  let exitCode = 0;
  for (const file of files) {
    let text: Buffer;
    try {
      text = await readFile(file);
    } catch (error) {
      out.error(`opentact-ari: cannot read ${file}: ${describeError(error)}`);
      exitCode = 2;
      continue;
    }
    try {
      parseDocument(text, { maxBytes: options.maxBytes, maxProblems: Infinity });
    } catch (error) {
      if (!(error instanceof XmlError)) throw error;
      for (const problem of error.problems.slice(0, SHOWN_PROBLEMS)) out.line(`${file}:${formatProblem(problem)}`);
      const hidden = error.problems.length - SHOWN_PROBLEMS;
      if (hidden > 0) {
        out.line(`${file}: ${hidden} more problem${hidden === 1 ? '' : 's'} not shown (the first ${SHOWN_PROBLEMS} are listed)`);
      }
      exitCode = Math.max(exitCode, 1);
    }
  }
  return exitCode;
}
