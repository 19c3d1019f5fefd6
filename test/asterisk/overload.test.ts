// The admission-control scenario (test/scenarios/overload.ts) on a real Asterisk 22 with the
// project's asterisk-config/. The same scenario runs on the fake ARI in `npm test`.
import { overloadScenarios } from '../scenarios/overload.js';
import { sharedAsterisk } from '../support/asterisk/index.js';
import { AsteriskPhoneLine } from '../support/phone-line/asterisk-line.js';

describe('Overload on Asterisk 22', function () {
  overloadScenarios(async () => AsteriskPhoneLine.start(await sharedAsterisk()));
});
