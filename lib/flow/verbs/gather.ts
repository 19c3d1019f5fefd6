import type { GatherPrompt, GatherVerb } from '../../xml/index.js';
import type { FlowContext } from '../context.js';
import { VerbFailure } from '../failure.js';
import { fetchWithDeadline } from '../fetch-with-deadline.js';
import { CALLER_HUNG_UP, NEXT, type Continuation } from '../outcome.js';
import type { VerbHandler } from './handler.js';

/** Every DTMF key; each one stops the prompts (barge-in). */
const ANY_KEY = '0123456789*#ABCD';

/**
 * `<Gather>` (spec §3): plays its prompts, a key stopping them and counting as the first
 * digit; collects up to `dtmf_length` digits, ending early on `dtmf_stop` (not kept) or
 * after `timeout` of silence; repeats prompts and collection `attempts` times while
 * nothing was pressed. The digits run the matching `<DTMF>` branch, else `<Default>`, or
 * with `url` are sent there like a `<Callback>` (extra field `dtmf`) whose answer
 * replaces the flow. Nothing after every attempt is a failure (`no_input`).
 */
export const gather: VerbHandler<GatherVerb> = {
  async run(verb, ctx) {
    await ctx.ensureAnswered();
    for (let attempt = 1; attempt <= verb.attempts; attempt += 1) {
      const digits = await collect(verb, ctx);
      if (ctx.signal.aborted) return CALLER_HUNG_UP;
      if (digits !== '') return verb.target ? sendDigits(verb, digits, ctx) : branchOn(verb, digits, ctx);
    }
    throw new VerbFailure('no_input', 'no digits');
  },
};

/** One attempt: the prompts, then the rest of the digits. */
async function collect(verb: GatherVerb, ctx: FlowContext): Promise<string> {
  let first = '';
  for (const prompt of verb.prompts) {
    const stoppedBy = await playPrompt(prompt, ctx);
    if (stoppedBy !== undefined) {
      first = stoppedBy;
      break;
    }
  }
  // The stop key before any digit ends an attempt with nothing.
  if (first !== '' && verb.dtmfStop.includes(first)) return '';
  if (first.length >= verb.dtmfLength) return first;
  const rest = await ctx.call.collectDigits({ maxDigits: verb.dtmfLength - first.length, finishOnKey: verb.dtmfStop, timeout: verb.timeout });
  return first + rest;
}

/** Plays one prompt, stopped by any key; gives the key that stopped it. */
async function playPrompt(prompt: GatherPrompt, ctx: FlowContext): Promise<string | undefined> {
  if (prompt.kind === 'Pause') return (await ctx.call.pause(prompt.length, { stopOnDigits: ANY_KEY })).digit;
  const media =
    prompt.kind === 'Say'
      ? await ctx.speech.render(prompt.text, prompt.voice, ctx.signal)
      : prompt.source.kind === 'url'
        ? await ctx.audio.fromUrl(prompt.source.url, ctx.signal)
        : await ctx.audio.fromRecording(prompt.source.tag, ctx.signal);
  return (await ctx.call.play(media, { loop: prompt.loop, stopOnDigits: ANY_KEY })).digit;
}

/** The `<DTMF>` branch equal to the digits, else `<Default>`; then the flow goes on. */
async function branchOn(verb: GatherVerb, digits: string, ctx: FlowContext): Promise<Continuation> {
  const branch = verb.branches.find((b) => b.value === digits) ?? verb.default;
  if (branch === undefined) return NEXT;
  return ctx.runSequence(branch.verbs);
}

/** `<Gather url>`: the digits go to the customer's server; its answer replaces the flow. */
async function sendDigits(verb: GatherVerb, digits: string, ctx: FlowContext): Promise<Continuation> {
  const target = verb.target;
  if (target === undefined) return branchOn(verb, digits, ctx);
  const result = await fetchWithDeadline(ctx, { ...target, path: verb.path }, verb.timeout, undefined, { dtmf: digits });
  if (ctx.signal.aborted) return CALLER_HUNG_UP;
  if (!result.ok) throw VerbFailure.fromFetch(result.failure);
  return { kind: 'replace', document: result.document, url: target.url };
}
