// The FlowFetcher a call uses when callbacks run on the queue: the same request-to-spec
// and outcome-to-document steps as the in-process DirectFetcher, with the HTTP part done
// by a worker, wherever it runs.
import { documentFromOutcome, fetchSpecFromRequest, statusFromOutcome } from '../callback/index.js';
import type { AppPayload } from '../callback/types.js';
import type { CallbackRequest, FetchResult, FlowFetcher, SendResult } from '../flow/ports.js';
import type { CallbackQueue } from './callback-queue.js';
import { jobIdFor } from './names.js';

export interface QueueFetcherOptions {
  readonly queue: CallbackQueue;
  /** Sent as `app` in JSON bodies. */
  readonly app?: AppPayload;
  /** Names the app's signing secret, which only the workers hold. */
  readonly signingKeyId?: string;
  /** Largest document accepted when parsing the answer; defaults to the parser's limit. */
  readonly maxBytes?: number;
}

export class QueueFetcher implements FlowFetcher {
  constructor(private readonly options: QueueFetcherOptions) {}

  async fetch(request: CallbackRequest, deadline: number, signal: AbortSignal): Promise<FetchResult> {
    const { queue, app, signingKeyId, maxBytes } = this.options;
    const spec = fetchSpecFromRequest(request, { deadline, app, signingKeyId });
    const outcome = await queue.submit(jobIdFor(request.fields.call, request.step), spec, signal);
    return documentFromOutcome(outcome, { maxBytes });
  }

  async send(request: CallbackRequest, deadline: number, signal: AbortSignal): Promise<SendResult> {
    const { queue, app, signingKeyId } = this.options;
    const spec = fetchSpecFromRequest(request, { deadline, app, signingKeyId, expect: 'status' });
    return statusFromOutcome(await queue.submit(jobIdFor(request.fields.call, request.step), spec, signal));
  }
}
