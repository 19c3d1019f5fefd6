// A fetched body as a document: the check executeFetch makes on every 2xx answer, and the
// parse every fetcher makes afterwards to hand the flow its FlowDocument.
import type { FetchFailure, FetchResult } from '../flow/ports.js';
import { DEFAULT_MAX_DOCUMENT_BYTES, parseDocument, XmlError, type FlowDocument } from '../xml/index.js';
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
    const { line, column, message } = error.first;
    const reason = `the answer was not a valid document: line ${line}, column ${column}: ${message}`;
    return { failure: { code: 'parse', reason, line, column } };
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
