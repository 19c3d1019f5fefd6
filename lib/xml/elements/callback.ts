import { boolean, httpMethod, httpUrl, label, milliseconds, optional, required, withDefault } from '../attributes.js';
import { compact, defineElement, slots } from '../element.js';
import type { CallbackVerb } from '../types.js';
import { errorChildElement } from './error.js';

export const callbackElement = defineElement({
  name: 'Callback',
  role: 'verb',
  attributes: {
    url: required(httpUrl),
    method: withDefault(httpMethod, 'POST'),
    body: withDefault(boolean, false),
    timeout: withDefault(milliseconds(100, 120_000), 5000),
    tag: optional(label),
  },
  children: slots({ error: { accepts: [errorChildElement], max: 1 } }),
  build: ({ attrs, children, base }): CallbackVerb =>
    compact({
      kind: 'Callback',
      ...base,
      url: attrs.url,
      method: attrs.method,
      body: attrs.body,
      timeout: attrs.timeout,
      tag: attrs.tag,
      onError: children.error[0],
    }),
});
