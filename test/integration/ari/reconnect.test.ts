import { expect } from 'chai';
import { APP_NAME, AriSuite, CALLER, apps, xml } from './harness.js';

describe('ARI: Asterisk going away and coming back', function () {
  const suite = new AriSuite('reconnect');

  before(async function () {
    const { long, short, next } = await suite.prompts();
    const server = await suite.server((_req, res) => xml(res, `<Response><Play>${next}</Play><Hangup/></Response>`));
    await suite.start(
      apps([
        {
          uuid: 'app-long',
          name: 'Long',
          numbers: ['15551250001'],
          xml: `<Response><Play>${long}</Play><Callback url="${server.origin}/next"/></Response>`,
        },
        {
          uuid: 'app-short',
          name: 'Short',
          numbers: ['15551250002'],
          xml: `<Response><Play>${short}</Play><Hangup/></Response>`,
        },
      ]),
      { playbackMs: (label) => (label === 'long.wav' ? 300 : label === 'short.wav' ? 100 : 10) },
    );
  });

  after(() => suite.close());

  /** Waits until the role has opened a new events WebSocket since request index `from`. */
  async function reconnected(from: number): Promise<void> {
    await suite.fake.waitForRequest((r) => r.path === '/ari/events' && r.status === 101, 5000, from);
    await suite.connected();
  }

  it('keeps a call going through a WebSocket drop mid-call', async function () {
    const call = await suite.fake.placeCall({ from: CALLER, did: '15551250001', app: APP_NAME });
    await suite.fake.waitForRequest((r) => r.path === `/ari/channels/${call.id}/play`, 5000);
    const mark = suite.fake.requests.length;
    await suite.fake.dropWebSockets();
    await reconnected(mark);
    await suite.fake.waitForRequest((r) => r.method === 'DELETE' && r.path === `/ari/channels/${call.id}`, 5000);
    await suite.role.app.whenIdle();
    expect(suite.describe(call.id)).to.deep.equal([
      'POST answer',
      'POST play long.wav',
      'POST play next.wav',
      'DELETE 16',
    ]);
    expect(suite.logger.entries.filter((e) => e.msg === 'ARI WebSocket closed; reconnecting')).to.have.length.at.least(1);
  });

  it('finishes a playback whose PlaybackFinished was lost while disconnected', async function () {
    const call = await suite.fake.placeCall({ from: CALLER, did: '15551250002', app: APP_NAME });
    const play = await suite.fake.waitForRequest((r) => r.path === `/ari/channels/${call.id}/play`, 5000);
    const playbackId = play.query['playbackId'];
    // The new socket is held long enough for the 100 ms playback to end in the gap.
    suite.fake.delayNext({ path: '/events' }, 400);
    const mark = suite.fake.requests.length;
    await suite.fake.dropWebSockets();
    await reconnected(mark);
    await suite.fake.waitForRequest((r) => r.method === 'DELETE' && r.path === `/ari/channels/${call.id}`, 5000);
    await suite.role.app.whenIdle();
    expect(suite.fake.droppedEvents.some((e) => e.type === 'PlaybackFinished' && e.playback?.id === playbackId)).to.equal(true);
    expect(suite.fake.requests.some((r) => r.method === 'GET' && r.path === `/ari/playbacks/${playbackId}` && r.status === 404)).to.equal(true);
    expect(suite.describe(call.id)).to.deep.equal(['POST answer', 'POST play short.wav', 'DELETE 16']);
  });

  it('ends the flow of a channel that hung up while disconnected', async function () {
    const call = await suite.fake.placeCall({ from: CALLER, did: '15551250001', app: APP_NAME });
    await suite.fake.waitForRequest((r) => r.path === `/ari/channels/${call.id}/play`, 5000);
    suite.fake.delayNext({ path: '/events' }, 300);
    const mark = suite.fake.requests.length;
    await suite.fake.dropWebSockets();
    await suite.fake.callerHangup(call.id);
    const before = suite.channelRequests(call.id).length;
    await reconnected(mark);
    await suite.role.app.whenIdle();
    expect(suite.role.app.liveCalls).to.equal(0);
    expect(suite.role.app.dispatcher.size).to.equal(0);
    expect(suite.channelRequests(call.id)).to.have.length(before);
    expect(suite.fake.requests.slice(mark).some((r) => r.method === 'GET' && r.path === `/ari/applications/${APP_NAME}`)).to.equal(true);
  });

  it('takes new calls after Asterisk restarts between calls', async function () {
    await suite.fake.stop();
    await suite.role.connection.whenState('connecting');
    const mark = suite.fake.requests.length;
    await suite.fake.restart();
    await reconnected(mark);
    const call = await suite.fake.placeCall({ from: CALLER, did: '15551250002', app: APP_NAME });
    await suite.fake.waitForRequest((r) => r.method === 'DELETE' && r.path === `/ari/channels/${call.id}`, 5000);
    expect(suite.describe(call.id)).to.deep.equal(['POST answer', 'POST play short.wav', 'DELETE 16']);
  });
});
