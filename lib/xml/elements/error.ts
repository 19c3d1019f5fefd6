import { boolean, label, optional, withDefault } from '../attributes.js';
import { compact, defineElement, verbSequence, type ElementDefinition } from '../element.js';
import type { ErrorBranch } from '../types.js';

const attributes = {
  tag: optional(label),
  say: withDefault(boolean, false, { aliases: ['play'] }),
};

/** `<Error>`, read as a verb's own child or as the sibling right after the verb. */
export function errorElement(form: ErrorBranch['form']): ElementDefinition<ErrorBranch> {
  return defineElement({
    name: 'Error',
    role: 'error',
    attributes,
    children: verbSequence,
    build: ({ attrs, children, base }): ErrorBranch =>
      compact({ kind: 'Error', form, ...base, tag: attrs.tag, say: attrs.say, verbs: children.verbs }),
  });
}

export const errorChildElement = errorElement('child');
export const errorSiblingElement = errorElement('sibling');
