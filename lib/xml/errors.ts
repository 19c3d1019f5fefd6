/** Why a document was rejected. Stable strings: they appear in CLI output and events. */
export type XmlProblemCode =
  | 'empty' // no content at all
  | 'too_large' // over the size limit
  | 'syntax' // not well-formed XML
  | 'encoding' // the XML declaration names an encoding other than UTF-8
  | 'doctype' // a <!DOCTYPE> or <!ENTITY> declaration
  | 'root' // the root element is not <Response>
  | 'unknown_element' // not an element of the language
  | 'unexpected_element' // a known element where it is not allowed
  | 'unknown_attribute'
  | 'missing_attribute'
  | 'invalid_value' // malformed value (not a number, not a URL, not one of the allowed words)
  | 'out_of_range' // a number outside the allowed range
  | 'unexpected_text' // text content where the element takes none
  | 'too_deep'; // nesting deeper than the parser follows

export interface XmlProblem {
  readonly code: XmlProblemCode;
  /** A sentence a person understands, without the position (that is in line/column/path). */
  readonly message: string;
  readonly line: number;
  readonly column: number;
  /** Element path such as `Response/Gather[1]/DTMF[0]`; empty when no element is known. */
  readonly path: string;
}

/** A rejected document. `problems` lists every problem found, in document order. */
export class XmlError extends Error {
  readonly code = 'xml_invalid';
  readonly problems: readonly XmlProblem[];

  constructor(problems: readonly XmlProblem[]) {
    const first = problems[0];
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    super(first ? `${formatProblem(first)}${more}` : 'invalid document');
    this.name = 'XmlError';
    this.problems = problems.map((p) => ({ ...p, message: oneLine(p.message), path: oneLine(p.path) }));
  }

  get first(): XmlProblem {
    const first = this.problems[0];
    if (!first) throw new Error('XmlError without problems');
    return first;
  }
}

/**
 * `LINE:COL: CODE message (path)` — the form `opentact-ari check` prints after the file name.
 * Always one line: control characters in a message are written as escapes.
 */
export function formatProblem(p: XmlProblem): string {
  const where = p.path ? ` (${oneLine(p.path)})` : '';
  return `${p.line}:${p.column}: ${p.code} ${oneLine(p.message)}${where}`;
}

// C0 and C1 controls, DEL, and the two Unicode line separators.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001F\u007F-\u009F\u2028\u2029]/g;
const SHORT_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };

/** The text with every control character written as a JSON-style escape (`\n`, `\u001B`). */
export function oneLine(text: string): string {
  return text.replace(
    CONTROL,
    (c) => SHORT_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`,
  );
}
