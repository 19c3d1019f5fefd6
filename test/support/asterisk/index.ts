// The run's real Asterisk: `sharedAsterisk()` starts one on first use (see launcher.ts)
// and a root after-all hook stops it. A test that fails gets the lines Asterisk printed
// while it ran, so its own view of the failure is in the report.
import { asteriskBinary, startAsterisk, type AsteriskInstance } from './launcher.js';

export { AsteriskLauncherError, HOW_TO_GET_ASTERISK, startAsterisk, type AsteriskInstance, type AsteriskLogLine } from './launcher.js';

let shared: Promise<AsteriskInstance> | undefined;
let testStarted = Date.now();

export function sharedAsterisk(): Promise<AsteriskInstance> {
  shared ??= startAsterisk();
  return shared;
}

/**
 * Replaces the run's Asterisk with a new one, e.g. after asterisk/asterisk#2170 left
 * `GET /applications` hanging: the next `sharedAsterisk()` starts afresh.
 */
export async function restartSharedAsterisk(): Promise<AsteriskInstance> {
  const current = shared;
  shared = undefined;
  if (current) await current.then((instance) => instance.stop(), () => undefined);
  return sharedAsterisk();
}

async function stopSharedAsterisk(): Promise<void> {
  const current = shared;
  shared = undefined;
  if (current) await current.then((instance) => instance.stop(), () => undefined);
}

// Loaded by a spec file, these run as root hooks (as in test/support/redis.ts).
if (typeof globalThis.after === 'function') {
  // No Asterisk: fail the whole run at once, saying how to get one.
  before(function () {
    asteriskBinary();
  });
  beforeEach(function () {
    testStarted = Date.now();
  });
  afterEach(async function () {
    if (this.currentTest?.state !== 'failed' || shared === undefined) return;
    const instance = await shared.catch(() => undefined);
    if (instance === undefined) return;
    const lines = instance.logSince(testStarted - 50);
    process.stderr.write(`\n---- Asterisk's log during "${this.currentTest.fullTitle()}" (${lines.length} lines) ----\n${lines.join('\n')}\n---- end of Asterisk's log ----\n`);
  });
  after(stopSharedAsterisk);
}
