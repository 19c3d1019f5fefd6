import type { HangupVerb } from '../../xml/index.js';
import type { Continuation } from '../outcome.js';
import type { VerbHandler } from './handler.js';

const ENDED: Continuation = { kind: 'end', reason: 'hangup' };

export const hangup: VerbHandler<HangupVerb> = {
  async run(verb, ctx) {
    const tag = verb.tag === undefined ? {} : { tag: verb.tag };
    await ctx.call.hangup({ cause: 'normal_clearing', reason: '<Hangup>', ...tag });
    return ENDED;
  },
};
