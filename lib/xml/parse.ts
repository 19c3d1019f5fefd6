import { DOMParser, type Document } from '@xmldom/xmldom';
import { XmlError, type XmlProblemCode } from './errors.js';
import { MAX_PROBLEMS, ProblemList, START } from './problems.js';

export { MAX_PROBLEMS };
import {
  findBadReferences,
  findDeclarations,
  findEncodingProblem,
  findIllegalCharacters,
  findStructureProblems,
} from './scan.js';
import { LineIndex, decodeSource } from './source.js';
import type { FlowDocument, SourcePosition } from './types.js';
import { Walker } from './walker.js';

export const DEFAULT_MAX_DOCUMENT_BYTES = 256 * 1024;

export interface ParseOptions {
  /** Largest accepted document in bytes (default 256 KiB); checked before parsing. */
  maxBytes?: number;
  /**
   * The parser stops once it has found this many problems (default 1000, `Infinity` for
   * all of them: `opentact-ari check` counts them all). Past the default, a hostile
   * document could make it build hundreds of thousands of messages.
   */
  maxProblems?: number;
}

/**
 * Parses an Opentact XML document into its typed form.
 *
 * @throws {XmlError} listing every problem found, in document order. Nothing else is thrown
 * for any document; a `RangeError` or `TypeError` means the call itself was wrong.
 */
export function parseDocument(input: string | Buffer, options: ParseOptions = {}): FlowDocument {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_DOCUMENT_BYTES;
  if (!(maxBytes >= 0)) throw new RangeError(`maxBytes must be a non-negative number, got ${String(maxBytes)}`);
  const maxProblems = options.maxProblems ?? MAX_PROBLEMS;
  if (!(maxProblems >= 1)) throw new RangeError(`maxProblems must be at least 1, got ${String(maxProblems)}`);
  if (typeof input !== 'string' && !(input instanceof Uint8Array)) {
    throw new TypeError('parseDocument expects a string or a Buffer');
  }

  const size = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.byteLength;
  if (size > maxBytes) {
    throw single('too_large', `the document is ${size} bytes, over the limit of ${maxBytes} bytes`);
  }
  const decoded = decodeSource(input);
  if (!decoded.ok) throw single('syntax', decoded.message, decoded.at);
  const text = decoded.text;
  if (/^[ \t\n]*$/.test(text)) throw single('empty', 'the document is empty');

  const lines = new LineIndex(text);
  const problems = new ProblemList(maxProblems);

  // Checked before xmldom sees anything: a document with a DTD is never parsed at all.
  const declarations = findDeclarations(text);
  if (declarations.length > 0) {
    for (const d of declarations) problems.add('doctype', d.message, lines.at(d.offset), '');
    throw problems.toError();
  }

  const encoding = findEncodingProblem(text);
  if (encoding) problems.add('encoding', encoding.message, lines.at(encoding.offset), '');
  for (const finding of [...findIllegalCharacters(text, maxProblems), ...findBadReferences(text, maxProblems)]) {
    problems.add('syntax', finding.message, lines.at(finding.offset), '');
  }
  const structure = findStructureProblems(text, maxProblems, lines);
  for (const finding of structure) problems.add('syntax', finding.message, lines.at(finding.offset), '');
  const document = parseXml(text, problems, structure.length > 0);
  // A document that is not well-formed is not read further: its tree cannot be trusted.
  if (!document || problems.size > 0) throw problems.toError();

  const root = document.documentElement;
  if (!root) throw single('syntax', NO_ELEMENT);
  if (root.tagName.toLowerCase() !== 'response') {
    const at = { line: root.lineNumber ?? 1, column: root.columnNumber ?? 1 };
    throw single('root', `the root element must be <Response>, not <${root.tagName}>`, at, root.tagName);
  }

  const tree = new Walker(text, lines, problems).root(root);
  // The Response always builds when nothing was reported; `!tree` only narrows the type.
  if (!tree || problems.size > 0) throw problems.toError();
  return { ...tree, size, source: text };
}

const NO_ELEMENT = 'no root element found: this does not look like an XML document';

// Problems our own scan (scan.ts) reports with better positions; xmldom's copies are dropped.
const COVERED_BY_SCAN = [
  'Unicode replacement character',
  'EntityRef:',
  'entity not matching Reference production',
  'entity not found',
];

// The element structure, which xmldom places at the last start tag it read: reported by
// findStructureProblems where the problem stands. xmldom's copies are dropped when that scan
// found something (otherwise they are kept, so a problem is never lost).
const COVERED_BY_STRUCTURE_SCAN = [
  'end tag name',
  'Opening and ending tag mismatch',
  'unclosed xml tag(s)',
  'Extra content at the end of the document',
  'Unexpected content outside root element',
  'Error constructing the DOM: HierarchyRequestError',
];

/** Thrown from xmldom's error handler to stop it once enough problems are collected. */
class StopParsing extends Error {
  readonly code = 'stop_parsing';
}

function parseXml(text: string, problems: ProblemList, structureReported: boolean): Document | undefined {
  let seen = 0;
  const onError = (_level: string, message: string, context: unknown): void => {
    seen++;
    if (COVERED_BY_SCAN.some((prefix) => message.startsWith(prefix))) return;
    if (structureReported && COVERED_BY_STRUCTURE_SCAN.some((prefix) => message.startsWith(prefix))) return;
    problems.add('syntax', describeXmldomError(message), locate(context), '');
    if (problems.full) throw new StopParsing();
  };
  try {
    const parser = new DOMParser({ locator: true, onError, normalizeLineEndings: (source) => source });
    return parser.parseFromString(text, 'text/xml');
  } catch (error) {
    if ((seen === 0 || problems.size === 0) && !problems.full) {
      const message = error instanceof Error ? error.message : String(error);
      problems.add('syntax', describeXmldomError(message), START, '');
    }
    return undefined;
  }
}

/** xmldom's message, without the wrapping of its own exceptions ("element parse error: Error: "). */
function describeXmldomError(message: string): string {
  if (message.startsWith('missing root element')) return NO_ELEMENT;
  const own = message.replace(/^element parse error: (?:[A-Za-z]*Error: )?/, '').replace(/[:\s]+$/, '');
  return `not well-formed XML: ${own.length > 200 ? `${own.slice(0, 200)}…` : own}`;
}

/** xmldom passes its DOM handler, whose `locator` says where the parser stood. */
function locate(context: unknown): SourcePosition {
  const locator = property(context, 'locator');
  const line = property(locator, 'lineNumber');
  const column = property(locator, 'columnNumber');
  return {
    line: typeof line === 'number' && line >= 1 ? line : 1,
    column: typeof column === 'number' && column >= 1 ? column : 1,
  };
}

function property(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

function single(code: XmlProblemCode, message: string, at: SourcePosition = START, path = ''): XmlError {
  return new XmlError([{ code, message, line: at.line, column: at.column, path }]);
}
