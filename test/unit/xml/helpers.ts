import { expect } from 'chai';
import {
  XmlError,
  parseDocument,
  type FlowDocument,
  type ParseOptions,
  type Verb,
  type XmlProblem,
} from '../../../lib/xml/index.js';

export function parse(source: string | Buffer, options?: ParseOptions): FlowDocument {
  return parseDocument(source, options);
}

/** The problems a rejected document produces; fails the test when it is accepted. */
export function problemsOf(source: string | Buffer, options?: ParseOptions): readonly XmlProblem[] {
  try {
    parseDocument(source, options);
  } catch (error) {
    expect(error).to.be.instanceOf(XmlError);
    if (error instanceof XmlError) return error.problems;
  }
  expect.fail('the document was accepted');
}

/** The only problem of a rejected document. */
export function onlyProblem(source: string | Buffer, options?: ParseOptions): XmlProblem {
  const problems = problemsOf(source, options);
  expect(problems, JSON.stringify(problems, null, 2)).to.have.length(1);
  const [problem] = problems;
  if (!problem) expect.fail('no problem');
  return problem;
}

/** Wraps verbs in a Response and returns the parsed verbs. */
export function verbs(body: string): readonly Verb[] {
  return parse(`<Response>${body}</Response>`).verbs;
}

/** The single verb of `<Response>body</Response>`, checked to be of the given kind. */
export function verb<K extends Verb['kind']>(kind: K, body: string): Extract<Verb, { kind: K }> {
  const [first, ...rest] = verbs(body);
  expect(rest).to.have.length(0);
  if (!first || first.kind !== kind) expect.fail(`expected one <${kind}>, got ${JSON.stringify(first)}`);
  return first as Extract<Verb, { kind: K }>;
}

/** Problems of `<Response>body</Response>` as `code line:column path` strings. */
export function summary(source: string): string[] {
  return problemsOf(source).map((p) => `${p.code} ${p.line}:${p.column} ${p.path}`);
}
