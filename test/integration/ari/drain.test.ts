// `opentact-ari start` as a child process: every role in one process, /health and /ready,
// and the drain on SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { UrlPolicy } from '../../../lib/callback/url-policy.js';
import { httpLocator, MediaStore, NO_RECORDINGS, REMOTE_AUDIO_DEFAULTS, RemoteAudio } from '../../../lib/media/index.js';
import { JsonLog } from '../../support/child-log.js';
import { FakeAri, type RecordedAriRequest } from '../../support/fake-ari/index.js';
import { closedPort, startServer, type ScriptedServer } from '../../support/http-servers.js';
import { sharedRedisUrl, uniquePrefix } from '../../support/redis.js';
import { silentLogger } from '../../support/silent-logger.js';
import { pcmWav, tone } from '../../support/wav.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const APP = 'opentact-drain';
const GRACE_MS = 700;

/** The customer's prompts: two distinct tones. */
const PROMPTS: Record<string, Buffer> = { '/short.wav': pcmWav(tone(300, 440), 8000), '/long.wav': pcmWav(tone(300, 660), 8000) };

/**
 * The id the engine stores a remote prompt under: its content, converted. Found with the
 * same parts in this process (the child's store is named the same way), so the fake can
 * tell the long prompt from the short one in `sound:<PUBLIC_BASE_URL>/media/<id>.wav`.
 */
async function storedId(url: string, dir: string): Promise<string> {
  const store = await MediaStore.open({ dir, maxBytes: 1024 * 1024, log: silentLogger });
  const audio = new RemoteAudio({ ...REMOTE_AUDIO_DEFAULTS, store, locator: httpLocator('http://id.invalid'), policy: new UrlPolicy('127.0.0.0/8'), recordings: NO_RECORDINGS, log: silentLogger });
  const ref = await audio.fromUrl(url, new AbortController().signal);
  const id = ref.kind === 'sound' ? /\/media\/([0-9a-f]{64})\.wav$/.exec(ref.uri)?.[1] : undefined;
  if (id === undefined) throw new Error(`no media id in ${JSON.stringify(ref)}`);
  return id;
}

describe('ARI: start and drain (child process)', function () {
  this.timeout(30_000);
  let fake: FakeAri;
  let media: ScriptedServer;
  let dir: string;
  let child: ChildProcess | undefined;

  before(async function () {
    dir = await mkdtemp(path.join(os.tmpdir(), 'opentact-drain-'));
    media = await startServer((req, res) => {
      const body = PROMPTS[req.url ?? ''];
      if (!body) return res.writeHead(404).end();
      return res.writeHead(200, { 'content-type': 'audio/wav' }).end(body);
    });
    const longId = await storedId(`${media.origin}/long.wav`, path.join(dir, 'ids'));
    // Asterisk fetches the engine's /media URLs itself: so does the fake.
    fake = await FakeAri.start({ fetchHttpMedia: true, playbackMs: (uri) => (uri.includes(longId) ? Infinity : 400) });
  });

  after(async function () {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await fake.close();
    await media.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('without saved call state (CALL_STATE_TTL=0): serves /health and /ready, lets a short call finish, refuses new calls, hangs up the rest at the grace deadline, exits 0', async function () {
    const appsFile = path.join(dir, 'apps.yaml');
    await writeFile(
      appsFile,
      [
        'apps:',
        '  - uuid: app-short',
        '    name: Short',
        '    numbers: ["15551270001"]',
        `    xml: <Response><Play>${media.origin}/short.wav</Play><Hangup/></Response>`,
        '  - uuid: app-long',
        '    name: Long',
        '    numbers: ["15551270002"]',
        `    xml: <Response><Play>${media.origin}/long.wav</Play><Hangup/></Response>`,
        '',
      ].join('\n'),
    );
    const httpPort = await closedPort();
    child = spawn(process.execPath, ['--import', 'tsx', 'app/cli.ts', 'start'], {
      cwd: ROOT,
      env: {
        ...process.env,
        REDIS_URL: await sharedRedisUrl(),
        QUEUE_PREFIX: uniquePrefix('drain'),
        ARI_URL: fake.url,
        ARI_USERNAME: fake.username,
        ARI_PASSWORD: fake.password,
        ARI_APP: APP,
        APPS_FILE: appsFile,
        HTTP_PORT: String(httpPort),
        PUBLIC_BASE_URL: `http://127.0.0.1:${httpPort}`,
        MEDIA_CACHE_DIR: path.join(dir, 'media'),
        SHUTDOWN_GRACE_MS: String(GRACE_MS),
        CALL_STATE_TTL: '0',
        OUTBOUND_ALLOW: '127.0.0.0/8',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const log = new JsonLog(child.stderr);
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    const listening = await log.waitFor((l) => l.msg === 'http role listening', 10_000, '"http role listening" in the log');
    const base = `http://127.0.0.1:${String(listening.port)}`;
    await log.waitFor((l) => l.msg === 'ARI connected', 10_000, '"ARI connected" in the log');

    expect((await fetch(`${base}/health`)).status).to.equal(200);
    const ready = await fetch(`${base}/ready`);
    expect(ready.status).to.equal(200);
    expect(await ready.json()).to.include({ ready: true, ari: 'connected', draining: false });

    const short = await fake.placeCall({ from: '15550001111', did: '15551270001', app: APP });
    const long = await fake.placeCall({ from: '15550001111', did: '15551270002', app: APP });
    const plays: RecordedAriRequest[] = [];
    for (const call of [short, long]) plays.push(await fake.waitForRequest((r) => r.path === `/ari/channels/${call.id}/play`, 5000));
    const urls = plays.map((play) => String(play.query['media']).slice('sound:'.length));
    for (const url of urls) expect(url).to.match(new RegExp(`^${base}/media/[0-9a-f]{64}\\.wav$`));

    const signalled = Date.now();
    child.kill('SIGTERM');
    await log.waitFor((l) => l.msg === 'draining: letting calls in progress finish', 10_000, '"draining: letting calls in progress finish" in the log');
    const draining = await fetch(`${base}/ready`);
    expect(draining.status).to.equal(503);
    expect(await draining.json()).to.include({ ready: false, draining: true });

    const late = await fake.placeCall({ from: '15550001111', did: '15551270001', app: APP });
    const refused = await fake.waitForRequest((r) => r.method === 'DELETE' && r.path === `/ari/channels/${late.id}`, 5000);
    expect(refused.query['reason_code']).to.equal('34');

    const shortEnd = await fake.waitForRequest((r) => r.method === 'DELETE' && r.path === `/ari/channels/${short.id}`, 5000);
    expect(shortEnd.query['reason_code']).to.equal('16');
    const longEnd = await fake.waitForRequest((r) => r.method === 'DELETE' && r.path === `/ari/channels/${long.id}`, 5000);
    expect(longEnd.query['reason_code']).to.equal('41');
    expect(longEnd.time - signalled).to.be.at.least(GRACE_MS - 50);

    const [code, signal] = await exited;
    expect({ code, signal }).to.deep.equal({ code: 0, signal: null });
    expect(log.lines.some((l) => l.msg === 'stopped')).to.equal(true);
    // Both prompts were fetched from the child's http role, as Asterisk would fetch them.
    expect(fake.mediaFetches).to.have.deep.members(urls.map((url) => ({ url, status: 200 })));
  });
});
