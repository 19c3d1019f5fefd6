// /metrics as an operator's Prometheus sees it: valid text format with the documented
// names and types, figures that move as calls run on the fake ARI, the queue read at
// scrape time, and a worker-only process serving it on its HTTP port.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { expect } from 'chai';
import { Metrics } from '../../../lib/metrics/index.js';
import { QueueStats } from '../../../lib/queue/queue-stats.js';
import { JsonLog, stopChild } from '../../support/child-log.js';
import { closedPort } from '../../support/http-servers.js';
import { sharedRedisUrl, uniquePrefix } from '../../support/redis.js';
import { silentLogger } from '../../support/silent-logger.js';
import { APP_NAME, AriSuite, CALLER, apps } from '../ari/harness.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

interface Family {
  readonly type: string;
  readonly help: string;
}

interface Scrape {
  readonly families: ReadonlyMap<string, Family>;
  /** `name{a="1",b="2"}` (labels sorted) → value. */
  readonly samples: ReadonlyMap<string, number>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/;
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"$/;
const SUFFIXES: Readonly<Record<string, readonly string[]>> = { histogram: ['_bucket', '_sum', '_count'], summary: ['', '_sum', '_count'] };

function splitLabels(text: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i] ?? '';
    if (c === '\\' && quoted) {
      current += c + (text[i + 1] ?? '');
      i += 1;
    } else if (c === '"') {
      quoted = !quoted;
      current += c;
    } else if (c === ',' && !quoted) {
      parts.push(current);
      current = '';
    } else current += c;
  }
  if (current !== '') parts.push(current);
  return parts;
}

/** Parses the Prometheus text format (0.0.4) strictly; throws on anything invalid. */
function parseScrape(text: string): Scrape {
  const families = new Map<string, { type?: string; help?: string }>();
  const samples = new Map<string, number>();
  expect(text.endsWith('\n'), 'ends with a newline').to.equal(true);
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const [, kind, name = '', rest = ''] = meta;
      expect(name, line).to.match(NAME);
      const family = families.get(name) ?? {};
      if (kind === 'TYPE') {
        expect(['counter', 'gauge', 'histogram', 'summary', 'untyped'], line).to.include(rest);
        expect(family.type, `second TYPE for ${name}`).to.equal(undefined);
        family.type = rest;
      } else family.help = rest;
      families.set(name, family);
      continue;
    }
    expect(line.startsWith('#'), `comment line ${line}`).to.equal(false);
    const sample = SAMPLE.exec(line);
    if (!sample) throw new Error(`not a sample line: ${line}`);
    const [, name = '', labelText = '', raw = ''] = sample;
    // Prometheus parses floats as Go does: NaN in any case (prom-client writes `Nan`).
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : /^nan$/i.test(raw) ? NaN : Number(raw);
    expect(Number.isNaN(value) && !/^nan$/i.test(raw), `value of ${line}`).to.equal(false);
    const labels = splitLabels(labelText).map((part) => {
      const m = LABEL.exec(part);
      if (!m) throw new Error(`bad label ${part} in ${line}`);
      return `${m[1]}="${m[2]}"`;
    });
    const family = [...families.entries()].find(([base, f]) => (SUFFIXES[f.type ?? ''] ?? ['']).some((suffix) => `${base}${suffix}` === name));
    if (family === undefined) throw new Error(`sample ${name} has no TYPE before it`);
    const key = `${name}{${labels.sort().join(',')}}`;
    expect(samples.has(key), `duplicate sample ${key}`).to.equal(false);
    samples.set(key, value);
  }
  const complete = new Map<string, Family>();
  for (const [name, family] of families) {
    if (family.type === undefined || family.help === undefined) throw new Error(`${name} lacks HELP or TYPE`);
    complete.set(name, { type: family.type, help: family.help });
  }
  return { families: complete, samples };
}

/** A sample's value; 0 when absent (a labelled counter not yet incremented). */
function value(scrape: Scrape, name: string, labels: Readonly<Record<string, string>> = {}): number {
  const key = `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(',')}}`;
  return scrape.samples.get(key) ?? 0;
}

async function scrapeUrl(url: string): Promise<Scrape> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  expect(response.status).to.equal(200);
  expect(response.headers.get('content-type')).to.equal('text/plain; version=0.0.4; charset=utf-8');
  return parseScrape(await response.text());
}

/** Every metric of the README's table, with its type. */
const EXPECTED_TYPES: Readonly<Record<string, string>> = {
  opentact_callbacks_total: 'counter',
  opentact_callback_duration_seconds: 'histogram',
  opentact_callback_attempts: 'histogram',
  opentact_queue_jobs: 'gauge',
  opentact_queue_oldest_waiting_age_seconds: 'gauge',
  opentact_calls_active: 'gauge',
  opentact_calls_ended_total: 'counter',
  opentact_calls_refused_total: 'counter',
  opentact_first_audio_seconds: 'histogram',
  opentact_verbs_total: 'counter',
  opentact_speech_renderings_total: 'counter',
  opentact_speech_cache_hits_total: 'counter',
  opentact_remote_audio_fetches_total: 'counter',
  opentact_ari_request_duration_seconds: 'histogram',
  opentact_ari_reconnects_total: 'counter',
  opentact_ari_connected: 'gauge',
  opentact_ari_requests_in_flight: 'gauge',
  opentact_overload_event_loop_lag_seconds: 'gauge',
  opentact_nodejs_eventloop_lag_seconds: 'gauge',
  opentact_process_cpu_seconds_total: 'counter',
  opentact_process_resident_memory_bytes: 'gauge',
  opentact_nodejs_heap_size_used_bytes: 'gauge',
};

describe('metrics: the scrape and the queue gauges', function () {
  this.timeout(15_000);
  const prefix = uniquePrefix('metrics-queue');
  let queue: Queue | undefined;
  let stats: QueueStats | undefined;

  after(async function () {
    await queue?.obliterate({ force: true });
    await queue?.close();
    await stats?.close();
  });

  it('is valid Prometheus text with every documented name and type, each prefixed opentact_', async function () {
    const metrics = new Metrics();
    const scrape = parseScrape(await metrics.scrape());
    for (const [name, type] of Object.entries(EXPECTED_TYPES)) expect(scrape.families.get(name)?.type, name).to.equal(type);
    for (const name of scrape.families.keys()) expect(name.startsWith('opentact_'), name).to.equal(true);
    // Without a queue to read, the jobs gauge has no sample rather than false zeros.
    expect([...scrape.samples.keys()].some((key) => key.startsWith('opentact_queue_jobs'))).to.equal(false);
  });

  it('reads the jobs by state and the age of the oldest waiting job at scrape time', async function () {
    const connection = await sharedRedisUrl();
    queue = new Queue('callbacks', { connection: { url: connection }, prefix });
    // No worker on this prefix: the jobs wait. The oldest was enqueued 30 s ago.
    await queue.add('fetch', {}, { jobId: 'old', timestamp: Date.now() - 30_000 });
    await queue.add('fetch', {}, { jobId: 'new' });
    const metrics = new Metrics();
    stats = new QueueStats({ connection, prefix }, silentLogger);
    metrics.watchQueue(stats);
    const scrape = parseScrape(await metrics.scrape());
    expect(value(scrape, 'opentact_queue_jobs', { state: 'waiting' })).to.equal(2);
    expect(value(scrape, 'opentact_queue_jobs', { state: 'active' })).to.equal(0);
    expect(scrape.samples.has('opentact_queue_jobs{state="failed"}')).to.equal(true);
    const age = value(scrape, 'opentact_queue_oldest_waiting_age_seconds');
    expect(age).to.be.within(29, 60);
  });
});

describe('metrics: figures move as calls run (fake ARI)', function () {
  this.timeout(20_000);
  const suite = new AriSuite('metrics');
  const metrics = new Metrics();
  let url: string;

  before(async function () {
    const { welcome, long } = await suite.prompts();
    // A 404 is final (a 5xx would be retried until the callback's timeout).
    const server = await suite.server((_req, res) => res.writeHead(404).end());
    await suite.start(
      apps([
        {
          uuid: 'app-metrics-fail',
          name: 'Failing callback',
          numbers: ['15551240001'],
          xml: `<Response><Answer/><Play>${welcome}</Play><Callback url="${server.origin}/fail" timeout="3000"><Error><Say>Sorry</Say></Error></Callback><Hangup/></Response>`,
        },
        { uuid: 'app-metrics-long', name: 'Long', numbers: ['15551240002'], xml: `<Response><Answer/><Play>${long}</Play></Response>` },
      ]),
      { metrics, playbackMs: (label) => (label === 'long.wav' ? 60_000 : 20) },
    );
    url = `http://127.0.0.1:${suite.http.port}/metrics`;
  });

  after(() => suite.close());

  it('a call whose callback fails: callbacks_total{outcome="error",code="http_status"}, the verbs, the ending, ARI requests, first audio', async function () {
    const before = await scrapeUrl(url);
    const call = await suite.fake.placeCall({ from: CALLER, did: '15551240001', app: APP_NAME });
    await suite.fake.waitForRequest((r) => r.method === 'DELETE' && r.path === `/ari/channels/${call.id}`, 5000);
    await suite.role.app.whenIdle();
    const after = await scrapeUrl(url);
    const moved = (name: string, labels: Record<string, string> = {}): number => value(after, name, labels) - value(before, name, labels);

    expect(moved('opentact_callbacks_total', { outcome: 'error', code: 'http_status' })).to.equal(1);
    expect(moved('opentact_callbacks_total', { outcome: 'ok' })).to.equal(0);
    expect(moved('opentact_callback_duration_seconds_count', { outcome: 'error' })).to.equal(1);
    expect(moved('opentact_callback_attempts_sum', { outcome: 'error' })).to.equal(1);
    expect({
      answer: moved('opentact_verbs_total', { verb: 'Answer', outcome: 'ok' }),
      play: moved('opentact_verbs_total', { verb: 'Play', outcome: 'ok' }),
      callback: moved('opentact_verbs_total', { verb: 'Callback', outcome: 'http_status' }),
      say: moved('opentact_verbs_total', { verb: 'Say', outcome: 'ok' }),
      hangup: moved('opentact_verbs_total', { verb: 'Hangup', outcome: 'ok' }),
    }).to.deep.equal({ answer: 1, play: 1, callback: 1, say: 1, hangup: 1 });
    expect(moved('opentact_calls_ended_total', { reason: 'hangup' })).to.equal(1);
    expect(value(after, 'opentact_calls_active')).to.equal(0);
    expect(moved('opentact_first_audio_seconds_count')).to.equal(1);
    expect(moved('opentact_ari_request_duration_seconds_count', { operation: 'answer', outcome: 'ok' })).to.equal(1);
    expect(moved('opentact_ari_request_duration_seconds_count', { operation: 'play', outcome: 'ok' })).to.equal(2);
    expect(moved('opentact_ari_request_duration_seconds_count', { operation: 'hangup', outcome: 'ok' })).to.equal(1);
    expect(moved('opentact_remote_audio_fetches_total', { outcome: 'fetched' })).to.equal(1);
    // "Sorry" is rendered once (ahead, or by the call itself), whoever asked first.
    expect(moved('opentact_speech_renderings_total', { engine: 'espeak-ng', outcome: 'ok' })).to.equal(1);
    expect(value(after, 'opentact_ari_connected')).to.equal(1);
    // No label carries a call id, a channel or a URL.
    for (const key of after.samples.keys()) expect(key).not.to.match(/http:|[0-9a-f]{8}-[0-9a-f]{4}-|\d{10}\.\d+/);
  });

  it('calls_active counts a call in progress and returns to 0 when the caller hangs up (caller-hangup)', async function () {
    const before = await scrapeUrl(url);
    const call = await suite.fake.placeCall({ from: CALLER, did: '15551240002', app: APP_NAME });
    await suite.fake.waitForRequest((r) => r.path === `/ari/channels/${call.id}/play`, 5000);
    expect(value(await scrapeUrl(url), 'opentact_calls_active')).to.equal(1);
    await call.hangup();
    await suite.role.app.whenIdle();
    const after = await scrapeUrl(url);
    expect(value(after, 'opentact_calls_active')).to.equal(0);
    expect(value(after, 'opentact_calls_ended_total', { reason: 'caller-hangup' }) - value(before, 'opentact_calls_ended_total', { reason: 'caller-hangup' })).to.equal(1);
  });

  it('a call to a number without an app is counted as refused (unallocated_number)', async function () {
    const before = await scrapeUrl(url);
    const call = await suite.fake.placeCall({ from: CALLER, did: '15559990000', app: APP_NAME });
    await suite.fake.waitForRequest((r) => r.method === 'DELETE' && r.path === `/ari/channels/${call.id}`, 5000);
    const after = await scrapeUrl(url);
    expect(value(after, 'opentact_calls_refused_total', { reason: 'unallocated_number' }) - value(before, 'opentact_calls_refused_total', { reason: 'unallocated_number' })).to.equal(1);
  });
});

describe('metrics: a worker-only process (child process)', function () {
  this.timeout(30_000);
  let child: ChildProcess | undefined;

  after(() => stopChild(child));

  it('start --role worker serves /metrics (queue gauges, event-loop lag) and /health on HTTP_PORT, and no /media', async function () {
    const httpPort = await closedPort();
    child = spawn(process.execPath, ['--import', 'tsx', 'app/cli.ts', 'start', '--role', 'worker'], {
      cwd: ROOT,
      env: {
        ...process.env,
        REDIS_URL: await sharedRedisUrl(),
        QUEUE_PREFIX: uniquePrefix('metrics-worker'),
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: String(httpPort),
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const log = new JsonLog(child.stderr);
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    const listening = await log.waitFor((l) => l.msg === 'http role listening', 10_000, '"http role listening" in the log');
    expect(listening.port).to.equal(httpPort);
    await log.waitFor((l) => l.msg === 'started', 10_000, '"started" in the log');
    const base = `http://127.0.0.1:${httpPort}`;

    const scrape = await scrapeUrl(`${base}/metrics`);
    expect(scrape.families.get('opentact_nodejs_eventloop_lag_seconds')?.type).to.equal('gauge');
    expect(scrape.families.get('opentact_process_cpu_seconds_total')?.type).to.equal('counter');
    expect(value(scrape, 'opentact_queue_jobs', { state: 'waiting' })).to.equal(0);
    expect(scrape.samples.has('opentact_queue_jobs{state="active"}')).to.equal(true);
    expect(value(scrape, 'opentact_calls_active')).to.equal(0);
    expect((await fetch(`${base}/health`)).status).to.equal(200);
    expect((await fetch(`${base}/media/${'0'.repeat(64)}.wav`)).status).to.equal(404);

    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).to.equal(0);
  });
});
