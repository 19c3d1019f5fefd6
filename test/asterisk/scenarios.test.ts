// The shared end-to-end scenarios (test/scenarios/calls.ts) on a real Asterisk 22 with the
// project's asterisk-config/. The same scenarios run on the fake ARI in `npm test`.
import { callScenarios } from '../scenarios/calls.js';
import { sharedAsterisk } from '../support/asterisk/index.js';
import { AsteriskPhoneLine } from '../support/phone-line/asterisk-line.js';

describe('Scenarios on Asterisk 22', function () {
  callScenarios(async () => AsteriskPhoneLine.start(await sharedAsterisk()));
});
