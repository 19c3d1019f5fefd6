import { readdir } from 'node:fs/promises';
import { expect } from 'chai';
import { APP_NAME, AriSuite, CALLER, PROMPTS, apps, xml } from './harness.js';

const HTTP_MEDIA = /^sound:http:\/\/127\.0\.0\.1:\d+\/media\/[0-9a-f]{64}\.wav$/;

describe('ARI: an inbound call runs its flow', function () {
  const suite = new AriSuite('flow');

  before(async function () {
    const { welcome, next, sorry } = await suite.prompts();
    const server = await suite.server((req, res) => {
      if (req.url?.startsWith('/fail')) return res.writeHead(500).end();
      return xml(res, `<Response><Play>${next}</Play><Hangup/></Response>`);
    });
    await suite.start(
      apps([
        {
          uuid: 'app-flow',
          name: 'Flow',
          numbers: ['15551230001'],
          xml: `<Response><Answer/><Say>Hello</Say><Callback url="${server.origin}/next" timeout="3000"/></Response>`,
        },
        {
          uuid: 'app-fail',
          name: 'Failing callback',
          numbers: ['+15551230002'],
          xml: `<Response><Answer/><Play>${welcome}</Play><Callback url="${server.origin}/fail" timeout="500"><Error><Play>${sorry}</Play></Error></Callback></Response>`,
        },
      ]),
    );
  });

  after(() => suite.close());

  it('answers, says (espeak-ng), fetches the next document through the queue, plays it and hangs up with cause 16', async function () {
    const call = await suite.fake.placeCall({ from: CALLER, did: '15551230001', app: APP_NAME });
    await suite.fake.waitForRequest((r) => r.method === 'DELETE' && r.path === `/ari/channels/${call.id}`, 5000);
    await suite.role.app.whenIdle();
    expect(suite.describe(call.id)).to.deep.equal(['POST answer', 'POST play say:Hello', 'POST play next.wav', 'DELETE 16']);

    // What Asterisk was given: URLs of the http role, fetched like its media cache does.
    const played = suite.playedMedia(call.id);
    expect(played[0]).to.equal(suite.sayUri('Hello'));
    for (const uri of played) {
      expect(uri).to.match(HTTP_MEDIA);
      expect(suite.fake.mediaFetches).to.deep.include({ url: uri.slice('sound:'.length), status: 200 });
      const served = await suite.fetchAsAsterisk(uri);
      expect({ status: served.status, type: served.contentType }).to.deep.equal({ status: 200, type: 'audio/wav' });
    }
  });

  it('runs the Callback error branch when the callback fails, then hangs up', async function () {
    const call = await suite.fake.placeCall({ from: CALLER, did: '15551230002', app: APP_NAME });
    await suite.fake.waitForRequest((r) => r.method === 'DELETE' && r.path === `/ari/channels/${call.id}`, 5000);
    await suite.role.app.whenIdle();
    expect(suite.describe(call.id)).to.deep.equal(['POST answer', 'POST play welcome.wav', 'POST play sorry.wav', 'DELETE 16']);
  });
});

describe('ARI: a <Say> the engine cannot render in time', function () {
  // TTS_RENDER_TIMEOUT_MS far below what espeak-ng and sox need (two processes to start,
  // tens of milliseconds on any machine): every rendering is stopped at its limit.
  const suite = new AriSuite('say-timeout');

  before(async function () {
    const { sorry } = await suite.prompts();
    await suite.start(
      apps([
        {
          uuid: 'app-say',
          name: 'Say',
          numbers: ['15551230003'],
          xml: `<Response><Say>Hello</Say><Error tag="tts"><Play>${sorry}</Play></Error><Hangup/></Response>`,
        },
      ]),
      { renderTimeoutMs: 1 },
    );
  });

  after(() => suite.close());

  it('fails <Say> with the time limit as its reason, runs its error branch and leaves no file', async function () {
    const call = await suite.fake.placeCall({ from: CALLER, did: '15551230003', app: APP_NAME });
    await suite.fake.waitForRequest((r) => r.method === 'DELETE' && r.path === `/ari/channels/${call.id}`, 5000);
    await suite.role.app.whenIdle();
    // Answered for the Say (a media verb), which fails before anything plays.
    expect(suite.describe(call.id)).to.deep.equal(['POST answer', 'POST play sorry.wav', 'DELETE 16']);
    const failed = suite.logger.entries.find((e) => e.msg?.startsWith('speech failed'));
    expect(failed?.msg).to.equal('speech failed: speech took longer than 1 ms');
    // The store holds the converted prompts only: nothing of the speech, not even a temporary file.
    const files = await readdir(suite.store.dir);
    expect(files.map((name) => suite.labels.get(`sound:http://127.0.0.1:${suite.http.port}/media/${name}`))).to.have.members(
      Object.keys(PROMPTS).map((name) => `${name}.wav`),
    );
  });
});
