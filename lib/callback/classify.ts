// Turns what got throws into a FetchFailure, and says whether trying again could help.
import type { FetchFailure } from '../flow/ports.js';
import { PolicyRefusal } from './url-policy.js';

export const MAX_REDIRECTS = 5;

/** A redirect that leads back to a URL already requested with the same method. */
export class RedirectLoopError extends Error {
  readonly code = 'redirect_loop';
  constructor(readonly url: string) {
    super(`redirect loop at ${url}`);
    this.name = 'RedirectLoopError';
  }
}

export interface ClassifiedFailure {
  readonly failure: FetchFailure;
  readonly retryable: boolean;
}

const CONNECT_REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'the server refused the connection',
  ECONNRESET: 'the connection was reset',
  EPIPE: 'the connection was closed',
  ECONNABORTED: 'the connection was closed',
  EHOSTUNREACH: 'the server could not be reached',
  ENETUNREACH: 'the server could not be reached',
};

/** Every error in the `cause` chain, outermost first. */
function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let current = error; current !== undefined && chain.length < 10; ) {
    chain.push(current);
    current = current instanceof Error ? current.cause : undefined;
  }
  return chain;
}

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

function isTlsError(codes: readonly string[], message: string): boolean {
  if (codes.some((code) => /^ERR_(TLS|SSL)_/.test(code) || code.includes('CERT') || code === 'EPROTO')) return true;
  return /\b(SSL|TLS)\b|certificate/i.test(message);
}

const fail = (failure: FetchFailure, retryable: boolean): ClassifiedFailure => ({ failure, retryable });

export function classifyError(error: unknown): ClassifiedFailure {
  const chain = causes(error);
  const refusal = chain.find((e): e is PolicyRefusal => e instanceof PolicyRefusal);
  if (refusal) return fail({ code: 'policy', reason: refusal.reason }, false);
  if (chain.some((e) => e instanceof RedirectLoopError)) {
    return fail({ code: 'redirects', reason: 'the server redirected in a loop' }, false);
  }

  const codes = chain.map(codeOf).filter((c): c is string => c !== undefined);
  const has = (code: string): boolean => codes.includes(code);
  const message = chain.map((e) => (e instanceof Error ? e.message : String(e))).join(' / ');

  // got refuses these redirect targets itself, before our redirect hook sees them.
  if (has('ERR_UNSUPPORTED_PROTOCOL') || /redirect to UNIX socket/i.test(message)) {
    return fail({ code: 'policy', reason: 'the URL is not allowed: only http and https can be used' }, false);
  }
  if (has('ERR_TOO_MANY_REDIRECTS')) {
    return fail({ code: 'redirects', reason: `the server redirected more than ${MAX_REDIRECTS} times` }, false);
  }
  if (has('ETIMEDOUT') || chain.some((e) => e instanceof Error && e.name === 'TimeoutError')) {
    return fail({ code: 'timeout', reason: 'the server did not answer in time' }, true);
  }
  if (has('ENOTFOUND')) return fail({ code: 'dns', reason: 'the server name was not found' }, false);
  if (has('EAI_AGAIN')) return fail({ code: 'dns', reason: 'the server name could not be resolved' }, true);
  if (isTlsError(codes, message)) return fail({ code: 'tls', reason: 'the secure connection failed' }, false);
  const known = codes.find((c) => c in CONNECT_REASONS);
  if (known) return fail({ code: 'connect', reason: CONNECT_REASONS[known] ?? 'the connection failed' }, true);
  if (/socket hang up/i.test(message)) return fail({ code: 'connect', reason: 'the connection was closed' }, true);
  return fail({ code: 'connect', reason: 'the connection failed' }, true);
}
