// `opentact-ari start` with MAX_CALLS=1 as a child process on the fake ARI: the setting
// reaches the stasis role, a second call is refused with cause 42 without being answered,
// and the operator sees the limits at start-up, one JSON line for the refusal, the count in
// /metrics and the reason in /ready (which stays ready).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { JsonLog, stopChild } from '../../support/child-log.js';
import { FakeAri } from '../../support/fake-ari/index.js';
import { closedPort } from '../../support/http-servers.js';
import { sharedRedisUrl, uniquePrefix } from '../../support/redis.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const APP = 'opentact-admission';
const DID = '15551300001';

describe('ARI: admission control through `start` (child process)', function () {
  this.timeout(30_000);
  let fake: FakeAri;
  let dir: string;
  let child: ChildProcess | undefined;

  before(async function () {
    dir = await mkdtemp(path.join(os.tmpdir(), 'opentact-admission-'));
    fake = await FakeAri.start();
  });

  after(async function () {
    await stopChild(child);
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('MAX_CALLS=1: the second call is hung up unanswered with cause 42; one JSON log line names it, /metrics counts it, /ready stays 200 and says why', async function () {
    const appsFile = path.join(dir, 'apps.yaml');
    await writeFile(
      appsFile,
      ['apps:', '  - uuid: app-admission', '    name: Admission', `    numbers: ["${DID}"]`, '    xml: <Response><Pause length="20000"/><Hangup/></Response>', ''].join('\n'),
    );
    const httpPort = await closedPort();
    child = spawn(process.execPath, ['--import', 'tsx', 'app/cli.ts', 'start'], {
      cwd: ROOT,
      env: {
        ...process.env,
        REDIS_URL: await sharedRedisUrl(),
        QUEUE_PREFIX: uniquePrefix('admission'),
        ARI_URL: fake.url,
        ARI_USERNAME: fake.username,
        ARI_PASSWORD: fake.password,
        ARI_APP: APP,
        APPS_FILE: appsFile,
        HTTP_PORT: String(httpPort),
        PUBLIC_BASE_URL: `http://127.0.0.1:${httpPort}`,
        MEDIA_CACHE_DIR: path.join(dir, 'media'),
        SHUTDOWN_GRACE_MS: '500',
        MAX_CALLS: '1',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const log = new JsonLog(child.stderr);
    await log.waitFor((l) => l.msg === 'ARI connected', 10_000, '"ARI connected" in the log');
    const limits = await log.waitFor((l) => l.msg?.startsWith('admission control:') === true, 1000, 'the admission control line');
    expect(limits).to.deep.include({ maxCalls: 1, maxCallsPerSecond: 0, overloadLagMs: 300, overloadAriRequests: 500 });

    const first = await fake.placeCall({ from: '15550001111', did: DID, app: APP });
    await fake.waitForRequest((r) => r.path === `/ari/channels/${first.id}/answer`, 5000);
    const second = await fake.placeCall({ from: '15550001111', did: DID, app: APP });
    const refused = await fake.waitForRequest((r) => r.method === 'DELETE' && r.path === `/ari/channels/${second.id}`, 5000);
    expect(refused.query['reason_code']).to.equal('42');
    expect(fake.requests.filter((r) => r.path.startsWith(`/ari/channels/${second.id}`)).map((r) => r.method)).to.deep.equal(['DELETE']);

    const line = await log.waitFor((l) => l.msg?.startsWith('overload: new calls refused') === true, 5000, 'the refusal line');
    expect(line).to.deep.include({ level: 40, refused: 1, reasons: { overload_calls: 1 }, channels: [second.id], cause: 42, calls: 1, role: 'stasis' });
    const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    expect(metrics).to.include('opentact_calls_refused_total{reason="overload_calls"} 1\n');
    expect(metrics).to.match(/^opentact_ari_requests_in_flight \d+$/m);
    expect(metrics).to.match(/^opentact_overload_event_loop_lag_seconds [\d.e-]+$/m);
    const ready = await fetch(`http://127.0.0.1:${httpPort}/ready`);
    expect(ready.status).to.equal(200);
    expect(await ready.json()).to.deep.include({ ready: true, calls: 1, overload: ['overload_calls'] });

    // The first call goes on until its caller leaves; then a new call is taken.
    await fake.callerHangup(first.id);
    await log.waitFor((l) => l.msg === 'call ended' && l['channel'] === first.id, 5000, 'the end of the first call');
    const third = await fake.placeCall({ from: '15550001111', did: DID, app: APP });
    await fake.waitForRequest((r) => r.path === `/ari/channels/${third.id}/answer`, 5000);

    await stopChild(child);
    // One JSON object per line, and a single refusal line for the single refusal.
    for (const text of log.text) expect(() => JSON.parse(text) as unknown, text).to.not.throw();
    expect(log.lines.filter((l) => l.msg?.startsWith('overload:'))).to.have.length(1);
  });
});
