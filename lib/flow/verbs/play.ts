import type { PlayVerb } from '../../xml/index.js';
import { NEXT } from '../outcome.js';
import type { VerbHandler } from './handler.js';

export const play: VerbHandler<PlayVerb> = {
  async run(verb, ctx) {
    await ctx.ensureAnswered();
    const { source } = verb;
    const media =
      source.kind === 'url'
        ? await ctx.audio.fromUrl(source.url, ctx.signal)
        : await ctx.audio.fromRecording(source.tag, ctx.signal);
    await ctx.call.play(media, { loop: verb.loop });
    return NEXT;
  },
};
