import type { CurlVerb } from '../../xml/index.js';
import { VerbFailure } from '../failure.js';
import { sendWithDeadline } from '../fetch-with-deadline.js';
import { CALLER_HUNG_UP, NEXT, type Continuation } from '../outcome.js';
import type { VerbHandler } from './handler.js';

/**
 * `<Curl>` (spec §3): a request with the call's fields, through the same queue, URL
 * policy, signature and retries as `<Callback>`, within `timeout`. Any 2xx is success and
 * the body is not read; the flow is not replaced.
 */
export const curl: VerbHandler<CurlVerb> = {
  async run(verb, ctx): Promise<Continuation> {
    const result = await sendWithDeadline(ctx, verb, verb.timeout);
    if (ctx.signal.aborted) return CALLER_HUNG_UP;
    if (!result.ok) throw VerbFailure.fromFetch(result.failure);
    return NEXT;
  },
};
