// The HTTP request a FetchSpec stands for (spec §4): fields in the query string or in a
// JSON body with `app`, the fixed headers, and the signature when there is a secret.
import type { HttpMethod } from '../xml/index.js';
import { SIGNATURE_HEADER, signRequest } from './signature.js';
import type { FetchSpec } from './types.js';
import { USER_AGENT } from './user-agent.js';

export const ACCEPT = 'application/xml, text/xml;q=0.9, */*;q=0.1';

export interface OutgoingRequest {
  /** The URL to request, with the fields in its query when they do not go in the body. */
  readonly url: URL;
  readonly method: HttpMethod;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  /** The JSON text sent, exactly as signed; absent for `body="false"`. */
  readonly body?: string;
}

export interface BuildOptions {
  /** Signing secret, when the app has one. */
  readonly secret?: string;
  /** Now, epoch ms: the signature's timestamp. */
  readonly now: number;
  readonly userAgent?: string;
}

/**
 * Appends the fields to the URL's query. The existing query is kept byte for byte (a
 * URLSearchParams round trip would re-encode it: `%20` → `+`, `?flag` → `?flag=`).
 */
export function withQueryFields(url: URL, fields: Readonly<Record<string, string>>): URL {
  const added = new URLSearchParams(Object.entries(fields)).toString();
  const result = new URL(url);
  result.hash = '';
  if (added === '') return result;
  const existing = result.search.slice(1);
  result.search = existing === '' ? added : `${existing}&${added}`;
  return result;
}

export function buildRequest(spec: FetchSpec, options: BuildOptions): OutgoingRequest {
  const base = new URL(spec.url);
  const headers: Record<string, string> = {
    'user-agent': options.userAgent ?? USER_AGENT,
    accept: ACCEPT,
  };
  let url: URL;
  let body: string | undefined;
  if (spec.body) {
    url = new URL(base);
    url.hash = '';
    body = JSON.stringify(spec.payload ?? (spec.app === undefined ? { ...spec.fields } : { ...spec.fields, app: spec.app }));
    headers['content-type'] = 'application/json';
  } else {
    url = withQueryFields(base, spec.fields);
  }
  if (options.secret !== undefined) {
    headers[SIGNATURE_HEADER] = signRequest({
      secret: options.secret,
      timestamp: Math.floor(options.now / 1000),
      method: spec.method,
      url: url.href,
      body: body ?? '',
    });
  }
  return body === undefined ? { url, method: spec.method, headers } : { url, method: spec.method, headers, body };
}
