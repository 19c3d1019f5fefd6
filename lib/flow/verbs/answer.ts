import type { AnswerVerb } from '../../xml/index.js';
import { NEXT } from '../outcome.js';
import { sleep } from '../sleep.js';
import type { VerbHandler } from './handler.js';

export const answer: VerbHandler<AnswerVerb> = {
  async run(verb, ctx) {
    if (ctx.call.info.state === 'live') return NEXT;
    if (verb.delay > 0) await sleep(verb.delay, ctx.signal);
    await ctx.call.answer();
    return NEXT;
  },
};
