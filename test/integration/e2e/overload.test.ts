// The admission-control scenario (test/scenarios/overload.ts) on the fake ARI. The same
// scenario runs on a real Asterisk 22 in `npm run test:asterisk`.
import { overloadScenarios } from '../../scenarios/overload.js';
import { FakePhoneLine } from '../../support/phone-line/fake-line.js';

describe('Overload on the fake ARI', function () {
  overloadScenarios(() => FakePhoneLine.start());
});
