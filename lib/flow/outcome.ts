import type { FlowDocument } from '../xml/index.js';
import type { FlowEndReason } from './ports.js';

/** What happens after a verb (or a sequence of verbs) has run. */
export type Continuation =
  /** Go on with the next verb. */
  | { readonly kind: 'next' }
  /** Drop the rest of the flow and run this document instead (a successful `<Callback>`). */
  | { readonly kind: 'replace'; readonly document: FlowDocument; readonly url: string }
  /** The call is over: nothing more runs. */
  | { readonly kind: 'end'; readonly reason: FlowEndReason };

export const NEXT: Continuation = { kind: 'next' };
export const CALLER_HUNG_UP: Continuation = { kind: 'end', reason: 'caller-hangup' };
export const HANDED_OVER: Continuation = { kind: 'end', reason: 'handover' };
