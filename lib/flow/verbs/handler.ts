import type { Verb, VerbKind } from '../../xml/index.js';
import type { FlowContext } from '../context.js';
import type { Continuation } from '../outcome.js';

/**
 * Runs one verb. Resolves with what comes next; throws VerbFailure when the verb fails
 * (the interpreter then runs the error branch) and CallEndedError when the call is gone.
 */
export interface VerbHandler<V extends Verb> {
  run(verb: V, ctx: FlowContext): Promise<Continuation>;
}

export type VerbHandlers = { readonly [K in VerbKind]: VerbHandler<Extract<Verb, { kind: K }>> };
