// Resuming calls after a restart, on the fake ARI, for what a real Asterisk cannot be made
// to show on demand: `GET /applications` never answering (asterisk/asterisk#2170).
import { expect } from 'chai';
import { APP_NAME, AriSuite, CALLER, apps } from './harness.js';

describe('ARI: calls resumed after a restart', function () {
  const suite = new AriSuite('resume');
  this.timeout(30_000);

  before(async function () {
    const { welcome, next } = await suite.prompts();
    await suite.start(
      apps([
        {
          uuid: 'app-resume',
          name: 'Resume',
          numbers: ['15551280001'],
          xml: `<Response><Play>${welcome}</Play><Pause length="3000"/><Play>${next}</Play><Hangup/></Response>`,
        },
      ]),
      { resume: { ttlSeconds: 600, sweepIntervalMs: 200 }, shutdownGraceMs: 200, requestTimeoutMs: 500 },
    );
  });

  after(() => suite.close());

  it('when GET /applications does not answer, finds the call through GET /channels and resumes it', async function () {
    const call = await suite.fake.placeCall({ from: CALLER, did: '15551280001', app: APP_NAME });
    await suite.fake.waitForRequest((r) => r.method === 'POST' && r.path === `/ari/channels/${call.id}/play`, 5000);
    await suite.restartEngine(() => suite.fake.delayNext({ method: 'GET', path: `/ari/applications/${APP_NAME}` }, 2000, 10));
    await suite.fake.waitForRequest((r) => r.method === 'DELETE' && r.path === `/ari/channels/${call.id}`, 20_000);
    await suite.role.app.whenIdle();
    // The first engine played the welcome (its media URL); the next one ran the Pause again, then the rest.
    const plays = suite.describe(call.id).filter((line) => line.startsWith('POST play') || line.startsWith('DELETE'));
    expect(plays).to.have.length(3);
    expect(plays.slice(1)).to.deep.equal(['POST play next.wav', 'DELETE 16']);
    const listed = suite.fake.requests.filter((r) => r.method === 'GET' && (r.path === '/ari/channels' || r.path === `/ari/applications/${APP_NAME}`));
    expect(listed.map((r) => r.path)).to.include.members([`/ari/applications/${APP_NAME}`, '/ari/channels']);
  });
});
