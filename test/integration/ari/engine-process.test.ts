// test/support/engine-process.ts: the engine in a child process, against the fake ARI,
// killed with SIGKILL mid-call, or stopped with SIGTERM (the drain hangs the call up).
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { startEngineProcess, type EngineProcess, type EngineProcessOptions } from '../../support/engine-process.js';
import { FakeAri } from '../../support/fake-ari/index.js';
import { freeTcpPort } from '../../support/ports.js';
import { uniquePrefix } from '../../support/redis.js';
import { APP_NAME, CALLER } from './harness.js';

const DID = '15551239001';
const APPS_YAML = `
apps:
  - uuid: app-engine-process
    name: Engine process
    numbers: ['${DID}']
    xml: '<Response><Say>Hello from a child</Say></Response>'
`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('ARI: the engine in a child process', function () {
  this.timeout(30_000);
  let fake: FakeAri;
  let engine: EngineProcess | undefined;

  before(async function () {
    // Every playback lasts until stopped: the call is still in progress when the engine goes.
    fake = await FakeAri.start({ fetchHttpMedia: true, playbackMs: () => Infinity });
  });

  afterEach(async function () {
    if (engine !== undefined && !engine.ended) {
      if (this.currentTest?.state === 'failed') process.stderr.write(`${engine.describe()}\n`);
      await engine.kill();
    }
    engine = undefined;
  });

  after(async function () {
    await fake?.close();
  });

  async function start(more: Partial<EngineProcessOptions> = {}): Promise<EngineProcess> {
    engine = await startEngineProcess({
      ari: { url: fake.url, username: fake.username, password: fake.password },
      app: APP_NAME,
      appsYaml: APPS_YAML,
      prefix: uniquePrefix('engine-process'),
      shutdownGraceMs: 300,
      ...more,
    });
    await fake.waitForApplication(APP_NAME, 5000);
    return engine;
  }

  it('plays the Say of a call, and once killed with SIGKILL is gone, its call left in Stasis', async function () {
    const child = await start();
    expect(child.pid).to.not.equal(process.pid);
    expect(child.httpOrigin).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
    const call = await fake.placeCall({ from: CALLER, did: DID, app: APP_NAME });
    const play = await fake.waitForRequest((r) => r.method === 'POST' && r.path === `/ari/channels/${call.id}/play`, 10_000);
    expect(child.label(play.query['media'] ?? '')).to.equal('say:Hello from a child');
    await fake.waitForEvent((e) => e.type === 'PlaybackStarted' && e.playback?.target_uri === `channel:${call.id}`, 5000);

    expect(await child.kill('SIGKILL')).to.equal('SIGKILL');
    expect(child.ended).to.equal(true);
    expect(alive(child.pid)).to.equal(false);
    // Its own temporary media directory, which it had no time to remove, is removed for it.
    expect(await access(child.mediaDir).then(() => 'there', () => 'gone')).to.equal('gone');
    // The fake sees the WebSocket go; the call stays in Stasis, nobody hung it up.
    const deadline = Date.now() + 5000;
    while (fake.applications().includes(APP_NAME) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fake.applications()).to.not.include(APP_NAME);
    expect(fake.channel(call.id)?.inStasis).to.equal(true);
    expect(fake.requests.filter((r) => r.method === 'DELETE' && r.path === `/ari/channels/${call.id}`)).to.deep.equal([]);
    await fake.callerHangup(call.id);
  });

  it('stops gracefully on SIGTERM: the call in progress is hung up after the grace, the process exits 0', async function () {
    const child = await start();
    const labels = await child.labelSays(['Said later']);
    expect([...labels.values()]).to.include.members(['say:Hello from a child', 'say:Said later']);
    expect((await child.status()).calls).to.equal(0);
    const call = await fake.placeCall({ from: CALLER, did: DID, app: APP_NAME });
    await fake.waitForRequest((r) => r.method === 'POST' && r.path === `/ari/channels/${call.id}/play`, 10_000);
    expect((await child.status()).calls).to.equal(1);

    expect(await child.terminate()).to.equal(0);
    expect(fake.requests.some((r) => r.method === 'DELETE' && r.path === `/ari/channels/${call.id}`)).to.equal(true);
    expect(fake.channel(call.id)?.destroyed).to.equal(true);
    expect(child.log.lines.some((line) => line.msg === 'engine child stopping' && line['reason'] === 'SIGTERM')).to.equal(true);
  });

  it('started again on the same http port and media directory, serves the media URLs of the one killed', async function () {
    const mediaDir = await mkdtemp(join(tmpdir(), 'opentact-engine-process-'));
    try {
      const httpPort = await freeTcpPort();
      const first = await start({ httpPort, mediaDir });
      const call = await fake.placeCall({ from: CALLER, did: DID, app: APP_NAME });
      const play = await fake.waitForRequest((r) => r.method === 'POST' && r.path === `/ari/channels/${call.id}/play`, 10_000);
      const url = (play.query['media'] ?? '').slice('sound:'.length);
      expect(url.startsWith(`${first.httpOrigin}/media/`)).to.equal(true);
      await first.kill();
      expect(await fetch(url).then((r) => r.status, () => 'refused')).to.equal('refused');

      const second = await start({ httpPort, mediaDir });
      expect(second.httpOrigin).to.equal(first.httpOrigin);
      const served = await fetch(url, { signal: AbortSignal.timeout(3000) });
      expect({ status: served.status, type: served.headers.get('content-type') }).to.deep.equal({ status: 200, type: 'audio/wav' });
      await fake.callerHangup(call.id);
    } finally {
      if (engine !== undefined && !engine.ended) await engine.kill();
      await rm(mediaDir, { recursive: true, force: true });
    }
  });
});
