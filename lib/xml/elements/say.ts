import { integer, label, languageTag, oneOf, optional, withDefault } from '../attributes.js';
import { compact, defineElement, noChildren } from '../element.js';
import type { SayVerb } from '../types.js';

export const MAX_SAY_CHARACTERS = 3000;

export const sayElement = defineElement({
  name: 'Say',
  role: 'verb',
  attributes: {
    text: optional(label),
    lang: withDefault(languageTag, 'en-US'),
    gender: withDefault(oneOf(['FEMALE', 'MALE']), 'FEMALE'),
    type: withDefault(oneOf(['Standard', 'WaveNet']), 'Standard'),
    code: optional(label),
    loop: withDefault(integer(1, 100), 1),
  },
  text: true,
  children: noChildren,
  build: ({ attrs, text, base, node }): SayVerb | undefined => {
    const content = collapse(text);
    const attribute = collapse(attrs.text ?? '');
    if (content && attribute) {
      node.report('invalid_value', '<Say> has text both as content and in the text attribute; give it only once');
      return undefined;
    }
    const spoken = content || attribute;
    if (!spoken) {
      node.report('missing_attribute', '<Say> needs text to speak, as its content or in the text attribute');
      return undefined;
    }
    const length = [...spoken].length;
    if (length > MAX_SAY_CHARACTERS) {
      node.report('out_of_range', `<Say> text is ${length} characters long; at most ${MAX_SAY_CHARACTERS} are allowed`);
      return undefined;
    }
    const voice = compact({ lang: attrs.lang, gender: attrs.gender, type: attrs.type, code: attrs.code });
    return { kind: 'Say', ...base, text: spoken, voice, loop: attrs.loop };
  },
});

function collapse(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
