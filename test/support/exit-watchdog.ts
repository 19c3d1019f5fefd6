// Mocha root hook: once every test has run, the process should end by itself. If something
// still holds it open ten seconds later (a socket, a timer, a child process), say what it
// is and end the run with mocha's own exit code, so a leak is reported instead of hanging CI.
const GRACE_MS = 10_000;

export const mochaHooks = {
  afterAll(): void {
    setTimeout(() => {
      const holding = process.getActiveResourcesInfo().filter((kind) => kind !== 'Timeout');
      process.stderr.write(`exit-watchdog: the test process was still held open by: ${holding.join(', ') || 'timers'}\n`);
      process.exit();
    }, GRACE_MS).unref();
  },
};
