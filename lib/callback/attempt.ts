// One HTTP attempt with got: redirects followed under the URL policy, the body counted as
// it streams in and the request aborted as soon as it is too large. Whether to try again
// is decided by the caller (execute.ts).
import http from 'node:http';
import got, { type NormalizedOptions } from 'got';
import type { FetchFailure } from '../flow/ports.js';
import { classifyError, MAX_REDIRECTS, RedirectLoopError } from './classify.js';
import type { OutgoingRequest } from './request.js';
import { SIGNATURE_HEADER } from './signature.js';
import type { UrlPolicy } from './url-policy.js';

export type AttemptResult =
  /** The server answered. `body` is read only for a 2xx when asked for, else empty. */
  | { readonly kind: 'answer'; readonly status: number; readonly body: string; readonly retryAfter?: string }
  | { readonly kind: 'failure'; readonly failure: FetchFailure; readonly retryable: boolean };

export interface AttemptOptions {
  readonly request: OutgoingRequest;
  readonly policy: UrlPolicy;
  /** Largest body accepted, in bytes (after decompression). */
  readonly maxBytes: number;
  /** Epoch ms; the attempt's time-out is what is left until then. */
  readonly deadline: number;
  readonly now: () => number;
  /** Aborts the attempt; the result is then a `cancelled` failure. */
  readonly signal: AbortSignal;
  /** Read the body of a 2xx answer (false: the status is all that matters). */
  readonly readBody: boolean;
  /** The signature header for a redirected request, or undefined when nothing is signed. */
  readonly sign: (url: URL, method: string, body: string) => string | undefined;
}

function tooLarge(maxBytes: number): AttemptResult {
  return {
    kind: 'failure',
    failure: { code: 'too_large', reason: `the answer was larger than ${maxBytes} bytes` },
    retryable: false,
  };
}

const CANCELLED: AttemptResult = {
  kind: 'failure',
  failure: { code: 'cancelled', reason: 'the fetch was cancelled' },
  retryable: false,
};

export function attempt(options: AttemptOptions): Promise<AttemptResult> {
  const { request, policy, maxBytes, deadline, now, signal } = options;
  if (signal.aborted) return Promise.resolve(CANCELLED);

  const visited = new Set([`${request.method} ${request.url.href}`]);
  const beforeRedirect = (next: NormalizedOptions): void => {
    const url = policy.checkUrl(next.url ?? '');
    const key = `${next.method} ${url.href}`;
    if (visited.has(key)) throw new RedirectLoopError(url.href);
    visited.add(key);
    // The signature covers the URL and method, both of which a redirect may change.
    const body = typeof next.body === 'string' ? next.body : '';
    // A 303 turns the request into a GET without a body; its JSON label goes with it.
    if (next.body === undefined) delete next.headers['content-type'];
    const signature = options.sign(url, next.method, body);
    if (signature !== undefined) next.headers[SIGNATURE_HEADER] = signature;
    // got restarts the request time-out on every hop; keep it on the same deadline.
    next.timeout = { request: Math.max(1, deadline - now()) };
  };

  const stream = got.stream(request.url, {
    method: request.method,
    headers: { ...request.headers },
    ...(request.body === undefined ? {} : { body: request.body, allowGetBody: true }),
    retry: { limit: 0 },
    throwHttpErrors: false,
    timeout: { request: Math.max(1, deadline - now()) },
    followRedirect: true,
    maxRedirects: MAX_REDIRECTS,
    dnsLookup: policy.lookup,
    agent: policy.agents,
    signal,
    hooks: { beforeRedirect: [beforeRedirect] },
  });

  // A got stream that may carry a body waits for its writable side to end.
  if (request.body === undefined && request.method !== 'GET') stream.end();

  return new Promise<AttemptResult>((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let status = 0;
    let settled = false;
    const finish = (result: AttemptResult): void => {
      if (settled) return;
      settled = true;
      resolve(result);
      // After resolving: destroying emits events that must find the attempt settled.
      if (!stream.destroyed) stream.destroy();
    };

    stream.on('response', (response: http.IncomingMessage) => {
      status = response.statusCode ?? 0;
      const retryAfter = response.headers['retry-after'];
      const answer = { kind: 'answer', status, body: '', ...(retryAfter ? { retryAfter } : {}) } as const;
      if (status < 200 || status > 299 || !options.readBody) {
        finish(answer);
        return;
      }
      const declared = Number(response.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) finish(tooLarge(maxBytes));
    });
    stream.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBytes) finish(tooLarge(maxBytes));
      else chunks.push(chunk);
    });
    stream.on('end', () => finish({ kind: 'answer', status, body: Buffer.concat(chunks).toString('utf8') }));
    stream.on('error', (error: unknown) => {
      if (signal.aborted) finish(CANCELLED);
      else {
        const { failure, retryable } = classifyError(error);
        finish({ kind: 'failure', failure, retryable });
      }
    });
  });
}
