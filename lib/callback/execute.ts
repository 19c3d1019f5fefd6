// Runs one fetch to the end of its budget (spec §4): attempts one at a time, transient
// failures retried inside the deadline, the answer checked. Never rejects, and resolves
// by the deadline whatever the network does.
import type { FetchFailure } from '../flow/ports.js';
import { attempt, type AttemptResult } from './attempt.js';
import { parseFetchedDocument } from './document.js';
import { buildRequest } from './request.js';
import { hasTimeForAttempt, planRetry } from './retry.js';
import { signRequest } from './signature.js';
import type { FetchOutcome, FetchSpec, SecretStore } from './types.js';
import { PolicyRefusal, type UrlPolicy } from './url-policy.js';

export interface FetchEnvironment {
  readonly policy: UrlPolicy;
  readonly secrets: SecretStore;
  /** Largest answer accepted, in bytes. */
  readonly maxBytes: number;
  readonly userAgent?: string;
  /** Epoch ms; defaults to Date.now. */
  readonly now?: () => number;
  /** [0, 1) for backoff jitter; defaults to Math.random. */
  readonly random?: () => number;
  /** Told the number of each attempt (1, 2, …) as it starts; the queue's workers report it. */
  readonly onAttempt?: (attempts: number) => void;
  /**
   * Whether a 2xx answer to an `expect: 'document'` fetch is parsed here, and refused as a
   * `parse` failure when it is no valid document. Default true. The queue's workers turn
   * it off: the waiting side parses the answer anyway (documentFromOutcome), with the same
   * failure for the flow, so parsing it here too only doubled the cost.
   */
  readonly checkDocuments?: boolean;
}

const RETRYABLE_STATUS = (status: number): boolean => status === 408 || status === 429 || status >= 500;

function retryAfterWords(ms: number): string {
  const seconds = Math.ceil(ms / 1000);
  return seconds === 1 ? '1 second' : `${seconds} seconds`;
}

/** What a finished attempt means: a final outcome, or a failure worth retrying. */
type Verdict =
  | { readonly final: FetchOutcome }
  | { readonly retry: FetchFailure; readonly retryAfter?: string };

function judge(result: AttemptResult, spec: FetchSpec, env: FetchEnvironment, attempts: number): Verdict {
  if (result.kind === 'failure') {
    return result.retryable ? { retry: result.failure } : { final: { ok: false, failure: result.failure, attempts } };
  }
  const { status } = result;
  if (status >= 200 && status <= 299) {
    if (spec.expect === 'document' && env.checkDocuments !== false) {
      const parsed = parseFetchedDocument(result.body, env.maxBytes);
      if ('failure' in parsed) return { final: { ok: false, failure: parsed.failure, attempts } };
    }
    return { final: { ok: true, status, body: result.body, attempts } };
  }
  const failure: FetchFailure = { code: 'http_status', reason: `the server answered ${status}`, status };
  if (RETRYABLE_STATUS(status)) return result.retryAfter === undefined ? { retry: failure } : { retry: failure, retryAfter: result.retryAfter };
  return { final: { ok: false, failure, attempts } };
}

export function executeFetch(spec: FetchSpec, env: FetchEnvironment, signal: AbortSignal): Promise<FetchOutcome> {
  const now = env.now ?? Date.now;
  const budgetMs = Math.max(0, Math.round(spec.deadline - now()));
  const state = { attempts: 0, last: undefined as FetchFailure | undefined };
  const stop = new AbortController();

  const timedOut = (): FetchOutcome => {
    const last = state.last;
    const reason = `no valid answer within ${budgetMs} ms${last ? `; last: ${last.reason}` : ''}`;
    const failure: FetchFailure = { code: 'timeout', reason, ...(last?.status === undefined ? {} : { status: last.status }) };
    return { ok: false, failure, attempts: state.attempts };
  };
  const cancelled = (): FetchOutcome => ({
    ok: false,
    failure: { code: 'cancelled', reason: 'the fetch was cancelled' },
    attempts: state.attempts,
  });

  const run = async (): Promise<FetchOutcome> => {
    try {
      env.policy.checkUrl(spec.url);
    } catch (error) {
      if (error instanceof PolicyRefusal) return { ok: false, failure: { code: 'policy', reason: error.reason }, attempts: 0 };
      throw error;
    }
    const secret = spec.signingKeyId === undefined ? undefined : env.secrets.get(spec.signingKeyId);
    const signing = secret === undefined || secret === '' ? undefined : secret;
    const sign = (url: URL, method: string, body: string): string | undefined =>
      signing === undefined
        ? undefined
        : signRequest({ secret: signing, timestamp: Math.floor(now() / 1000), method, url: url.href, body });

    for (;;) {
      if (!hasTimeForAttempt(now(), spec.deadline)) return timedOut();
      const request = buildRequest(spec, {
        now: now(),
        ...(signing === undefined ? {} : { secret: signing }),
        ...(env.userAgent === undefined ? {} : { userAgent: env.userAgent }),
      });
      state.attempts += 1;
      env.onAttempt?.(state.attempts);
      const result = await attempt({
        request,
        policy: env.policy,
        maxBytes: env.maxBytes,
        deadline: spec.deadline,
        now,
        signal: stop.signal,
        readBody: spec.expect === 'document',
        sign,
      });
      if (stop.signal.aborted) return cancelled(); // the race below has settled already
      const verdict = judge(result, spec, env, state.attempts);
      if ('final' in verdict) return verdict.final;
      state.last = verdict.retry;

      const decision = planRetry({
        attempt: state.attempts,
        now: now(),
        deadline: spec.deadline,
        ...(verdict.retryAfter === undefined ? {} : { retryAfter: verdict.retryAfter }),
        ...(env.random === undefined ? {} : { random: env.random }),
      });
      if (!decision.retry) {
        if (decision.why === 'deadline') return timedOut();
        const reason = `${verdict.retry.reason} and asked to wait ${retryAfterWords(decision.retryAfterMs)}, past the deadline`;
        return { ok: false, failure: { ...verdict.retry, reason }, attempts: state.attempts };
      }
      await wait(decision.waitMs, stop.signal);
      if (stop.signal.aborted) return cancelled();
    }
  };

  return new Promise<FetchOutcome>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    /** `interrupted`: settled by the deadline or the signal while run() still goes on. */
    const settle = (outcome: FetchOutcome, interrupted: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      // Stops the attempt or the backoff wait in progress. Not when run() has returned:
      // nothing is left to stop, and an abort is not free (it builds a DOMException).
      if (interrupted) stop.abort();
      resolve(outcome);
    };
    const onAbort = (): void => settle(cancelled(), true);
    if (signal.aborted) {
      settle(cancelled(), false);
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    // The deadline holds even if the attempt's own time-out is late (redirect hops, slow DNS).
    timer = setTimeout(() => settle(timedOut(), true), Math.max(0, spec.deadline - now()));
    // run() is not expected to throw; if a bug makes it, the caller still gets an outcome.
    run().then(
      (outcome) => settle(outcome, false),
      () => settle({ ok: false, failure: { code: 'connect', reason: 'the request could not be made' }, attempts: state.attempts }, false),
    );
  });
}

function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
