import { expect } from 'chai';
import { APP_NAME, AriSuite, CALLER, NEXT, SORRY, WELCOME, apps, describeRequests, xml } from './harness.js';

describe('ARI: an inbound call runs its flow', function () {
  const suite = new AriSuite('flow');
  let callbackUrl = '';
  let failingUrl = '';

  before(async function () {
    const server = await suite.server((req, res) => {
      if (req.url?.startsWith('/fail')) return res.writeHead(500).end();
      return xml(res, `<Response><Play>${NEXT}</Play><Hangup/></Response>`);
    });
    callbackUrl = `${server.origin}/next`;
    failingUrl = `${server.origin}/fail`;
    await suite.start(
      apps([
        {
          uuid: 'app-flow',
          name: 'Flow',
          numbers: ['15551230001'],
          xml: `<Response><Answer/><Play>${WELCOME}</Play><Callback url="${callbackUrl}" timeout="3000"/></Response>`,
        },
        {
          uuid: 'app-fail',
          name: 'Failing callback',
          numbers: ['+15551230002'],
          xml: `<Response><Answer/><Play>${WELCOME}</Play><Callback url="${failingUrl}" timeout="500"><Error><Play>${SORRY}</Play></Error></Callback></Response>`,
        },
        {
          uuid: 'app-say',
          name: 'Say',
          numbers: ['15551230003'],
          xml: `<Response><Say>Hello</Say><Error tag="no-tts"><Play>${SORRY}</Play></Error><Hangup/></Response>`,
        },
      ]),
    );
  });

  after(() => suite.close());

  it('answers, plays, fetches the next document through the queue and hangs up with cause 16', async function () {
    const call = await suite.fake.placeCall({ from: CALLER, did: '15551230001', app: APP_NAME });
    await suite.fake.waitForRequest((r) => r.method === 'DELETE' && r.path === `/ari/channels/${call.id}`, 5000);
    await suite.role.app.whenIdle();
    expect(describeRequests(suite.channelRequests(call.id), call.id)).to.deep.equal([
      'POST answer',
      `POST play sound:${WELCOME}`,
      `POST play sound:${NEXT}`,
      'DELETE 16',
    ]);
  });

  it('runs the Callback error branch when the callback fails, then hangs up', async function () {
    const call = await suite.fake.placeCall({ from: CALLER, did: '15551230002', app: APP_NAME });
    await suite.fake.waitForRequest((r) => r.method === 'DELETE' && r.path === `/ari/channels/${call.id}`, 5000);
    await suite.role.app.whenIdle();
    expect(describeRequests(suite.channelRequests(call.id), call.id)).to.deep.equal([
      'POST answer',
      `POST play sound:${WELCOME}`,
      `POST play sound:${SORRY}`,
      'DELETE 16',
    ]);
  });

  it('fails <Say> (no speech engine) and runs its error branch', async function () {
    const call = await suite.fake.placeCall({ from: CALLER, did: '15551230003', app: APP_NAME });
    await suite.fake.waitForRequest((r) => r.method === 'DELETE' && r.path === `/ari/channels/${call.id}`, 5000);
    await suite.role.app.whenIdle();
    expect(describeRequests(suite.channelRequests(call.id), call.id)).to.deep.equal([
      'POST answer',
      `POST play sound:${SORRY}`,
      'DELETE 16',
    ]);
  });
});
