import type { PauseVerb } from '../../xml/index.js';
import { NEXT } from '../outcome.js';
import type { VerbHandler } from './handler.js';

export const pause: VerbHandler<PauseVerb> = {
  async run(verb, ctx) {
    await ctx.ensureAnswered();
    await ctx.call.pause(verb.length, { stopOnDigits: verb.dtmfStop });
    return NEXT;
  },
};
