import { setImmediate as nextTurn } from 'node:timers/promises';
import type { RequestTarget } from '../xml/index.js';
import type { FlowContext } from './context.js';
import type { CallbackFields, CallbackRequest, FetchFailed, FetchResult, SendResult } from './ports.js';

interface Fetchable extends RequestTarget {
  readonly path: string;
}

/** What a request that succeeded carries at least. */
interface Succeeded {
  readonly ok: true;
  readonly attempts: number;
  readonly status: number;
}

type Run<S extends Succeeded> = (request: CallbackRequest, deadline: number, signal: AbortSignal) => Promise<S | FetchFailed>;

/**
 * Fetches the next document within `timeoutMs` from now, and reports the outcome as a
 * `callback` event. The call owns the deadline: whatever the fetcher does, this resolves
 * at the deadline with a `timeout` failure (with the attempts the fetcher made, see
 * timedOut), and a later result is ignored.
 */
export function fetchWithDeadline(
  ctx: FlowContext,
  target: Fetchable,
  timeoutMs: number,
  tag: string | undefined,
  extra?: Readonly<Record<string, string>>,
): Promise<FetchResult> {
  return withDeadline(ctx, target, timeoutMs, tag, extra, (request, deadline, signal) => ctx.fetcher.fetch(request, deadline, signal));
}

/** Like fetchWithDeadline for a request whose answer only has to be 2xx (`<Curl>`). */
export function sendWithDeadline(ctx: FlowContext, target: Fetchable, timeoutMs: number): Promise<SendResult> {
  return withDeadline(ctx, target, timeoutMs, undefined, undefined, (request, deadline, signal) => ctx.fetcher.send(request, deadline, signal));
}

async function withDeadline<S extends Succeeded>(
  ctx: FlowContext,
  target: Fetchable,
  timeoutMs: number,
  tag: string | undefined,
  extra: Readonly<Record<string, string>> | undefined,
  run: Run<S>,
): Promise<S | FetchFailed> {
  const started = Date.now();
  const deadline = started + timeoutMs;
  const info = ctx.call.info;
  const fields: CallbackFields = {
    call: info.call,
    sca: info.sca,
    state: info.state,
    from: info.from,
    tn: info.tn,
    ...(tag === undefined ? {} : { tag }),
  };
  const request: CallbackRequest = {
    url: target.url,
    method: target.method,
    body: target.body,
    fields,
    path: target.path,
    step: ctx.nextFetchStep(),
    ...(extra === undefined ? {} : { extra }),
  };

  const stop = new AbortController();
  const onCallEnded = (): void => stop.abort();
  ctx.signal.addEventListener('abort', onCallEnded, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => resolve('expired'), timeoutMs);
  });
  let result: S | FetchFailed;
  try {
    const fetching = run(request, deadline, stop.signal);
    const first = await Promise.race([fetching, expired]);
    result = first === 'expired' ? await timedOut(fetching, stop, timeoutMs) : first;
  } catch (error) {
    // A fetcher must not reject; if one does, the call still gets its error branch.
    ctx.log.error({ err: error, path: target.path }, 'fetcher rejected');
    result = { ok: false, attempts: 0, failure: { code: 'connect', reason: 'the request could not be sent' } };
  } finally {
    clearTimeout(timer);
    ctx.signal.removeEventListener('abort', onCallEnded);
  }
  if (ctx.signal.aborted && result.ok) {
    result = { ok: false, attempts: result.attempts, failure: { code: 'cancelled', reason: 'the caller hung up' } };
  }

  ctx.events.emit({
    type: 'callback',
    path: target.path,
    url: target.url,
    method: target.method,
    outcome: result.ok ? 'ok' : 'error',
    attempts: result.attempts,
    ms: Date.now() - started,
    ...(result.ok
      ? { status: result.status }
      : {
          code: result.failure.code,
          reason: result.failure.reason,
          ...(result.failure.status === undefined ? {} : { status: result.failure.status }),
        }),
  });
  return result;
}

/**
 * The deadline passed first: the fetch is aborted and the result is a `timeout`. A
 * fetcher settles at once when aborted (microtasks, no I/O), with the attempts it made;
 * one turn of the event loop, which takes no time, lets that count into the result. A
 * fetcher that does not settle by then is reported with 0 attempts.
 */
async function timedOut(fetching: Promise<Succeeded | FetchFailed>, stop: AbortController, timeoutMs: number): Promise<FetchFailed> {
  stop.abort();
  const late = await Promise.race([fetching.catch(() => undefined), nextTurn(undefined)]);
  return {
    ok: false,
    attempts: late?.attempts ?? 0,
    failure: { code: 'timeout', reason: `no valid answer within ${timeoutMs} ms` },
  };
}
