// A call's first document (spec §5): the app's static document, or its webhook fetched
// as one callback, with `fallback_xml` when that fails.
import type { CallControlApp } from '../config/apps.js';
import type { Call, CallbackRequest, FetchFailure, FlowFetcher, Logger } from '../flow/ports.js';
import type { FlowDocument } from '../xml/index.js';

export type FirstDocument =
  | { readonly ok: true; readonly document: FlowDocument }
  | { readonly ok: false; readonly reason: string };

/** The fetch step of the webhook; the flow's own callbacks count from 1. */
export const WEBHOOK_STEP = 0;

export async function loadFirstDocument(app: CallControlApp, call: Call, fetcher: FlowFetcher, log: Logger): Promise<FirstDocument> {
  const source = app.source;
  if (source.kind === 'static') return { ok: true, document: source.document };
  const { info } = call;
  const request: CallbackRequest = {
    url: source.url,
    method: source.method,
    body: false,
    fields: { call: info.call, sca: info.sca, state: info.state, from: info.from, tn: info.tn },
    path: 'webhook',
    step: WEBHOOK_STEP,
  };
  const fetched = await fetchWithin(fetcher, request, source.timeoutMs, call.ended);
  if (fetched.ok) return fetched;
  if (call.ended.aborted) return { ok: false, reason: 'the caller hung up' };
  const { code, reason } = fetched.failure;
  if (source.fallback !== undefined) {
    log.warn({ url: source.url, code, reason }, 'webhook failed; running fallback_xml');
    return { ok: true, document: source.fallback };
  }
  log.warn({ url: source.url, code, reason }, 'webhook failed and the app has no fallback_xml');
  return { ok: false, reason: `the webhook failed: ${code}: ${reason}` };
}

type Fetched = { readonly ok: true; readonly document: FlowDocument } | { readonly ok: false; readonly failure: FetchFailure };

/** The fetcher resolves by the deadline by contract; the timer makes sure of it. */
async function fetchWithin(fetcher: FlowFetcher, request: CallbackRequest, budgetMs: number, signal: AbortSignal): Promise<Fetched> {
  const stop = new AbortController();
  const onEnded = (): void => stop.abort();
  signal.addEventListener('abort', onEnded, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Fetched>((resolve) => {
    timer = setTimeout(() => {
      stop.abort();
      resolve({ ok: false, failure: { code: 'timeout', reason: `no valid answer within ${budgetMs} ms` } });
    }, budgetMs);
  });
  try {
    const result = await Promise.race([fetcher.fetch(request, Date.now() + budgetMs, stop.signal), late]);
    return result.ok ? { ok: true, document: result.document } : { ok: false, failure: result.failure };
  } catch {
    return { ok: false, failure: { code: 'connect', reason: 'the request could not be sent' } };
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onEnded);
  }
}
