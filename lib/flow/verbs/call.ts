import type { CallField, CallVerb } from '../../xml/index.js';
import { NEXT } from '../outcome.js';
import type { CallInfo } from '../ports.js';
import type { VerbHandler } from './handler.js';

function fieldValue(info: CallInfo, field: CallField): string {
  return field === 'to' ? info.tn : info[field];
}

/** `value=""` and `value="null"` stand for an absent caller ID (spec §3). */
function matches(actual: string, expected: string): boolean {
  if (actual === '') return expected === '' || expected === 'null';
  return actual === expected;
}

export const call: VerbHandler<CallVerb> = {
  async run(verb, ctx) {
    if (!matches(fieldValue(ctx.call.info, verb.field), verb.value)) return NEXT;
    return ctx.runSequence(verb.verbs);
  },
};
