// Request signing (spec §4): `X-Opentact-Signature: t=<unix seconds>,v1=<hex>` where v1 is
// HMAC-SHA256(secret, `${t}.${METHOD}.${full URL with query}.${body}`). The timestamp is
// signed with the rest, so a receiver that bounds its age stops replays.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-opentact-signature';

export interface SignedParts {
  /** Upper-case HTTP method. */
  readonly method: string;
  /** The full URL requested, query string included (`https://host/path?a=1`). */
  readonly url: string;
  /** The exact request body; empty string when there is none. */
  readonly body: string;
}

function digest(secret: string, timestamp: number, { method, url, body }: SignedParts): string {
  return createHmac('sha256', secret).update(`${timestamp}.${method.toUpperCase()}.${url}.${body}`).digest('hex');
}

/** The signature header value for a request made at `timestamp` (unix seconds). */
export function signRequest(parts: SignedParts & { readonly secret: string; readonly timestamp: number }): string {
  const t = Math.floor(parts.timestamp);
  return `t=${t},v1=${digest(parts.secret, t, parts)}`;
}

export interface VerifyOptions extends SignedParts {
  /** The `X-Opentact-Signature` header as received. */
  readonly header: string | undefined;
  readonly secret: string;
  /** How far the timestamp may be from now, either way (default 300 s). */
  readonly toleranceSeconds?: number;
  /** Now, epoch milliseconds (default `Date.now()`). */
  readonly now?: number;
}

/**
 * For the receiving server: true only when the header is well formed, its timestamp is
 * within `toleranceSeconds` of now, and one of its `v1` values matches the request.
 */
export function verifySignature(options: VerifyOptions): boolean {
  const { header, secret, toleranceSeconds = 300, now = Date.now() } = options;
  if (!header || !secret) return false;
  let timestamp: number | undefined;
  const candidates: string[] = [];
  for (const item of header.split(',')) {
    const [key, value, ...rest] = item.trim().split('=');
    if (value === undefined || rest.length > 0) return false;
    if (key === 't') {
      if (timestamp !== undefined || !/^\d{1,12}$/.test(value)) return false;
      timestamp = Number(value);
    } else if (key === 'v1') {
      if (!/^[0-9a-f]{64}$/i.test(value)) return false;
      candidates.push(value.toLowerCase());
    }
  }
  if (timestamp === undefined || candidates.length === 0) return false;
  if (Math.abs(now / 1000 - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(digest(secret, timestamp, options), 'hex');
  return candidates.some((candidate) => timingSafeEqual(Buffer.from(candidate, 'hex'), expected));
}
