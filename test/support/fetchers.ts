import { DirectFetcher, UrlPolicy } from '../../lib/callback/index.js';
import type { FlowFetcher } from '../../lib/flow/index.js';

/** The in-process fetcher with loopback allowed, as `OUTBOUND_ALLOW=127.0.0.0/8` does. */
export function loopbackFetcher(): FlowFetcher {
  return new DirectFetcher({
    env: { policy: new UrlPolicy('127.0.0.0/8'), secrets: { get: () => undefined }, maxBytes: 256 * 1024 },
  });
}

/** A fetcher for flows that make no request: any request fails the test. */
export function noRequests(message = 'this flow should make no request'): FlowFetcher {
  return { fetch: () => Promise.reject(new Error(message)), send: () => Promise.reject(new Error(message)) };
}
