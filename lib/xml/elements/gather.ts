import { boolean, httpMethod, httpUrl, integer, keys, milliseconds, optional, withDefault } from '../attributes.js';
import { compact, defineElement, slots } from '../element.js';
import type { DtmfBranch, GatherVerb } from '../types.js';
import { defaultElement } from './default.js';
import { dtmfElement } from './dtmf.js';
import { errorChildElement } from './error.js';
import { pauseElement } from './pause.js';
import { playElement } from './play.js';
import { sayElement } from './say.js';

export const gatherElement = defineElement({
  name: 'Gather',
  role: 'verb',
  attributes: {
    dtmf_length: withDefault(integer(1, 32), 1, { aliases: ['length', 'numDigits'] }),
    dtmf_stop: withDefault(keys(0, 16), '#', { aliases: ['finishOnKey'] }),
    timeout: withDefault(milliseconds(100, 120_000), 5000),
    attempts: withDefault(integer(1, 10), 1),
    url: optional(httpUrl),
    method: withDefault(httpMethod, 'POST', { needs: 'url' }),
    body: withDefault(boolean, false, { needs: 'url' }),
  },
  children: slots({
    prompts: { accepts: [sayElement, playElement, pauseElement] },
    branches: { accepts: [dtmfElement], unique: { attribute: 'value', key: (branch: DtmfBranch) => branch.value } },
    default: { accepts: [defaultElement], max: 1 },
    error: { accepts: [errorChildElement], max: 1 },
  }),
  build: ({ attrs, children, base }): GatherVerb =>
    compact<GatherVerb>({
      kind: 'Gather',
      ...base,
      dtmfLength: attrs.dtmf_length,
      dtmfStop: attrs.dtmf_stop,
      timeout: attrs.timeout,
      attempts: attrs.attempts,
      target: attrs.url === undefined ? undefined : { url: attrs.url, method: attrs.method, body: attrs.body },
      prompts: children.prompts,
      branches: children.branches,
      default: children.default[0],
      onError: children.error[0],
    }),
});
