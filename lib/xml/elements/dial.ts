import { callerId, milliseconds, optional, withDefault } from '../attributes.js';
import { compact, defineElement, slots } from '../element.js';
import type { DialVerb } from '../types.js';
import { errorChildElement } from './error.js';
import { toElement } from './to.js';

export const dialElement = defineElement({
  name: 'Dial',
  role: 'verb',
  attributes: {
    timeout: withDefault(milliseconds(1000, 600_000), 30_000),
    callerId: optional(callerId),
  },
  children: slots({
    targets: { accepts: [toElement], min: 1 },
    error: { accepts: [errorChildElement], max: 1 },
  }),
  build: ({ attrs, children, base }): DialVerb =>
    compact({
      kind: 'Dial',
      ...base,
      timeout: attrs.timeout,
      callerId: attrs.callerId,
      targets: children.targets,
      onError: children.error[0],
    }),
});
