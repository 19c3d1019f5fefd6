// One HTTP attempt on node's own http client: redirects followed under the URL policy, the
// body counted as it streams in (after decompression) and the request aborted as soon as
// it is too large. Whether to try again is decided by the caller (execute.ts).
//
// Not got: a request through got costs several times the CPU of the request itself
// (options merging and normalisation, hooks, a stream wrapped around node's), and every
// callback makes one. What got did for us is here: redirects (the same codes; 303 turns
// the request into a GET without body; at most MAX_REDIRECTS), the deadline as the
// request's time-out, gzip/deflate/br answers decoded, the URL policy's `lookup` on every
// connection and its keep-alive agents.
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import zlib from 'node:zlib';
import type { FetchFailure } from '../flow/ports.js';
import type { HttpMethod } from '../xml/index.js';
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

/** The answers that send the request elsewhere when they carry a Location (as got had them). */
const REDIRECT_CODES = new Set([300, 301, 302, 303, 304, 307, 308]);
/** What got asked for, and what decodedBody() decodes. */
const ACCEPT_ENCODING = 'gzip, deflate, br';

/** The attempt ran into its deadline; classifyError reads it as a `timeout`. */
class AttemptTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

/** More redirects than MAX_REDIRECTS; classifyError reads it as `redirects`. */
class TooManyRedirectsError extends Error {
  readonly code = 'ERR_TOO_MANY_REDIRECTS';
  constructor() {
    super(`more than ${MAX_REDIRECTS} redirects`);
    this.name = 'TooManyRedirectsError';
  }
}

/** The connection closed before the whole answer arrived. */
class AnswerCutError extends Error {
  readonly code = 'ECONNRESET';
  constructor() {
    super('the connection closed before the answer was complete');
    this.name = 'AnswerCutError';
  }
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

function failed(error: unknown): AttemptResult {
  const { failure, retryable } = classifyError(error);
  return { kind: 'failure', failure, retryable };
}

/** One hop of the attempt: what is requested. */
interface Hop {
  readonly url: URL;
  readonly method: HttpMethod;
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
}

/** The hop a redirect leads to, or why it is not followed. */
function nextHop(hop: Hop, status: number, location: string, options: AttemptOptions): Hop {
  // Location is read as UTF-8 (node hands header values over as latin1).
  const url = options.policy.checkUrl(new URL(Buffer.from(location, 'latin1').toString(), hop.url));
  // A 303 turns the request into a GET without a body; its JSON label goes with it.
  const toGet = status === 303 && hop.method !== 'GET';
  const method: HttpMethod = toGet ? 'GET' : hop.method;
  const body = toGet ? undefined : hop.body;
  const headers = { ...hop.headers };
  if (body === undefined) delete headers['content-type'];
  // The signature covers the URL and method, both of which a redirect may change.
  const signature = options.sign(url, method, body ?? '');
  if (signature !== undefined) headers[SIGNATURE_HEADER] = signature;
  return { url, method, headers, body };
}

/** The body as sent, decoded when the server compressed it. */
function decodedBody(response: http.IncomingMessage): Readable {
  const encoding = (response.headers['content-encoding'] ?? '').trim().toLowerCase();
  if (encoding === 'gzip' || encoding === 'x-gzip' || encoding === 'deflate') return response.pipe(zlib.createUnzip());
  if (encoding === 'br') return response.pipe(zlib.createBrotliDecompress());
  return response;
}

export function attempt(options: AttemptOptions): Promise<AttemptResult> {
  const { request, maxBytes, deadline, now, signal } = options;
  if (signal.aborted) return Promise.resolve(CANCELLED);

  return new Promise<AttemptResult>((resolve) => {
    const visited = new Set<string>();
    /** The requests of this attempt (one per hop) and their answers once they come. */
    const exchanges: { readonly request: http.ClientRequest; response?: http.IncomingMessage }[] = [];
    let settled = false;
    const budgetMs = Math.max(1, deadline - now());

    const finish = (result: AttemptResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(result);
      // After resolving: destroying emits events that must find the attempt settled. An
      // answer read to the end leaves its socket to the agent for the next request.
      for (const { request: sent, response } of exchanges) {
        if (response === undefined) sent.destroy();
        else if (!response.complete) response.destroy();
      }
    };
    const onAbort = (): void => finish(CANCELLED);
    signal.addEventListener('abort', onAbort, { once: true });
    // The deadline is the whole attempt's time-out, redirects included.
    const timer = setTimeout(() => finish(failed(new AttemptTimeoutError(budgetMs))), budgetMs);

    const readAnswer = (response: http.IncomingMessage): void => {
      const status = response.statusCode ?? 0;
      const retryAfter = response.headers['retry-after'];
      if (status < 200 || status > 299 || !options.readBody) {
        finish({ kind: 'answer', status, body: '', ...(retryAfter ? { retryAfter } : {}) });
        return;
      }
      const declared = Number(response.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) {
        finish(tooLarge(maxBytes));
        return;
      }
      const chunks: Buffer[] = [];
      let received = 0;
      const body = decodedBody(response);
      let empty = true;
      if (body !== response) response.once('data', () => (empty = false));
      body.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > maxBytes) finish(tooLarge(maxBytes));
        else chunks.push(chunk);
      });
      body.on('end', () => finish({ kind: 'answer', status, body: Buffer.concat(chunks).toString('utf8') }));
      body.on('error', (error: Error) => {
        // An empty compressed body is an empty body (zlib calls it truncated).
        if (body !== response && empty && response.complete) finish({ kind: 'answer', status, body: '' });
        else finish(failed(error));
      });
      response.on('error', (error: Error) => finish(failed(error)));
      response.on('close', () => {
        if (!response.complete) finish(failed(new AnswerCutError()));
      });
    };

    const send = (hop: Hop, redirects: number): void => {
      const key = `${hop.method} ${hop.url.href}`;
      if (visited.has(key)) {
        finish(failed(new RedirectLoopError(hop.url.href)));
        return;
      }
      visited.add(key);
      const secure = hop.url.protocol === 'https:';
      const headers: Record<string, string> = { 'accept-encoding': ACCEPT_ENCODING, ...hop.headers };
      if (hop.body !== undefined) headers['content-length'] = String(Buffer.byteLength(hop.body));
      const requestOptions: http.RequestOptions = {
        method: hop.method,
        headers,
        agent: secure ? options.policy.agents.https : options.policy.agents.http,
        lookup: options.policy.lookup,
      };
      const exchange: (typeof exchanges)[number] = { request: (secure ? https : http).request(hop.url, requestOptions) };
      exchanges.push(exchange);
      const req = exchange.request;
      req.on('response', (response: http.IncomingMessage) => {
        exchange.response = response;
        if (settled) {
          response.destroy();
          return;
        }
        const status = response.statusCode ?? 0;
        const location = response.headers.location;
        if (location === undefined || !REDIRECT_CODES.has(status)) {
          readAnswer(response);
          return;
        }
        // Read to the end so that the connection can be used again.
        response.resume();
        if (redirects >= MAX_REDIRECTS) {
          finish(failed(new TooManyRedirectsError()));
          return;
        }
        let next: Hop;
        try {
          next = nextHop(hop, status, location, options);
        } catch (error) {
          finish(failed(error)); // PolicyRefusal, or a Location that is no URL
          return;
        }
        send(next, redirects + 1);
      });
      req.on('error', (error: Error) => finish(signal.aborted ? CANCELLED : failed(error)));
      req.end(hop.body);
    };

    send({ url: request.url, method: request.method, headers: { ...request.headers }, body: request.body }, 0);
  });
}
