import { answer } from './answer.js';
import { call } from './call.js';
import { callback } from './callback.js';
import { curl } from './curl.js';
import { dial } from './dial.js';
import { gather } from './gather.js';
import type { VerbHandlers } from './handler.js';
import { hangup } from './hangup.js';
import { pause } from './pause.js';
import { play } from './play.js';
import { record } from './record.js';
import { say } from './say.js';

export const verbHandlers: VerbHandlers = {
  Answer: answer,
  Say: say,
  Play: play,
  Pause: pause,
  Hangup: hangup,
  Callback: callback,
  Call: call,
  Gather: gather,
  Dial: dial,
  Record: record,
  Curl: curl,
};
