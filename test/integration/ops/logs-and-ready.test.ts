// Issue 11, "Logs" and "Readiness and Redis": `opentact-ari start` as a child process with
// every secret set runs calls whose callbacks fail (so their URLs, with a ?token=, reach the
// log); the whole of stdout and stderr holds none of the secrets, every line is one JSON
// object, every line about a call carries call/app/channel/did, every verb line its path.
// /ready says 200 with every check "ok", then 503 naming the check that fails when Redis
// is paused, stopped, and when the fake ARI is gone.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { JsonLog, stopChild, type JsonLine } from '../../support/child-log.js';
import { FakeAri } from '../../support/fake-ari/index.js';
import { closedPort, startServer, type ScriptedServer } from '../../support/http-servers.js';
import { RestartableRedis } from '../../support/restartable-redis.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const APP = 'opentact-ops-logs';
const SECRETS = {
  ari: 'ari-pass-Zq81x',
  signing: 'sign-secret-Hw27Lk',
  appSecret: 'app-secret-Pq93Vn',
  google: 'AIzaGoogleKey-Tt55Rr',
  admin: 'admin-pass-Yy66Uu',
  token: 'cb-token-Mm44Nn',
};

interface ReadyBody {
  readonly ready: boolean;
  readonly checks: Record<string, string>;
}

async function ready(base: string): Promise<{ status: number; body: ReadyBody }> {
  const response = await fetch(`${base}/ready`, { signal: AbortSignal.timeout(5000) });
  return { status: response.status, body: (await response.json()) as ReadyBody };
}

/** Asks /ready until `test` holds (bounded), each answer within 5 s. */
async function readyUntil(base: string, test: (r: { status: number; body: ReadyBody }) => boolean, ms: number): Promise<{ status: number; body: ReadyBody }> {
  const until = Date.now() + ms;
  let last = await ready(base);
  while (!test(last)) {
    if (Date.now() > until) throw new Error(`/ready never matched within ${ms} ms; last: ${last.status} ${JSON.stringify(last.body)}`);
    await new Promise<void>((resolve) => setImmediate(resolve));
    last = await ready(base);
  }
  return last;
}

describe('operations: logs carry the call and no secret; /ready names the failing check (child process)', function () {
  this.timeout(60_000);
  let fake: FakeAri;
  let server: ScriptedServer;
  let redis: RestartableRedis;
  let dir: string;
  let child: ChildProcess | undefined;

  before(async function () {
    dir = await mkdtemp(path.join(os.tmpdir(), 'opentact-ops-logs-'));
    // Every callback fails with 500: the engine logs its URL (with its ?token=) and goes on to the end of the document.
    server = await startServer((_req, res) => res.writeHead(500, { 'content-type': 'text/plain' }).end('no'));
    fake = await FakeAri.start({ password: SECRETS.ari });
    redis = await RestartableRedis.create();
    await redis.start();
  });

  after(async function () {
    await stopChild(child, 3000);
    await fake.close().catch(() => undefined);
    await server.close();
    await redis.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs calls with every secret set: no secret in stdout or stderr, call lines carry call/app/channel/did, verb lines their path; /ready 200 then 503 naming redis and ari', async function () {
    const appsFile = path.join(dir, 'apps.yaml');
    const callback = `${server.origin}/next?token=${SECRETS.token}&amp;call=x`;
    const flow = `<Response><Callback url="${callback}"/></Response>`;
    await writeFile(
      appsFile,
      [
        'apps:',
        '  - uuid: app-ops-a',
        '    name: OpsA',
        '    numbers: ["15551290001"]',
        `    xml: '${flow}'`,
        '  - uuid: app-ops-b',
        '    name: OpsB',
        '    numbers: ["15551290002"]',
        `    secret: ${SECRETS.appSecret}`,
        `    xml: '${flow}'`,
        '',
      ].join('\n'),
    );
    const httpPort = await closedPort();
    const base = `http://127.0.0.1:${httpPort}`;
    child = spawn(process.execPath, ['--import', 'tsx', 'app/cli.ts', 'start'], {
      cwd: ROOT,
      env: {
        ...process.env,
        REDIS_URL: redis.url,
        QUEUE_PREFIX: 'ops-logs',
        ARI_URL: fake.url,
        ARI_USERNAME: fake.username,
        ARI_PASSWORD: SECRETS.ari,
        ARI_APP: APP,
        APPS_FILE: appsFile,
        SIGNING_SECRETS: `app-ops-a=${SECRETS.signing}`,
        TTS_ENGINE: 'espeak',
        GOOGLE_TTS_API_KEY: SECRETS.google,
        ADMIN_USERNAME: 'operator',
        ADMIN_PASSWORD: SECRETS.admin,
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: String(httpPort),
        PUBLIC_BASE_URL: base,
        MEDIA_CACHE_DIR: path.join(dir, 'media'),
        SHUTDOWN_GRACE_MS: '1000',
        OUTBOUND_ALLOW: '127.0.0.0/8',
        LOG_LEVEL: 'debug',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = new JsonLog(child.stdout);
    const log = new JsonLog(child.stderr);
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    await log.waitFor((l) => l.msg === 'ARI connected', 15_000, '"ARI connected"');

    const healthy = await readyUntil(base, (r) => r.status === 200, 10_000);
    expect(healthy.body.checks).to.deep.equal({ ari: 'ok', stasis: 'ok', worker: 'ok', redis: 'ok' });

    const calls = [
      await fake.placeCall({ from: '15550001111', did: '15551290001', app: APP }),
      await fake.placeCall({ from: '15550002222', did: '15551290002', app: APP }),
    ];
    for (const call of calls) await fake.waitForRequest((r) => r.method === 'DELETE' && r.path === `/ari/channels/${call.id}`, 15_000);
    await log.waitFor((l) => l.msg === 'call ended' && l['did'] === '15551290002', 10_000, 'the second "call ended"');
    await log.waitFor((l) => l.msg === 'call ended' && l['did'] === '15551290001', 10_000, 'the first "call ended"');

    // Paused: connected, but no answer to PING.
    redis.pause();
    const paused = await readyUntil(base, (r) => r.status === 503, 10_000);
    expect(paused.body.ready).to.equal(false);
    expect(paused.body.checks['redis']).to.equal('no answer within 1000 ms');
    redis.resume();
    await readyUntil(base, (r) => r.status === 200, 10_000);

    // Stopped Redis and no ARI: both named.
    await redis.stop();
    await fake.close();
    const down = await readyUntil(base, (r) => r.status === 503 && r.body.checks['ari'] !== 'ok' && r.body.checks['redis'] !== 'ok', 15_000);
    expect(down.body.checks['redis']).to.match(/^(unreachable|not connected)/);
    expect(down.body.checks['ari']).to.be.a('string').and.not.equal('ok');

    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).to.equal(0);

    // Nothing but JSON objects, and no secret anywhere.
    const all = [...out.text, ...log.text].join('\n');
    expect(out.lines.concat(log.lines).filter((l) => typeof l !== 'object' || !('level' in l))).to.deep.equal([]);
    for (const [name, secret] of Object.entries(SECRETS)) expect(all, `the ${name} secret`).not.to.include(secret);
    // The failing callback's URL was logged (scrubbed), so the test did look at a URL.
    expect(all).to.include('token=[redacted]');

    const callLines = log.lines.filter((l) => typeof l['call'] === 'string' && l['jobId'] === undefined);
    expect(callLines.length).to.be.greaterThan(6);
    const missing = callLines.filter((l: JsonLine) => ['app', 'channel', 'did'].some((key) => typeof l[key] !== 'string'));
    expect(missing, 'call lines without app/channel/did').to.deep.equal([]);
    const callIds = new Set(callLines.map((l) => l['call']));
    expect(callIds.size).to.equal(2);
    // A verb's own line (its failure, with no error branch) carries its path.
    const verbLines = callLines.filter((l) => l.msg === '<Callback> failed; no error branch, going on');
    expect(verbLines.length).to.equal(2);
    for (const line of verbLines) expect(line['path'], JSON.stringify(line)).to.equal('Response/Callback[0]');
  });
});
