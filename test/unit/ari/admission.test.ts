import { expect } from 'chai';
import { Admission, EventLoopLag, OVERLOAD_CAUSE, REFUSAL_LOG_INTERVAL_MS, TokenBucket } from '../../../lib/ari/admission.js';
import { NO_ADMISSION_LIMITS, type AdmissionSettings } from '../../../lib/config/index.js';
import { Metrics } from '../../../lib/metrics/index.js';
import { ManualClock } from '../../support/manual-clock.js';
import { stderrLogger, type TestLogger } from '../../support/stderr-logger.js';

interface Setup {
  readonly admission: Admission;
  readonly clock: ManualClock;
  readonly log: TestLogger;
  readonly metrics: Metrics;
  readonly lag: { ms: number };
  readonly ari: { inFlight: number };
}

function setup(settings: Partial<AdmissionSettings>): Setup {
  const clock = new ManualClock();
  const log = stderrLogger('silent');
  const metrics = new Metrics();
  const lag = { ms: 0 };
  const ari = { inFlight: 0 };
  const admission = new Admission({
    settings: { ...NO_ADMISSION_LIMITS, ...settings },
    log,
    metrics,
    clock,
    lag,
    ariRequestsInFlight: () => ari.inFlight,
  });
  return { admission, clock, log, metrics, lag, ari };
}

async function refusedCount(metrics: Metrics, reason: string): Promise<number> {
  const { values } = await metrics.callsRefused.get();
  return values.find((v) => v.labels['reason'] === reason)?.value ?? 0;
}

function refusalLines(log: TestLogger): Record<string, unknown>[] {
  return log.entries.filter((e) => e.msg?.startsWith('overload:')).map((e) => ({ ...e.obj }));
}

describe('Admission', function () {
  it('takes every call when no limit is set, whatever the load', function () {
    const { admission, lag, ari } = setup({});
    lag.ms = 10_000;
    ari.inFlight = 100_000;
    for (let i = 0; i < 1000; i++) expect(admission.admit(i, `ch-${i}`)).to.equal(undefined);
  });

  it('MAX_CALLS: refuses a call while that many are in progress, with cause 42, and takes the next once one ended', async function () {
    const { admission, metrics } = setup({ maxCalls: 2 });
    expect(admission.admit(0, 'a')).to.equal(undefined);
    expect(admission.admit(1, 'b')).to.equal(undefined);
    expect(admission.admit(2, 'c')).to.deep.equal({ reason: 'overload_calls', cause: OVERLOAD_CAUSE });
    expect(OVERLOAD_CAUSE).to.equal(42);
    expect(admission.admit(1, 'd')).to.equal(undefined);
    expect(await refusedCount(metrics, 'overload_calls')).to.equal(1);
  });

  it('MAX_CALLS_PER_SECOND: a burst of that many is taken, then one per 1/rate second; refused calls use no token', async function () {
    const { admission, clock, metrics } = setup({ maxCallsPerSecond: 4 });
    const burst = [0, 1, 2, 3, 4, 5].map((i) => admission.admit(0, `burst-${i}`)?.reason);
    expect(burst).to.deep.equal([undefined, undefined, undefined, undefined, 'overload_rate', 'overload_rate']);
    clock.advance(249);
    expect(admission.admit(0, 'early')?.reason).to.equal('overload_rate');
    clock.advance(1);
    expect(admission.admit(0, 'on-time')).to.equal(undefined);
    expect(admission.admit(0, 'next')?.reason).to.equal('overload_rate');
    // A quiet while refills one second's worth, no more.
    clock.advance(10_000);
    expect([0, 1, 2, 3, 4].map((i) => admission.admit(0, `later-${i}`)?.reason)).to.deep.equal([undefined, undefined, undefined, undefined, 'overload_rate']);
    expect(await refusedCount(metrics, 'overload_rate')).to.equal(5);
  });

  it('a call refused for MAX_CALLS does not use up a token of the rate', function () {
    const { admission } = setup({ maxCalls: 1, maxCallsPerSecond: 1 });
    expect(admission.admit(1, 'full')?.reason).to.equal('overload_calls');
    expect(admission.admit(0, 'taken')).to.equal(undefined);
  });

  it('OVERLOAD_LAG_MS: refuses from the threshold until the lag falls below half of it (no flapping)', async function () {
    const { admission, lag, metrics } = setup({ lagMs: 300 });
    lag.ms = 299;
    expect(admission.admit(0, 'a')).to.equal(undefined);
    lag.ms = 300;
    expect(admission.admit(0, 'b')?.reason).to.equal('overload_lag');
    lag.ms = 200;
    expect(admission.admit(0, 'c')?.reason).to.equal('overload_lag');
    expect(admission.status(0).overload).to.deep.equal(['overload_lag']);
    lag.ms = 149;
    expect(admission.admit(0, 'd')).to.equal(undefined);
    lag.ms = 299;
    expect(admission.admit(0, 'e')).to.equal(undefined);
    expect(await refusedCount(metrics, 'overload_lag')).to.equal(2);
  });

  it('OVERLOAD_ARI_REQUESTS: refuses while that many ARI requests are in flight, until they fall below half', function () {
    const { admission, ari } = setup({ ariRequests: 100 });
    ari.inFlight = 99;
    expect(admission.admit(0, 'a')).to.equal(undefined);
    ari.inFlight = 100;
    expect(admission.admit(0, 'b')?.reason).to.equal('overload_ari');
    ari.inFlight = 50;
    expect(admission.admit(0, 'c')?.reason).to.equal('overload_ari');
    ari.inFlight = 49;
    expect(admission.admit(0, 'd')).to.equal(undefined);
  });

  it('status() lists the limits a new call would meet, without using a token', function () {
    const { admission, lag } = setup({ maxCalls: 1, maxCallsPerSecond: 1, lagMs: 100 });
    expect(admission.status(0).overload).to.deep.equal([]);
    expect(admission.status(0).overload).to.deep.equal([]);
    expect(admission.admit(0, 'a')).to.equal(undefined);
    lag.ms = 150;
    expect(admission.status(1)).to.deep.equal({ overload: ['overload_calls', 'overload_lag', 'overload_rate'], lagMs: 150, ariRequestsInFlight: 0 });
  });

  it('logs refusals at most once a second: the first at once, the rest with their counts when the second is up', function () {
    const { admission, clock, log, lag } = setup({ maxCalls: 1, lagMs: 100 });
    expect(admission.admit(1, 'ch-1')?.reason).to.equal('overload_calls');
    expect(refusalLines(log)).to.have.length(1);
    expect(refusalLines(log)[0]).to.deep.include({ refused: 1, reasons: { overload_calls: 1 }, channels: ['ch-1'], cause: 42, calls: 1 });
    clock.advance(100);
    admission.admit(1, 'ch-2');
    clock.advance(100);
    lag.ms = 120;
    admission.admit(0, 'ch-3');
    admission.admit(0, 'ch-4');
    expect(refusalLines(log)).to.have.length(1);
    clock.advance(REFUSAL_LOG_INTERVAL_MS - 200);
    const lines = refusalLines(log);
    expect(lines).to.have.length(2);
    expect(lines[1]).to.deep.include({ refused: 3, reasons: { overload_calls: 1, overload_lag: 2 }, channels: ['ch-2', 'ch-3', 'ch-4'], lagMs: 120 });
    // Nothing refused since: no line, no timer left.
    clock.advance(5000);
    expect(refusalLines(log)).to.have.length(2);
    expect(clock.pending).to.equal(0);
    // After a quiet second the next refusal is logged at once again.
    admission.admit(0, 'ch-5');
    expect(refusalLines(log)).to.have.length(3);
  });

  it('names at most ten refused channels in a line, and counts them all', function () {
    const { admission, clock, log } = setup({ maxCalls: 1 });
    admission.admit(1, 'first');
    for (let i = 0; i < 500; i++) admission.admit(1, `ch-${i}`);
    clock.advance(REFUSAL_LOG_INTERVAL_MS);
    const [, second] = refusalLines(log);
    expect(second).to.deep.include({ refused: 500, reasons: { overload_calls: 500 } });
    expect(second?.['channels']).to.deep.equal(Array.from({ length: 10 }, (_, i) => `ch-${i}`));
  });

  it('close() writes the refusals not logged yet and leaves no timer', function () {
    const { admission, clock, log } = setup({ maxCalls: 1 });
    admission.admit(1, 'a');
    admission.admit(1, 'b');
    admission.close();
    expect(refusalLines(log).map((l) => l['refused'])).to.deep.equal([1, 1]);
    expect(clock.pending).to.equal(0);
  });
});

describe('EventLoopLag', function () {
  it('samples how late its timer fires; one long pause counts for a fifth, a lasting lag is followed', function () {
    const clock = new ManualClock();
    const seen: number[] = [];
    const lag = new EventLoopLag(clock, (ms) => seen.push(ms));
    lag.start();
    clock.advance(EventLoopLag.SAMPLE_MS * 10);
    expect(lag.ms).to.equal(0);
    // The loop blocked for a second: the next sample fires 1000 ms late.
    clock.stall(EventLoopLag.SAMPLE_MS + 1000);
    clock.advance(0);
    expect(lag.ms).to.be.closeTo(200, 1e-9);
    // Every sample 500 ms late from now on.
    for (let i = 0; i < 10; i++) {
      clock.stall(EventLoopLag.SAMPLE_MS + 500);
      clock.advance(0);
    }
    expect(lag.ms).to.be.within(450, 500);
    expect(seen).to.have.length(21);
    lag.stop();
    expect(clock.pending).to.equal(0);
  });

  it('is sampled by the Admission only when OVERLOAD_LAG_MS is set, and stopped by close()', function () {
    const clock = new ManualClock();
    const log = stderrLogger('silent');
    new Admission({ settings: NO_ADMISSION_LIMITS, log, clock });
    expect(clock.pending).to.equal(0);
    const watching = new Admission({ settings: { ...NO_ADMISSION_LIMITS, lagMs: 300 }, log, clock });
    expect(clock.pending).to.equal(1);
    for (let i = 0; i < 20; i++) {
      clock.stall(EventLoopLag.SAMPLE_MS + 400);
      clock.advance(0);
    }
    expect(watching.admit(0, 'late')?.reason).to.equal('overload_lag');
    watching.close();
    expect(clock.pending).to.equal(0);
  });
});

describe('TokenBucket', function () {
  it('starts full and refills at its rate, up to one second of it', function () {
    const clock = new ManualClock();
    const bucket = new TokenBucket(2, clock);
    expect([bucket.take(), bucket.take(), bucket.take()]).to.deep.equal([true, true, false]);
    clock.advance(500);
    expect([bucket.take(), bucket.take()]).to.deep.equal([true, false]);
  });
});
