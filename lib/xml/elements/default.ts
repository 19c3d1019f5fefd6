import { label, optional } from '../attributes.js';
import { compact, defineElement, verbSequence } from '../element.js';
import type { DefaultBranch } from '../types.js';

export const defaultElement = defineElement({
  name: 'Default',
  role: 'part',
  home: 'inside a <Gather>',
  attributes: { tag: optional(label) },
  children: verbSequence,
  build: ({ attrs, children, base }): DefaultBranch =>
    compact({ kind: 'Default', ...base, tag: attrs.tag, verbs: children.verbs }),
});
