/** Why a document was rejected. Stable strings: they appear in CLI output and events. */
export type XmlProblemCode =
  | 'empty' // no content at all
  | 'too_large' // over the size limit
  | 'syntax' // not well-formed XML
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
    this.problems = problems;
  }

  get first(): XmlProblem {
    const first = this.problems[0];
    if (!first) throw new Error('XmlError without problems');
    return first;
  }
}

/** `LINE:COL: CODE message (path)` — the form `opentact-ari check` prints after the file name. */
export function formatProblem(p: XmlProblem): string {
  const where = p.path ? ` (${p.path})` : '';
  return `${p.line}:${p.column}: ${p.code} ${p.message}${where}`;
}
