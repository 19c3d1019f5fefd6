import { label, optional } from '../attributes.js';
import { compact, defineElement, noChildren } from '../element.js';
import type { HangupVerb } from '../types.js';

export const hangupElement = defineElement({
  name: 'Hangup',
  role: 'verb',
  attributes: { tag: optional(label) },
  children: noChildren,
  build: ({ attrs, base }): HangupVerb => compact({ kind: 'Hangup', ...base, tag: attrs.tag }),
});
