// The call trail: a call on the fake ARI whose callback fails and takes its error branch
// is read back at /admin/calls/<uuid>, listed at /admin/calls, and printed by
// `opentact-ari trail`; the writer's cap, TTLs and its bounded backlog without Redis.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { CallTrails, TrailReader, trailKeys, type TrailSummary } from '../../../lib/trail/index.js';
import type { TimelineLine } from '../../../lib/simulator/timeline.js';
import { jsonLines, runCli } from '../../support/cli.js';
import { closedPort } from '../../support/http-servers.js';
import { sharedRedisUrl, uniquePrefix } from '../../support/redis.js';
import { stderrLogger } from '../../support/stderr-logger.js';
import { ADMIN, basic } from '../http/dashboard-support.js';
import { APP_NAME, AriSuite, CALLER, apps } from '../ari/harness.js';

const TTL = 3600;
const FAIL_DID = '15551250001';
const OK_DID = '15551250002';

interface CallTrailBody {
  readonly call: TrailSummary;
  readonly events: readonly TimelineLine[];
}

/** The lines without their times (`t`), which differ from run to run. */
function untimed(lines: readonly TimelineLine[]): Record<string, unknown>[] {
  return lines.map(({ t, ...rest }) => {
    expect(t).to.be.a('number').and.at.least(0);
    return rest;
  });
}

describe('call trail: a call on the fake ARI, over HTTP and the CLI', function () {
  this.timeout(30_000);
  const suite = new AriSuite('trail');
  let origin: string;
  let redisUrl: string;
  let failingUrl: string;
  let failingXml: string;

  before(async function () {
    redisUrl = await sharedRedisUrl();
    const { welcome } = await suite.prompts();
    // A 404 is final (a 5xx would be retried until the callback's timeout).
    const server = await suite.server((_req, res) => res.writeHead(404).end());
    failingUrl = `${server.origin}/fail`;
    failingXml = `<Response><Answer/><Play>${welcome}</Play><Callback url="${failingUrl}" timeout="3000"><Error><Say>Sorry</Say></Error></Callback><Hangup/></Response>`;
    await suite.start(
      apps([
        {
          uuid: 'app-trail-fail',
          name: 'Failing callback',
          numbers: [FAIL_DID],
          xml: failingXml,
        },
        { uuid: 'app-trail-ok', name: 'Plain', numbers: [OK_DID], xml: `<Response><Answer/><Hangup/></Response>` },
      ]),
      { trail: { ttlSeconds: TTL }, admin: ADMIN },
    );
    origin = `http://127.0.0.1:${suite.http.port}`;
  });

  after(() => suite.close());

  /** Places a call, waits until it is over and its trail written; gives the channel id. */
  async function callAndWait(did: string): Promise<string> {
    const call = await suite.fake.placeCall({ from: CALLER, did, app: APP_NAME });
    await suite.fake.waitForRequest((r) => r.method === 'DELETE' && r.path === `/ari/channels/${call.id}`, 5000);
    await suite.role.app.whenIdle();
    expect(await suite.engine.trails?.whenWritten(2000)).to.equal(true);
    return call.id;
  }

  async function getJson<T>(path: string): Promise<T> {
    const answer = await fetch(`${origin}${path}`, { headers: basic(ADMIN.username, ADMIN.password), signal: AbortSignal.timeout(5000) });
    expect(answer.status, path).to.equal(200);
    return (await answer.json()) as T;
  }

  async function trailOfChannel(channel: string): Promise<CallTrailBody> {
    const { calls } = await getJson<{ calls: TrailSummary[] }>('/admin/calls?limit=50');
    const summary = calls.find((c) => c.channel === channel);
    expect(summary, `a listed call on channel ${channel}`).not.to.equal(undefined);
    return getJson<CallTrailBody>(`/admin/calls/${summary?.call ?? ''}`);
  }

  it('GET /admin/calls/<uuid>: the DID, caller, app, channel, start and end, the verbs with their paths, the failed callback, the error branch, the hang-up with its cause', async function () {
    const startedAfter = Date.now();
    const channel = await callAndWait(FAIL_DID);
    const { call, events } = await trailOfChannel(channel);

    expect(call).to.include({ did: FAIL_DID, from: CALLER, channel, reason: 'hangup' });
    expect(call.app).to.deep.equal({ uuid: 'app-trail-fail', name: 'Failing callback' });
    expect(call.call).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-/);
    expect(Date.parse(call.start)).to.be.at.least(startedAfter - 1);
    expect(Date.parse(call.end ?? '')).to.be.at.least(Date.parse(call.start));
    expect(call.events).to.equal(events.length);

    const lines = untimed(events);
    const callback = lines.find((line) => line['event'] === 'callback');
    expect(callback).to.include({ path: 'Response/Callback[2]', url: failingUrl, method: 'POST', outcome: 'error', code: 'http_status', status: 404, attempts: 1 });
    expect(callback?.['ms']).to.be.a('number');
    // Paths as `simulate` prints them (0-based positions among the parent's children).
    expect(lines.map(({ ms: _ms, ...line }) => line)).to.deep.equal([
      { event: 'verb', command: 'Answer', path: 'Response/Answer[0]' },
      { event: 'verb', command: 'Play', path: 'Response/Play[1]' },
      { event: 'callback', path: 'Response/Callback[2]', url: failingUrl, method: 'POST', outcome: 'error', code: 'http_status', reason: 'the server answered 404', status: 404, attempts: 1 },
      { event: 'failed', command: 'Callback', path: 'Response/Callback[2]', code: 'http_status', reason: 'the server answered 404' },
      { event: 'error-branch', path: 'Response/Callback[2]/Error[0]', verb: 'Response/Callback[2]', code: 'http_status', reason: 'the server answered 404' },
      { event: 'verb', command: 'Say', path: 'Response/Callback[2]/Error[0]/Say[0]' },
      { event: 'hangup', cause: 'normal_clearing', reason: '<Hangup>', path: 'Response/Hangup[3]' },
      { event: 'verb', command: 'Hangup', path: 'Response/Hangup[3]' },
      { event: 'end', reason: 'hangup', path: 'Response' },
    ]);
    // Every line carries `t`, ms since the call started, in order.
    const times = events.map((line) => line.t);
    expect(times).to.deep.equal([...times].sort((a, b) => a - b));
  });

  it("the engine's lines are those `simulate` prints for the same document (callback, failed verb, error branch, hang-up, end)", async function () {
    const channel = await callAndWait(FAIL_DID);
    const { events } = await trailOfChannel(channel);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'opentact-trail-'));
    try {
      const file = path.join(dir, 'flow.xml');
      await writeFile(file, failingXml);
      // Callbacks in the simulating process (no REDIS_URL), to the same loopback server.
      const simulated = await runCli(['simulate', file], { OUTBOUND_ALLOW: '127.0.0.0/8', REDIS_URL: '' });
      expect(simulated.code, simulated.stderr).to.equal(0);
      const shared = new Set(['callback', 'failed', 'error-branch', 'hangup', 'end']);
      const comparable = (lines: readonly Record<string, unknown>[]): Record<string, unknown>[] =>
        lines.filter((line) => shared.has(String(line['event']))).map(({ t: _t, ms: _ms, ...line }) => line);
      expect(comparable(events)).to.have.length(5);
      expect(comparable(events)).to.deep.equal(comparable(jsonLines(simulated.stdout)));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('every key of the trail expires within CALL_TRAIL_TTL', async function () {
    const channel = await callAndWait(OK_DID);
    const { call } = await trailOfChannel(channel);
    const keys = trailKeys(suite.prefix);
    const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      for (const key of [keys.summary(call.call), keys.events(call.call), keys.calls, keys.did(OK_DID)]) {
        const ttl = await redis.ttl(key);
        expect(ttl, key).to.be.above(0).and.at.most(TTL);
      }
    } finally {
      redis.disconnect();
    }
  });

  it('GET /admin/calls lists calls newest first, filters by did, and from (ISO or epoch ms)', async function () {
    const first = await callAndWait(FAIL_DID);
    const between = Date.now();
    const second = await callAndWait(OK_DID);
    const all = await getJson<{ calls: TrailSummary[] }>('/admin/calls?limit=2');
    expect(all.calls.map((c) => c.channel)).to.deep.equal([second, first]);
    const starts = all.calls.map((c) => Date.parse(c.start));
    expect(starts[0]).to.be.at.least(starts[1] ?? Infinity);

    const failing = await getJson<{ calls: TrailSummary[] }>(`/admin/calls?did=${FAIL_DID}`);
    expect(failing.calls.length).to.be.at.least(2);
    expect(failing.calls.every((c) => c.did === FAIL_DID)).to.equal(true);
    expect(failing.calls[0]?.channel).to.equal(first);

    for (const from of [String(between), new Date(between).toISOString()]) {
      const recent = await getJson<{ calls: TrailSummary[] }>(`/admin/calls?from=${encodeURIComponent(from)}`);
      expect(recent.calls.map((c) => c.channel), from).to.deep.equal([second]);
    }
    const bad = await fetch(`${origin}/admin/calls?from=yesterday`, { headers: basic(ADMIN.username, ADMIN.password), signal: AbortSignal.timeout(5000) });
    expect(bad.status).to.equal(400);
  });

  it('answers 401 with a Basic challenge without credentials or with wrong ones, and 404 for an unknown call', async function () {
    for (const headers of [{}, basic(ADMIN.username, 'wrong')]) {
      for (const path of ['/admin/calls', '/admin/calls/00000000-0000-4000-8000-000000000000']) {
        const answer = await fetch(`${origin}${path}`, { headers, signal: AbortSignal.timeout(5000) });
        expect(answer.status, path).to.equal(401);
        expect(answer.headers.get('www-authenticate'), path).to.match(/^Basic realm=/);
      }
    }
    const unknown = await fetch(`${origin}/admin/calls/00000000-0000-4000-8000-000000000000`, { headers: basic(ADMIN.username, ADMIN.password), signal: AbortSignal.timeout(5000) });
    expect(unknown.status).to.equal(404);
  });

  it('opentact-ari trail UUID prints the same lines, after a `call` line with the summary; exit 2 and one line for an unknown call or an unreachable Redis', async function () {
    const channel = await callAndWait(FAIL_DID);
    const trail = await trailOfChannel(channel);
    const env = { REDIS_URL: redisUrl, QUEUE_PREFIX: suite.prefix };
    const printed = await runCli(['trail', trail.call.call], env);
    expect(printed.stderr).to.equal('');
    expect(printed.code).to.equal(0);
    const [first, ...rest] = jsonLines(printed.stdout);
    expect(first).to.deep.equal({ event: 'call', ...trail.call, t: 0, path: 'Response' });
    expect(rest).to.deep.equal(trail.events);

    const unknown = await runCli(['trail', '00000000-0000-4000-8000-000000000000'], env);
    expect(unknown.code).to.equal(2);
    expect(unknown.stdout).to.equal('');
    expect(unknown.stderr.trim().split('\n')).to.have.length(1);
    expect(unknown.stderr).to.match(/^opentact-ari: no trail for call 00000000-0000-4000-8000-000000000000/);

    const down = await runCli(['trail', trail.call.call], { REDIS_URL: `redis://127.0.0.1:${await closedPort()}`, QUEUE_PREFIX: suite.prefix });
    expect(down.code).to.equal(2);
    expect(down.stdout).to.equal('');
    expect(down.stderr.trim().split('\n')).to.have.length(1);
    expect(down.stderr).to.match(/^opentact-ari: Redis at 127\.0\.0\.1:\d+ is unreachable/);
  });
});

describe('call trail: the writer', function () {
  this.timeout(10_000);

  it('keeps at most maxEvents lines per call, then one line saying how many were dropped', async function () {
    const redisUrl = await sharedRedisUrl();
    const prefix = uniquePrefix('trail-cap');
    const trails = new CallTrails({ connection: redisUrl, prefix, ttlSeconds: 60, maxEvents: 3, log: stderrLogger('error') });
    const reader = new TrailReader({ connection: redisUrl, prefix });
    try {
      const trail = trails.open({ call: 'cap-call', did: '15551250009', from: CALLER, app: { uuid: 'app-cap', name: 'Cap' }, channel: 'chan-cap' });
      for (let i = 1; i <= 10; i += 1) {
        trail.emit({ type: 'verb-start', command: 'Pause', path: `Response/Pause[${i}]` });
        trail.emit({ type: 'verb', command: 'Pause', path: `Response/Pause[${i}]`, success: true });
      }
      trail.end('end-of-document', 'hung up: end of document');
      expect(await trails.whenWritten(2000)).to.equal(true);
      const record = await reader.get('cap-call');
      expect(record?.events.map(({ t: _t, ...line }) => line)).to.deep.equal([
        { event: 'verb', command: 'Pause', path: 'Response/Pause[1]' },
        { event: 'verb', command: 'Pause', path: 'Response/Pause[2]' },
        { event: 'verb', command: 'Pause', path: 'Response/Pause[3]' },
        { event: 'dropped', dropped: 7, reason: 'the trail keeps 3 lines per call', path: 'Response' },
      ]);
      expect(record?.call).to.include({ events: 4, dropped: 7, reason: 'end-of-document', detail: 'hung up: end of document' });
    } finally {
      await trails.close();
      await reader.close();
    }
  });

  it('never throws nor waits while Redis is unreachable: the backlog stays within its bound, one warning per outage, and close() returns in time', async function () {
    const log = stderrLogger('silent');
    const trails = new CallTrails({ connection: `redis://127.0.0.1:${await closedPort()}`, prefix: uniquePrefix('trail-down'), ttlSeconds: 60, maxBacklog: 40, log });
    for (let call = 0; call < 20; call += 1) {
      const trail = trails.open({ call: `down-${call}`, did: '15551250010', from: CALLER, app: { uuid: 'app-down', name: 'Down' }, channel: `chan-${call}` });
      trail.emit({ type: 'verb-start', command: 'Answer', path: 'Response/Answer[1]' });
      trail.emit({ type: 'verb', command: 'Answer', path: 'Response/Answer[1]', success: true });
      trail.end('end-of-document');
      expect(trails.backlog).to.be.at.most(40);
    }
    expect(trails.backlog).to.equal(40);
    const started = Date.now();
    await trails.close(300);
    expect(Date.now() - started).to.be.below(1500);
    const warnings = log.entries.filter((e) => e.msg?.startsWith('call trail:') && e.level === 'warn').map((e) => e.msg);
    expect(warnings.filter((m) => m?.includes('backlog full'))).to.have.length(1);
    expect(warnings.filter((m) => m?.includes('unreachable')).length).to.be.at.most(1);
  });
});
