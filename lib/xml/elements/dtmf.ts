import { keys, required } from '../attributes.js';
import { defineElement, verbSequence } from '../element.js';
import type { DtmfBranch } from '../types.js';

export const dtmfElement = defineElement({
  name: 'DTMF',
  role: 'part',
  home: 'inside a <Gather>',
  attributes: { value: required(keys(1, 32)) },
  children: verbSequence,
  build: ({ attrs, children, base }): DtmfBranch => ({ kind: 'DTMF', ...base, value: attrs.value, verbs: children.verbs }),
});
