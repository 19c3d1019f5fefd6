import { keys, milliseconds, withDefault } from '../attributes.js';
import { defineElement, noChildren } from '../element.js';
import type { PauseVerb } from '../types.js';

export const pauseElement = defineElement({
  name: 'Pause',
  role: 'verb',
  attributes: {
    length: withDefault(milliseconds(0, 3_600_000), 1000),
    dtmf_stop: withDefault(keys(0, 16), ''),
  },
  children: noChildren,
  build: ({ attrs, base }): PauseVerb => ({ kind: 'Pause', ...base, length: attrs.length, dtmfStop: attrs.dtmf_stop }),
});
