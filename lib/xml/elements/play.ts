import { httpUrl, integer, label, ok, optional, withDefault, type Parser } from '../attributes.js';
import { defineElement, slots } from '../element.js';
import type { PlaySource, PlayVerb } from '../types.js';
import { quote } from '../problems.js';
import { errorChildElement } from './error.js';

/** url="" counts as not given, so the content may carry the URL instead. */
const urlOrEmpty: Parser<string | undefined> = (raw) => (raw === '' ? ok(undefined) : httpUrl(raw));

export const playElement = defineElement({
  name: 'Play',
  role: 'verb',
  attributes: {
    url: optional(urlOrEmpty),
    record: optional(label),
    loop: withDefault(integer(1, 100), 1),
  },
  text: true,
  children: slots({ error: { accepts: [errorChildElement], max: 1 } }),
  build: ({ attrs, children, text, base, node }): PlayVerb | undefined => {
    const content = text.trim();
    const given = [content && 'content', attrs.url && 'url', attrs.record && 'record'].filter(Boolean);
    if (given.length === 0) {
      node.report(
        'missing_attribute',
        '<Play> needs something to play: a URL as content or in the url attribute, or a recording tag in record',
      );
      return undefined;
    }
    if (given.length > 1) {
      node.report('invalid_value', `<Play> has more than one source (${given.join(' and ')}); give only one`);
      return undefined;
    }
    let source: PlaySource;
    if (attrs.record !== undefined) source = { kind: 'recording', tag: attrs.record };
    else if (attrs.url !== undefined) source = { kind: 'url', url: attrs.url };
    else {
      const parsed = httpUrl(content);
      if (!parsed.ok) {
        node.report('invalid_value', `<Play> content ${quote(content)} is not valid: expected ${parsed.expected}`);
        return undefined;
      }
      source = { kind: 'url', url: parsed.value };
    }
    const onError = children.error[0];
    return { kind: 'Play', ...base, source, loop: attrs.loop, ...(onError ? { onError } : {}) };
  },
});

