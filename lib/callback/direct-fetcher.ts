// The in-process FlowFetcher: the simulator, tests and single-process runs fetch here
// instead of through the queue.
import type { CallbackRequest, FetchResult, FlowFetcher, SendResult } from '../flow/ports.js';
import { documentFromOutcome, statusFromOutcome } from './document.js';
import { executeFetch, type FetchEnvironment } from './execute.js';
import { fetchSpecFromRequest } from './fetch-spec.js';
import type { AppPayload } from './types.js';

export interface DirectFetcherOptions {
  readonly env: FetchEnvironment;
  /** Sent as `app` in JSON bodies. */
  readonly app?: AppPayload;
  /** Names the app's signing secret in `env.secrets`. */
  readonly signingKeyId?: string;
  /** Largest document accepted; defaults to `env.maxBytes`. */
  readonly maxBytes?: number;
}

export class DirectFetcher implements FlowFetcher {
  constructor(private readonly options: DirectFetcherOptions) {}

  async fetch(request: CallbackRequest, deadline: number, signal: AbortSignal): Promise<FetchResult> {
    const { env, app, signingKeyId } = this.options;
    const maxBytes = this.options.maxBytes ?? env.maxBytes;
    const spec = fetchSpecFromRequest(request, { deadline, app, signingKeyId });
    const outcome = await executeFetch(spec, { ...env, maxBytes }, signal);
    return documentFromOutcome(outcome, { maxBytes });
  }

  async send(request: CallbackRequest, deadline: number, signal: AbortSignal): Promise<SendResult> {
    const { env, app, signingKeyId } = this.options;
    const spec = fetchSpecFromRequest(request, { deadline, app, signingKeyId, expect: 'status' });
    return statusFromOutcome(await executeFetch(spec, env, signal));
  }
}
