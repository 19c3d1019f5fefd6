import { expect } from 'chai';
import { ARI_MAX_SOCKETS } from '../../../lib/ari/index.js';
import { APP_NAME, AriSuite, CALLER, apps, xml } from './harness.js';

const CALLS = 500;

function countResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}

describe('ARI: many calls at once', function () {
  this.timeout(60_000);
  const suite = new AriSuite('load');

  before(async function () {
    const { welcome, next } = await suite.prompts();
    const server = await suite.server((_req, res) => xml(res, `<Response><Play>${next}</Play><Hangup/></Response>`));
    await suite.start(
      apps([
        {
          uuid: 'app-load',
          name: 'Load',
          numbers: ['15551260001'],
          xml: `<Response><Answer/><Say>Thank you for calling.</Say><Play>${welcome}</Play><Callback url="${server.origin}/next" timeout="20000"/></Response>`,
        },
      ]),
      { fake: { playbackMs: () => 50 }, requestTimeoutMs: 10_000 },
    );
    // One call first, so that connection pools and lazy state exist before the baseline
    // (and the Say is rendered, the prompts fetched, converted and fetched by the fake).
    const warm = await suite.fake.placeCall({ from: CALLER, did: '15551260001', app: APP_NAME });
    await suite.fake.waitForRequest((r) => r.method === 'DELETE' && r.path === `/ari/channels/${warm.id}`, 5000);
    await suite.role.app.whenIdle();
  });

  after(() => suite.close());

  it(`completes ${CALLS} concurrent calls with the requests each should make, and releases everything`, async function () {
    const before = countResources();
    const heapBefore = process.memoryUsage().heapUsed;
    const calls = await Promise.all(
      Array.from({ length: CALLS }, (_, i) => suite.fake.placeCall({ from: `1555000${String(i).padStart(4, '0')}`, did: '15551260001', app: APP_NAME })),
    );
    await Promise.all(
      calls.map((call) => suite.fake.waitForRequest((r) => r.method === 'DELETE' && r.path === `/ari/channels/${call.id}`, 50_000)),
    );
    await suite.role.app.whenIdle();
    for (const call of calls) {
      expect(suite.describe(call.id), call.id).to.deep.equal([
        'POST answer',
        'POST play say:Thank you for calling.',
        'POST play welcome.wav',
        'POST play next.wav',
        'DELETE 16',
      ]);
    }
    expect(suite.role.app.liveCalls).to.equal(0);
    expect(suite.role.app.dispatcher.size).to.equal(0);
    expect(suite.role.app.ownChannels.size).to.equal(0);
    const after = countResources();
    // Timers of calls, fetches and requests are all released. Keep-alive connections to
    // the fake stay pooled, at most ARI_MAX_SOCKETS, each counted twice (both ends are here).
    expect(after.get('Timeout') ?? 0, 'timers').to.be.at.most((before.get('Timeout') ?? 0) + 2);
    expect(after.get('TCPSocketWrap') ?? 0, 'sockets').to.be.at.most((before.get('TCPSocketWrap') ?? 0) + 2 * ARI_MAX_SOCKETS + 4);
    const heapAfter = process.memoryUsage().heapUsed;
    process.stdout.write(
      `      ↳ resources before ${JSON.stringify(Object.fromEntries(before))}, after ${JSON.stringify(Object.fromEntries(after))}; heap ${(heapBefore / 1e6).toFixed(1)} → ${(heapAfter / 1e6).toFixed(1)} MB\n`,
    );
  });
});
