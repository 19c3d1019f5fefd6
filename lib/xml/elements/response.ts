import { defineElement, verbSequence } from '../element.js';
import type { FlowDocument } from '../types.js';

export const responseElement = defineElement({
  name: 'Response',
  role: 'root',
  home: 'at the root of the document',
  attributes: {},
  children: verbSequence,
  build: ({ children }): Omit<FlowDocument, 'size' | 'source'> => ({ kind: 'Response', path: 'Response', verbs: children.verbs }),
});
