import type { CallbackVerb } from '../../xml/index.js';
import { VerbFailure } from '../failure.js';
import { fetchWithDeadline } from '../fetch-with-deadline.js';
import { CALLER_HUNG_UP, type Continuation } from '../outcome.js';
import type { VerbHandler } from './handler.js';

export const callback: VerbHandler<CallbackVerb> = {
  async run(verb, ctx): Promise<Continuation> {
    const result = await fetchWithDeadline(ctx, verb, verb.timeout, verb.tag);
    if (ctx.signal.aborted) return CALLER_HUNG_UP;
    if (!result.ok) throw VerbFailure.fromFetch(result.failure);
    return { kind: 'replace', document: result.document, url: verb.url };
  },
};
