// The load tool's arithmetic: percentiles, the engine's /metrics read as differences, and
// the command line.
import { expect } from 'chai';
import { parseCommand, UsageError } from '../../../scripts/load/options.js';
import { bucketPercentile, counterIncrease, histogramIncrease, parseMetrics } from '../../../scripts/load/prometheus.js';
import { distribution, percentile } from '../../../scripts/load/stats.js';

describe('load: figures', () => {
  it('takes percentiles by nearest rank: values that were measured', () => {
    const values = Array.from({ length: 200 }, (_, i) => i + 1);
    expect(percentile(values, 50)).to.equal(100);
    expect(percentile(values, 99)).to.equal(198);
    expect(percentile([], 99)).to.equal(null);
    expect(distribution([5, 1, 3])).to.deep.equal({ count: 3, p50: 3, p99: 5, max: 5 });
  });

  it('reads counters and histograms of /metrics as what changed between two scrapes', () => {
    const before = parseMetrics(
      [
        '# HELP opentact_calls_ended_total Calls ended',
        'opentact_calls_ended_total{reason="hangup"} 3',
        'opentact_callback_duration_seconds_bucket{le="0.05",outcome="ok"} 2',
        'opentact_callback_duration_seconds_bucket{le="0.1",outcome="ok"} 3',
        'opentact_callback_duration_seconds_bucket{le="+Inf",outcome="ok"} 3',
        'opentact_callback_duration_seconds_sum{outcome="ok"} 0.1',
        'opentact_callback_duration_seconds_count{outcome="ok"} 3',
      ].join('\n'),
    );
    const after = parseMetrics(
      [
        'opentact_calls_ended_total{reason="hangup"} 103',
        'opentact_calls_ended_total{reason="caller-hangup"} 2',
        'opentact_callback_duration_seconds_bucket{le="0.05",outcome="ok"} 92',
        'opentact_callback_duration_seconds_bucket{le="0.1",outcome="ok"} 101',
        'opentact_callback_duration_seconds_bucket{le="+Inf",outcome="ok"} 103',
        'opentact_callback_duration_seconds_sum{outcome="ok"} 4.1',
        'opentact_callback_duration_seconds_count{outcome="ok"} 103',
      ].join('\n'),
    );
    expect(counterIncrease(before, after, 'opentact_calls_ended_total', (labels) => labels['reason'] ?? '')).to.deep.equal({ hangup: 100, 'caller-hangup': 2 });
    const callbacks = histogramIncrease(before, after, 'opentact_callback_duration_seconds');
    expect(callbacks.count).to.equal(100);
    expect(callbacks.sumSeconds).to.be.closeTo(4, 1e-9);
    expect(bucketPercentile(callbacks, 50)).to.equal(0.05);
    expect(bucketPercentile(callbacks, 99)).to.equal(Infinity);
  });

  it('reads the command line, and names the option a mistake is in', () => {
    const command = parseCommand(['--rate', '125', '--duration', '20', '--flow', 'callback', '--fake', '--engine-env', 'WORKER_CONCURRENCY=100'], {}, new Date('2026-11-29T12:00:00Z'));
    expect(command.kind).to.equal('run');
    if (command.kind !== 'run') return;
    expect(command.options).to.include({ target: 'fake', rate: 125, durationSeconds: 20, out: 'load-2026-11-29T12-00-00-000Z.json' });
    expect(command.options.flow).to.deep.equal({ kind: 'builtin', name: 'callback' });
    expect(command.options.engineEnv).to.deep.equal({ WORKER_CONCURRENCY: '100' });
    expect(() => parseCommand(['--rate', '0'])).to.throw(UsageError, /--rate/);
    expect(() => parseCommand(['--fake', '--engine-url', 'http://127.0.0.1:8080'])).to.throw(UsageError, /--fake/);
    expect(() => parseCommand(['--engine-url', 'http://127.0.0.1:8080'])).to.throw(UsageError, /--ari-url/);
  });
});
