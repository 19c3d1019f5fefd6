import { boolean, httpMethod, httpUrl, milliseconds, required, withDefault } from '../attributes.js';
import { compact, defineElement, slots } from '../element.js';
import type { CurlVerb } from '../types.js';
import { errorChildElement } from './error.js';

export const curlElement = defineElement({
  name: 'Curl',
  role: 'verb',
  attributes: {
    url: required(httpUrl),
    method: withDefault(httpMethod, 'POST'),
    timeout: withDefault(milliseconds(100, 120_000), 5000),
    body: withDefault(boolean, true),
  },
  children: slots({ error: { accepts: [errorChildElement], max: 1 } }),
  build: ({ attrs, children, base }): CurlVerb =>
    compact({
      kind: 'Curl',
      ...base,
      url: attrs.url,
      method: attrs.method,
      body: attrs.body,
      timeout: attrs.timeout,
      onError: children.error[0],
    }),
});
