// Request signing (spec §4). The header is `X-Opentact-Signature: t=<unix seconds>,v1=<hex>,v2=<hex>`:
//
// - v2 = HMAC-SHA256(secret, `v2\n<t>\n<METHOD>\n<full URL with query>\n<hex SHA-256 of the body>`).
//   Each field has a fixed place: t is digits, METHOD a token, a URL cannot hold a line
//   break (the URL parser drops them) and the body is replaced by its fixed-length digest,
//   so no two requests share a signed string.
// - v1 = HMAC-SHA256(secret, `<t>.<METHOD>.<URL>.<body>`), the first version. Its fields
//   are not framed: the header for `…?a=1` with body `.x` also verifies `…?a=1.` with body
//   `x`. It is still sent and accepted during the transition (see README, Signatures).
//
// The timestamp is signed with the rest, so a receiver that bounds its age stops replays.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-opentact-signature';

export interface SignedParts {
  /** Upper-case HTTP method. */
  readonly method: string;
  /** The full URL requested, query string included (`https://host/path?a=1`). */
  readonly url: string;
  /** The exact request body; empty string when there is none. */
  readonly body: string;
}

/** Something that cannot be signed unambiguously: a method or URL holding a line break. */
export class SignatureInputError extends Error {
  readonly code = 'signature_input';
  constructor(what: string) {
    super(`cannot sign the request: ${what}`);
    this.name = 'SignatureInputError';
  }
}

const LINE_BREAK = /[\r\n]/;

/** The string v2 signs. Exported for tests and for receivers written in other languages. */
export function canonicalV2(timestamp: number, { method, url, body }: SignedParts): string {
  const bodyDigest = createHash('sha256').update(body, 'utf8').digest('hex');
  return `v2\n${timestamp}\n${method.toUpperCase()}\n${url}\n${bodyDigest}`;
}

/** The string v1 signed (unframed; kept for the transition). */
export function canonicalV1(timestamp: number, { method, url, body }: SignedParts): string {
  return `${timestamp}.${method.toUpperCase()}.${url}.${body}`;
}

function hmac(secret: string, text: string): Buffer {
  return createHmac('sha256', secret).update(text, 'utf8').digest();
}

/**
 * The signature header value for a request made at `timestamp` (unix seconds): v1 and v2.
 * @throws SignatureInputError when the method or URL holds a line break.
 */
export function signRequest(parts: SignedParts & { readonly secret: string; readonly timestamp: number }): string {
  if (LINE_BREAK.test(parts.method)) throw new SignatureInputError('the method holds a line break');
  if (LINE_BREAK.test(parts.url)) throw new SignatureInputError('the URL holds a line break');
  const t = Math.floor(parts.timestamp);
  const v1 = hmac(parts.secret, canonicalV1(t, parts)).toString('hex');
  const v2 = hmac(parts.secret, canonicalV2(t, parts)).toString('hex');
  return `t=${t},v1=${v1},v2=${v2}`;
}

export interface VerifyOptions extends SignedParts {
  /**
   * The `X-Opentact-Signature` header as received (`req.headers['x-opentact-signature']`
   * as it is: a repeated header, an array, gives false).
   */
  readonly header: string | readonly string[] | undefined;
  readonly secret: string;
  /** How far the timestamp may be from now, either way (default 300 s). */
  readonly toleranceSeconds?: number;
  /** Now, epoch milliseconds (default `Date.now()`). */
  readonly now?: number;
  /**
   * Whether a `v1` value may verify the request (default true during the transition).
   * Set it to false once every engine calling you sends `v2`: while v1 is accepted, a
   * captured header can be replayed on a request whose URL and body split differently.
   */
  readonly acceptV1?: boolean;
}

interface ParsedHeader {
  readonly timestamp: number;
  readonly v1: readonly Buffer[];
  readonly v2: readonly Buffer[];
}

/** `t=…,v1=…,v2=…` in any order; other keys are ignored; undefined when malformed. */
function parseHeader(header: string): ParsedHeader | undefined {
  let timestamp: number | undefined;
  const v1: Buffer[] = [];
  const v2: Buffer[] = [];
  for (const item of header.split(',')) {
    const [key, value, ...rest] = item.trim().split('=');
    if (value === undefined || rest.length > 0) return undefined;
    if (key === 't') {
      if (timestamp !== undefined || !/^\d{1,12}$/.test(value)) return undefined;
      timestamp = Number(value);
    } else if (key === 'v1' || key === 'v2') {
      if (!/^[0-9a-f]{64}$/i.test(value)) return undefined;
      (key === 'v1' ? v1 : v2).push(Buffer.from(value, 'hex'));
    }
  }
  return timestamp === undefined ? undefined : { timestamp, v1, v2 };
}

const isString = (value: unknown): value is string => typeof value === 'string';

function matches(candidates: readonly Buffer[], expected: Buffer): boolean {
  return candidates.some((candidate) => timingSafeEqual(candidate, expected));
}

/**
 * For the receiving server: true only when the header is well formed, its timestamp is
 * within `toleranceSeconds` of now, and one of its `v2` values (or, with `acceptV1`, one
 * of its `v1` values) matches the request. Never throws: anything missing, of the wrong
 * type or malformed (header or argument) gives false.
 */
export function verifySignature(options: VerifyOptions): boolean {
  try {
    return verify(options);
  } catch {
    return false;
  }
}

function verify(options: VerifyOptions): boolean {
  if (typeof options !== 'object' || options === null) return false;
  const { header, secret, method, url, body, toleranceSeconds = 300, now = Date.now(), acceptV1 = true } = options;
  if (!isString(header) || header === '' || !isString(secret) || secret === '') return false;
  if (!isString(method) || !isString(url) || !isString(body) || method === '' || url === '') return false;
  if (LINE_BREAK.test(method) || LINE_BREAK.test(url)) return false;
  if (typeof toleranceSeconds !== 'number' || !(toleranceSeconds >= 0)) return false;
  if (typeof now !== 'number' || !Number.isFinite(now) || typeof acceptV1 !== 'boolean') return false;
  const parsed = parseHeader(header);
  if (parsed === undefined) return false;
  const { timestamp } = parsed;
  if (Math.abs(now / 1000 - timestamp) > toleranceSeconds) return false;
  const parts = { method, url, body };
  if (parsed.v2.length > 0 && matches(parsed.v2, hmac(secret, canonicalV2(timestamp, parts)))) return true;
  return acceptV1 && parsed.v1.length > 0 && matches(parsed.v1, hmac(secret, canonicalV1(timestamp, parts)));
}
