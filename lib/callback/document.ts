// A fetched body as a document: the check executeFetch makes on every 2xx answer, and the
// parse every fetcher makes afterwards to hand the flow its FlowDocument.
import type { FetchFailure, FetchResult, SendResult } from '../flow/ports.js';
import {
  DEFAULT_MAX_DOCUMENT_BYTES,
  parseDocument,
  XmlError,
  type FlowDocument,
  type XmlProblem,
} from '../xml/index.js';
import type { FetchOutcome } from './types.js';

export function parseFetchedDocument(
  body: string,
  maxBytes: number,
): { readonly document: FlowDocument } | { readonly failure: FetchFailure } {
  if (body.trim() === '') return { failure: { code: 'parse', reason: 'the answer was empty', line: 1, column: 1 } };
  try {
    return { document: parseDocument(body, { maxBytes }) };
  } catch (error) {
    if (!(error instanceof XmlError)) return { failure: { code: 'parse', reason: 'the answer was not a valid document' } };
    const { line, column } = error.first;
    const reason = `the answer was not a valid document: line ${line}, column ${column}: ${speakable(error.first)}`;
    return { failure: { code: 'parse', reason, line, column } };
  }
}

/**
 * What is wrong, in words a caller may hear (`<Error say="true">`) and events carry: a
 * document that is not XML at all is said so plainly, never in the XML library's wording
 * (`opentact-ari check` and the logs give the details); the parser's own sentences about
 * Opentact XML (unknown element, missing attribute, …) are kept.
 */
function speakable(problem: XmlProblem): string {
  switch (problem.code) {
    case 'syntax':
      return 'it is not well-formed XML';
    case 'encoding':
      return 'it declares an encoding other than UTF-8';
    case 'doctype':
      return 'it has a DOCTYPE or entity declaration, which is not allowed';
    default:
      return problem.message;
  }
}

/** Turns an outcome into what the flow receives, parsing a successful body. */
export function documentFromOutcome(outcome: FetchOutcome, options: { readonly maxBytes?: number } = {}): FetchResult {
  if (!outcome.ok) return outcome;
  const parsed = parseFetchedDocument(outcome.body, options.maxBytes ?? DEFAULT_MAX_DOCUMENT_BYTES);
  return 'document' in parsed
    ? { ok: true, document: parsed.document, attempts: outcome.attempts, status: outcome.status }
    : { ok: false, failure: parsed.failure, attempts: outcome.attempts };
}

/** A request whose answer only had to be 2xx (`<Curl>`): the body is not kept. */
export function statusFromOutcome(outcome: FetchOutcome): SendResult {
  return outcome.ok ? { ok: true, status: outcome.status, attempts: outcome.attempts } : outcome;
}
