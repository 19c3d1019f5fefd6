import { readFile } from 'node:fs/promises';
import { XmlError, formatProblem, parseDocument } from '../../lib/xml/index.js';
import { describeError } from '../describe-error.js';
import type { Output } from '../output.js';

export interface CheckOptions {
  readonly maxBytes: number;
}

/**
 * Validates documents: one line `FILE:LINE:COL: CODE message (path)` per problem on stdout.
 * Exit code 0 when all are valid, 1 when a document has problems, 2 when a file cannot be read.
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
      parseDocument(text, { maxBytes: options.maxBytes });
    } catch (error) {
      if (!(error instanceof XmlError)) throw error;
      for (const problem of error.problems) out.line(`${file}:${formatProblem(problem)}`);
      exitCode = Math.max(exitCode, 1);
    }
  }
  return exitCode;
}
