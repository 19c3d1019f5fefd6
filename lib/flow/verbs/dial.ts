import type { DialVerb } from '../../xml/index.js';
import { VerbFailure, type FailureCode } from '../failure.js';
import { CALLER_HUNG_UP, NEXT } from '../outcome.js';
import type { DialOutcome, DialTargetFailure } from '../ports.js';
import type { VerbHandler } from './handler.js';

/**
 * `<Dial>` (spec §3): rings every `<To>` at once; the first to answer is bridged with the
 * caller and the others are cancelled. When the called party hangs up the flow goes on
 * with the next verb. Nobody answering within `timeout` is `no_answer`; every target
 * busy, congested or failing is `busy`, `congestion` or `dial_failed`, with a reason
 * naming what happened and the Q.850 cause.
 */
export const dial: VerbHandler<DialVerb> = {
  async run(verb, ctx) {
    const targets = verb.targets.map((t) => ({ type: t.type, value: t.value }));
    const callerId = verb.callerId ?? (ctx.call.info.from === '' ? undefined : ctx.call.info.from);
    const outcome = await ctx.call.dial(targets, { timeout: verb.timeout, ...(callerId === undefined ? {} : { callerId }) });
    if (ctx.signal.aborted) return CALLER_HUNG_UP;
    if (outcome.kind === 'bridged') return NEXT;
    throw dialFailure(outcome);
  },
};

/** What each failure is called, in the order one names a `<Dial>` whose targets failed differently. */
const FAILURES: readonly { failure: DialTargetFailure; code: FailureCode; words: string }[] = [
  { failure: 'busy', code: 'busy', words: 'busy' },
  { failure: 'congestion', code: 'congestion', words: 'congestion' },
  { failure: 'no_answer', code: 'no_answer', words: 'no answer' },
  { failure: 'failed', code: 'dial_failed', words: 'the call failed' },
];

/** The verb's failure: "no answer within 3000 ms", "busy (cause 17)", "busy (cause 17), congestion (cause 34)". */
export function dialFailure(outcome: Exclude<DialOutcome, { kind: 'bridged' }>): VerbFailure {
  if (outcome.kind === 'timeout') return new VerbFailure('no_answer', `no answer within ${outcome.timeout} ms (cause 19)`);
  const parts: string[] = [];
  let code: FailureCode | undefined;
  for (const { failure, code: failureCode, words } of FAILURES) {
    const matching = outcome.targets.filter((t) => t.failure === failure);
    if (matching.length === 0) continue;
    code ??= failureCode;
    const causes = [...new Set(matching.map((t) => t.cause).filter((c): c is number => c !== undefined && c > 0))];
    const detail = matching.find((t) => t.detail !== undefined)?.detail;
    const cause = causes.length === 0 ? '' : ` (cause ${causes.join(', ')})`;
    parts.push(`${words}${cause}${failure === 'failed' && detail !== undefined ? `: ${detail}` : ''}`);
  }
  return new VerbFailure(code ?? 'dial_failed', parts.length === 0 ? 'no target could be dialled' : parts.join(', '));
}
