import { label, milliseconds, optional, withDefault } from '../attributes.js';
import { compact, defineElement, noChildren } from '../element.js';
import type { AnswerVerb } from '../types.js';

export const answerElement = defineElement({
  name: 'Answer',
  role: 'verb',
  attributes: {
    delay: withDefault(milliseconds(0, 60_000), 0),
    tag: optional(label),
  },
  children: noChildren,
  build: ({ attrs, base }): AnswerVerb => compact({ kind: 'Answer', ...base, delay: attrs.delay, tag: attrs.tag }),
});
