import { keys, label, milliseconds, optional, withDefault } from '../attributes.js';
import { compact, defineElement, verbSequenceWithOwnError } from '../element.js';
import type { RecordVerb } from '../types.js';

export const recordElement = defineElement({
  name: 'Record',
  role: 'verb',
  attributes: {
    tag: optional(label),
    timeout: withDefault(milliseconds(1000, 3_600_000), 60_000),
    dtmf_stop: withDefault(keys(0, 16), '#'),
    // Accepted for compatibility with Opentact documents; transcription is not done.
    asr: optional(label),
  },
  children: verbSequenceWithOwnError,
  build: ({ attrs, children, base }): RecordVerb =>
    compact({
      kind: 'Record',
      ...base,
      tag: attrs.tag,
      timeout: attrs.timeout,
      dtmfStop: attrs.dtmf_stop,
      asr: attrs.asr,
      verbs: children.verbs,
      onError: children.ownError,
    }),
});
