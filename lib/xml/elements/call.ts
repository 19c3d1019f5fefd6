import { anyText, oneOf, required } from '../attributes.js';
import { defineElement, verbSequence } from '../element.js';
import type { CallVerb } from '../types.js';

export const callElement = defineElement({
  name: 'Call',
  role: 'verb',
  attributes: {
    field: required(oneOf(['to', 'from', 'call', 'sca', 'state'])),
    // Required but may be empty: value="" matches an absent caller ID (spec §3).
    value: required(anyText),
  },
  children: verbSequence,
  build: ({ attrs, children, base }): CallVerb => ({
    kind: 'Call',
    ...base,
    field: attrs.field,
    value: attrs.value,
    verbs: children.verbs,
  }),
});
