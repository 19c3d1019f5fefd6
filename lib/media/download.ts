// One GET of a remote audio file to a local file: through the outbound URL policy (every
// connection and every redirect target), at most 5 redirects, a size cap enforced while
// the body streams in, one time limit for the whole exchange, and the body hashed on the
// way. Conditional when validators are given. Rejects only for local file errors.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import http from 'node:http';
import { once } from 'node:events';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import got, { type NormalizedOptions } from 'got';
import { classifyError, MAX_REDIRECTS } from '../callback/classify.js';
import { USER_AGENT } from '../callback/user-agent.js';
import type { UrlPolicy } from '../callback/url-policy.js';
import type { FetchFailure } from '../flow/ports.js';

export const AUDIO_ACCEPT = 'audio/wav, audio/x-wav, audio/mpeg, audio/*;q=0.9, */*;q=0.1';

export interface Validators {
  readonly etag?: string;
  readonly lastModified?: string;
}

export interface DownloadOptions {
  readonly policy: UrlPolicy;
  readonly maxBytes: number;
  /** For the whole exchange, redirects and body included. */
  readonly timeoutMs: number;
  /** Where the body is written; removed again on failure. */
  readonly path: string;
  /** Sent as If-None-Match / If-Modified-Since. */
  readonly conditional?: Validators;
  readonly userAgent?: string;
}

export type DownloadResult =
  | {
      readonly kind: 'body';
      readonly bytes: number;
      /** sha256 of the body, hex. */
      readonly sha256: string;
      readonly contentType?: string;
      readonly validators: Validators;
    }
  | { readonly kind: 'not-modified' }
  | { readonly kind: 'failure'; readonly failure: FetchFailure };

class TooLargeError extends Error {
  readonly code = 'too_large';
  constructor(readonly maxBytes: number) {
    super(`larger than ${maxBytes} bytes`);
    this.name = 'TooLargeError';
  }
}

/** Counts and hashes what passes, and fails as soon as it is more than `maxBytes`. */
class Meter extends Transform {
  bytes = 0;
  readonly hash = createHash('sha256');
  constructor(private readonly maxBytes: number) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) {
      callback(new TooLargeError(this.maxBytes));
      return;
    }
    this.hash.update(chunk);
    callback(null, chunk);
  }
}

const tooLarge = (maxBytes: number): DownloadResult => ({
  kind: 'failure',
  failure: { code: 'too_large', reason: `the audio file is larger than ${maxBytes} bytes` },
});

function header(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  return text === undefined || text === '' ? undefined : text;
}

function conditionalHeaders(validators: Validators | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  if (validators?.etag) headers['if-none-match'] = validators.etag;
  if (validators?.lastModified) headers['if-modified-since'] = validators.lastModified;
  return headers;
}

/** Stops the exchange; a late error from the destroyed stream has nowhere to go. */
function discard(stream: NodeJS.ReadableStream & { destroy(): void }): void {
  stream.on('error', () => undefined);
  stream.destroy();
}

// Local file errors (a missing temporary directory, a full disk) are not the server's
// fault: they must not be reported as a failed connection.
function isLocalFileError(error: unknown): boolean {
  return error instanceof Error && 'path' in error && typeof error.path === 'string' && 'syscall' in error;
}

export async function download(url: string, options: DownloadOptions): Promise<DownloadResult> {
  const { policy, maxBytes, timeoutMs } = options;
  const deadline = Date.now() + timeoutMs;
  const remaining = (): number => Math.max(1, deadline - Date.now());
  const beforeRedirect = (next: NormalizedOptions): void => {
    policy.checkUrl(next.url ?? '');
    // got restarts the request time-out on every hop; keep one limit for the whole.
    next.timeout = { request: remaining() };
  };
  const stream = got.stream(url, {
    headers: { 'user-agent': options.userAgent ?? USER_AGENT, accept: AUDIO_ACCEPT, ...conditionalHeaders(options.conditional) },
    retry: { limit: 0 },
    throwHttpErrors: false,
    timeout: { request: remaining() },
    followRedirect: true,
    maxRedirects: MAX_REDIRECTS,
    dnsLookup: policy.lookup,
    agent: policy.agents,
    hooks: { beforeRedirect: [beforeRedirect] },
  });

  let response: http.IncomingMessage;
  try {
    [response] = (await once(stream, 'response')) as [http.IncomingMessage];
  } catch (error) {
    discard(stream);
    return { kind: 'failure', failure: classifyError(error).failure };
  }
  const status = response.statusCode ?? 0;
  if (status === 304 && options.conditional) {
    discard(stream);
    return { kind: 'not-modified' };
  }
  if (status < 200 || status > 299) {
    discard(stream);
    return { kind: 'failure', failure: { code: 'http_status', reason: `the server answered ${status}`, status } };
  }
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    discard(stream);
    return tooLarge(maxBytes);
  }

  const meter = new Meter(maxBytes);
  try {
    await pipeline(stream, meter, createWriteStream(options.path));
  } catch (error) {
    await rm(options.path, { force: true });
    if (error instanceof TooLargeError) return tooLarge(maxBytes);
    if (isLocalFileError(error)) throw error;
    return { kind: 'failure', failure: classifyError(error).failure };
  }
  const etag = header(response.headers.etag);
  const lastModified = header(response.headers['last-modified']);
  const contentType = header(response.headers['content-type']);
  return {
    kind: 'body',
    bytes: meter.bytes,
    sha256: meter.hash.digest('hex'),
    ...(contentType === undefined ? {} : { contentType }),
    validators: { ...(etag === undefined ? {} : { etag }), ...(lastModified === undefined ? {} : { lastModified }) },
  };
}
