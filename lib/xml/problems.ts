import { XmlError, type XmlProblem, type XmlProblemCode } from './errors.js';
import type { SourcePosition } from './types.js';

/**
 * Past this many problems the parser stops collecting (by default): a hostile document
 * could otherwise make it build hundreds of thousands of messages.
 */
export const MAX_PROBLEMS = 1000;

/** The problems found in one document, reported in document order. */
export class ProblemList {
  private readonly items: XmlProblem[] = [];

  constructor(readonly limit: number = MAX_PROBLEMS) {}

  add(code: XmlProblemCode, message: string, at: SourcePosition, path: string): void {
    if (this.full) return;
    this.items.push({ code, message, line: at.line, column: at.column, path });
  }

  get size(): number {
    return this.items.length;
  }

  get full(): boolean {
    return this.items.length >= this.limit;
  }

  /** The problems sorted by position; problems at one position keep the order found. */
  toError(): XmlError {
    const sorted = [...this.items].sort((a, b) => a.line - b.line || a.column - b.column);
    return new XmlError(sorted);
  }
}

export const START: SourcePosition = { line: 1, column: 1 };

/** Shortens a value quoted in a message so one huge attribute cannot flood the output. */
export function quote(value: string, max = 60): string {
  const shown = value.length > max ? `${value.slice(0, max)}…` : value;
  return JSON.stringify(shown);
}
