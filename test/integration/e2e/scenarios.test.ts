// The shared end-to-end scenarios (test/scenarios/calls.ts) on the fake ARI. The same
// scenarios run on a real Asterisk 22 in `npm run test:asterisk`.
import { callScenarios } from '../../scenarios/calls.js';
import { FakePhoneLine } from '../../support/phone-line/fake-line.js';

describe('Scenarios on the fake ARI', function () {
  callScenarios(() => FakePhoneLine.start());
});
