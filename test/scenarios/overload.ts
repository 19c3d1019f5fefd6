// Admission control end to end, written once against the phone line and run on both the
// fake ARI (test/integration/e2e/overload.test.ts) and a real Asterisk 22
// (test/asterisk/overload.test.ts): with MAX_CALLS=1, a second call arriving while the first
// is in progress is hung up before it is answered, with cause 42 (SIP 503 on a trunk, so
// the carrier fails over), and the first call is served to its end.
import type http from 'node:http';
import { expect } from 'chai';
import { NO_ADMISSION_LIMITS, parseApps } from '../../lib/config/index.js';
import { Metrics } from '../../lib/metrics/index.js';
import { Engine } from '../support/engine.js';
import { startServer, type ScriptedServer } from '../support/http-servers.js';
import type { PhoneLine } from '../support/phone-line/phone-line.js';
import { uniquePrefix } from '../support/redis.js';
import { stderrLogger, type TestLogger } from '../support/stderr-logger.js';
import { pcmWav, tone } from '../support/wav.js';

/** The application name the shipped dialplan sends calls to. */
const APP = 'opentact';
const DID = '15551290001';

export function overloadScenarios(startLine: () => Promise<PhoneLine>): void {
  describe('admission control: MAX_CALLS=1', function () {
    this.timeout(30_000);
    const logger: TestLogger = stderrLogger('error');
    const metrics = new Metrics();
    const closers: (() => Promise<void>)[] = [];
    /** The customer's answers to the callbacks, held until the test releases them. */
    const held: http.ServerResponse[] = [];
    let line: PhoneLine;
    let engine: Engine;
    let callbacks: ScriptedServer;
    let next = '';

    before(async function () {
      line = await startLine();
      closers.push(() => line.close());
      const files = new Map([
        ['/welcome.wav', pcmWav(tone(400, 440), 8000)],
        ['/next.wav', pcmWav(tone(400, 550), 8000)],
      ]);
      const media = await startServer((req, res) => {
        const body = files.get(req.url ?? '');
        if (!body) return res.writeHead(404).end();
        return res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': String(body.length) }).end(body);
      });
      closers.push(() => media.close());
      next = `${media.origin}/next.wav`;
      callbacks = await startServer((_req, res) => void held.push(res));
      closers.push(() => callbacks.close());
      const welcome = `${media.origin}/welcome.wav`;
      engine = await Engine.start({
        ari: line.ari,
        app: APP,
        apps: parseApps(
          { apps: [{ uuid: 'app-overload', name: 'Overload', numbers: [DID], xml: `<Response><Play>${welcome}</Play><Callback url="${callbacks.origin}/next" timeout="20000"/></Response>` }] },
          'overload-apps.yaml',
          { maxBytes: 256 * 1024, env: process.env },
        ),
        prefix: uniquePrefix(`overload-${line.kind}`),
        logger,
        prompts: { [welcome]: 'welcome.wav', [next]: 'next.wav' },
        metrics,
        admission: { settings: { ...NO_ADMISSION_LIMITS, maxCalls: 1 } },
      });
      closers.push(() => engine.close());
    });

    after(async function () {
      for (const res of held.splice(0)) if (!res.writableEnded) res.writeHead(500).end();
      for (const close of closers.splice(0).reverse()) await close();
    });

    it('refuses a second call before answering it, with cause 42, and serves the first to its end', async function () {
      const first = await line.call({ did: DID, app: APP });
      await first.answered();
      // The first call is in progress: its callback is waiting for the customer's answer.
      await callbacks.waitForRequests(1);

      const second = await line.call({ did: DID, app: APP });
      expect((await second.ended()).cause).to.equal(42);
      expect(second.heard()).to.deep.equal([]);
      expect(second.trace()).to.not.include('ChannelStateChange Up');

      for (const res of held.splice(0)) res.writeHead(200, { 'content-type': 'application/xml' }).end(`<Response><Play>${next}</Play><Hangup/></Response>`);
      expect((await first.ended()).cause).to.equal(16);
      expect(first.heard().map((h) => `${engine.label(h.media)} ${h.state}`)).to.deep.equal(['welcome.wav done', 'next.wav done']);

      // What the operator sees: the refusal counted by reason, and one line naming the channel.
      const { values } = await metrics.callsRefused.get();
      expect(values.map((v) => ({ reason: v.labels['reason'], value: v.value }))).to.deep.equal([{ reason: 'overload_calls', value: 1 }]);
      const lines = logger.entries.filter((e) => e.msg?.startsWith('overload: new calls refused'));
      expect(lines.map((e) => e.obj)).to.have.length(1);
      expect(lines[0]?.obj).to.deep.include({ refused: 1, channels: [second.channelId], cause: 42 });

      await engine.role.app.whenIdle();
      expect(await line.leftovers()).to.deep.equal({ channels: [], bridges: [] });
    });
  });
}
