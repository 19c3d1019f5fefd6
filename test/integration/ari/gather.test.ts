import { expect } from 'chai';
import { APP_NAME, AriSuite, CALLER, apps } from './harness.js';

describe('ARI: <Gather> on a call', function () {
  const suite = new AriSuite('gather');

  before(async function () {
    const { long, next, sorry } = await suite.prompts();
    await suite.start(
      apps([
        {
          uuid: 'app-gather',
          name: 'Gather',
          numbers: ['15551280001'],
          xml:
            `<Response><Gather numDigits="2" timeout="1500"><Play>${long}</Play>` +
            `<DTMF value="12"><Play>${next}</Play></DTMF><Default><Play>${sorry}</Play></Default></Gather><Hangup/></Response>`,
        },
      ]),
      // The prompt plays until a key stops it, like a long menu.
      { playbackMs: (label) => (label === 'long.wav' ? Infinity : 20) },
    );
  });

  after(() => suite.close());

  it('keeps every key of a caller typing ahead through the prompt: the first stops it, the next is not lost', async function () {
    const call = await suite.fake.placeCall({ from: CALLER, did: '15551280001', app: APP_NAME });
    await suite.fake.waitForEvent((e) => e.type === 'PlaybackStarted' && e.playback?.target_uri === `channel:${call.id}`, 5000);
    // Asterisk takes its time to stop the prompt: the second key arrives meanwhile.
    suite.fake.delayNext({ method: 'DELETE', path: /^\/ari\/playbacks\// }, 300);
    await suite.fake.pressDigits(call.id, '12', { gapMs: 10, durationMs: 20 });
    await suite.fake.waitForRequest((r) => r.method === 'DELETE' && r.path === `/ari/channels/${call.id}`, 5000);
    await suite.role.app.whenIdle();
    expect(suite.describe(call.id)).to.deep.equal(['POST answer', 'POST play long.wav', 'POST play next.wav', 'DELETE 16']);
  });
});
