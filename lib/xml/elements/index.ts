// The language's elements, by lower-cased name (element names match in any case).
import type { ElementDefinition } from '../element.js';
import type { Verb } from '../types.js';
import { answerElement } from './answer.js';
import { callElement } from './call.js';
import { callbackElement } from './callback.js';
import { curlElement } from './curl.js';
import { defaultElement } from './default.js';
import { dialElement } from './dial.js';
import { dtmfElement } from './dtmf.js';
import { errorChildElement, errorSiblingElement } from './error.js';
import { gatherElement } from './gather.js';
import { hangupElement } from './hangup.js';
import { pauseElement } from './pause.js';
import { playElement } from './play.js';
import { recordElement } from './record.js';
import { responseElement } from './response.js';
import { sayElement } from './say.js';
import { toElement } from './to.js';

/** Elements that run in a sequence (children of Response, Call, DTMF, Default, Error, Record). */
export const VERB_ELEMENTS: ReadonlyMap<string, ElementDefinition<Verb>> = new Map<string, ElementDefinition<Verb>>([
  ['answer', answerElement],
  ['say', sayElement],
  ['play', playElement],
  ['pause', pauseElement],
  ['hangup', hangupElement],
  ['callback', callbackElement],
  ['call', callElement],
  ['gather', gatherElement],
  ['dial', dialElement],
  ['record', recordElement],
  ['curl', curlElement],
]);

/** Every element of the language. `error` maps to the sibling form used in sequences. */
export const ELEMENTS: ReadonlyMap<string, ElementDefinition<unknown>> = new Map<string, ElementDefinition<unknown>>([
  ...VERB_ELEMENTS,
  ['error', errorSiblingElement],
  ['dtmf', dtmfElement],
  ['default', defaultElement],
  ['to', toElement],
  ['response', responseElement],
]);

export { errorChildElement, errorSiblingElement, responseElement };
