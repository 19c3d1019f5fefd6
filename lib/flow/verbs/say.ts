import type { SayVerb } from '../../xml/index.js';
import { NEXT } from '../outcome.js';
import type { VerbHandler } from './handler.js';

export const say: VerbHandler<SayVerb> = {
  async run(verb, ctx) {
    await ctx.ensureAnswered();
    const media = await ctx.speech.render(verb.text, verb.voice, ctx.signal);
    await ctx.call.play(media, { loop: verb.loop });
    return NEXT;
  },
};
