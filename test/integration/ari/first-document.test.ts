import { expect } from 'chai';
import type { ScriptedServer } from '../../support/http-servers.js';
import { APP_NAME, AriSuite, CALLER, apps, xml } from './harness.js';

describe('ARI: routing and first documents', function () {
  const suite = new AriSuite('routing');
  let webhookHits = 0;
  let webhookQuery = new URLSearchParams();
  let webhookMethod = '';
  let slow: { release: () => void; aborted: Promise<void> } | undefined;
  let server: ScriptedServer;

  before(async function () {
    const { welcome, next, sorry } = await suite.prompts();
    server = await suite.server((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/webhook') {
        webhookHits += 1;
        webhookQuery = url.searchParams;
        webhookMethod = req.method ?? '';
        return xml(res, `<Response><Play>${next}</Play></Response>`);
      }
      if (url.pathname === '/slow') {
        // Holds the answer until the test releases it; notes when the client gives up.
        let markAborted: () => void = () => undefined;
        const aborted = new Promise<void>((resolve) => (markAborted = resolve));
        res.on('close', () => {
          if (!res.writableEnded) markAborted();
        });
        slow = { release: () => xml(res, '<Response><Hangup/></Response>'), aborted };
        return undefined;
      }
      return res.writeHead(503).end();
    });
    await suite.start(
      apps([
        { uuid: 'app-hook', name: 'Hook', numbers: ['15551240001'], webhook_url: `${server.origin}/webhook`, webhook_method: 'GET' },
        {
          uuid: 'app-fallback',
          name: 'Fallback',
          numbers: ['15551240002'],
          webhook_url: `${server.origin}/down`,
          webhook_request_timeout: 300,
          fallback_xml: `<Response><Play>${sorry}</Play></Response>`,
        },
        { uuid: 'app-nofallback', name: 'No fallback', numbers: ['15551240003'], webhook_url: `${server.origin}/down`, webhook_request_timeout: 300 },
        {
          uuid: 'app-slow',
          name: 'Slow',
          numbers: ['15551240004'],
          xml: `<Response><Play>${welcome}</Play><Callback url="${server.origin}/slow" timeout="10000"/></Response>`,
        },
        { uuid: 'app-manual', name: 'Manual answer', numbers: ['15551240005'], auto_answer: false, xml: '<Response><Hangup/></Response>' },
      ]),
    );
  });

  after(() => suite.close());

  it('hangs up a DID with no app with cause 1 (unallocated number) and plays nothing', async function () {
    const call = await suite.fake.placeCall({ from: CALLER, did: '15559999999', app: APP_NAME });
    await suite.fake.waitForRequest((r) => r.method === 'DELETE' && r.path === `/ari/channels/${call.id}`, 5000);
    expect(suite.describe(call.id)).to.deep.equal(['DELETE 1']);
    const warning = suite.logger.entries.find((e) => e.msg?.includes('no Call Control App'));
    expect(warning?.obj).to.include({ channel: call.id, did: '15559999999' });
  });

  it('matches a DID given with a leading + and falls back to the dialplan extension', async function () {
    const withPlus = await suite.fake.placeCall({ from: CALLER, did: '+15551240005', app: APP_NAME });
    const noArgs = await suite.fake.placeCall({ from: CALLER, did: '15551240005', app: APP_NAME, args: [] });
    for (const call of [withPlus, noArgs]) {
      await suite.fake.waitForRequest((r) => r.method === 'DELETE' && r.path === `/ari/channels/${call.id}`, 5000);
      // auto_answer: false, and <Hangup> needs no answer.
      expect(suite.describe(call.id)).to.deep.equal(['DELETE 16']);
    }
  });

  it('loads a webhook app document through the queue with its method and the call fields', async function () {
    const call = await suite.fake.placeCall({ from: CALLER, did: '15551240001', app: APP_NAME });
    await suite.fake.waitForRequest((r) => r.method === 'DELETE' && r.path === `/ari/channels/${call.id}`, 5000);
    expect(webhookHits).to.equal(1);
    expect(webhookMethod).to.equal('GET');
    expect(webhookQuery.get('sca')).to.equal('app-hook');
    expect(webhookQuery.get('from')).to.equal(CALLER);
    expect(webhookQuery.get('tn')).to.equal('15551240001');
    expect(webhookQuery.get('state')).to.equal('live');
    expect(webhookQuery.get('call')).to.match(/^[0-9a-f-]{36}$/);
    expect(suite.describe(call.id)).to.deep.equal(['POST answer', 'POST play next.wav', 'DELETE 16']);
  });

  it('runs fallback_xml when the webhook fails', async function () {
    const call = await suite.fake.placeCall({ from: CALLER, did: '15551240002', app: APP_NAME });
    await suite.fake.waitForRequest((r) => r.method === 'DELETE' && r.path === `/ari/channels/${call.id}`, 5000);
    expect(suite.describe(call.id)).to.deep.equal(['POST answer', 'POST play sorry.wav', 'DELETE 16']);
  });

  it('hangs up with a logged reason when the webhook fails and there is no fallback_xml', async function () {
    const call = await suite.fake.placeCall({ from: CALLER, did: '15551240003', app: APP_NAME });
    await suite.fake.waitForRequest((r) => r.method === 'DELETE' && r.path === `/ari/channels/${call.id}`, 5000);
    expect(suite.describe(call.id)).to.deep.equal(['POST answer', 'DELETE 41']);
    const entry = suite.logger.entries.find((e) => e.msg === 'hanging up' && (e.obj as { channel?: string }).channel === call.id);
    expect(String((entry?.obj as { reason?: string }).reason)).to.match(/^the webhook failed: /);
  });

  it('cancels the callback when the caller hangs up mid-fetch and touches the channel no more', async function () {
    slow = undefined;
    const seen = server.requests.length;
    const call = await suite.fake.placeCall({ from: CALLER, did: '15551240004', app: APP_NAME });
    await suite.fake.waitForRequest((r) => r.path === `/ari/channels/${call.id}/play`, 5000);
    // The fetch is under way once the callback server holds the request.
    await server.waitForRequests(seen + 1);
    // Set by the server's handler meanwhile (TypeScript cannot see that).
    const held = slow as { release: () => void; aborted: Promise<void> } | undefined;
    if (held === undefined) throw new Error('the callback server did not hold the request');
    const before = suite.channelRequests(call.id).length;
    await suite.fake.callerHangup(call.id);
    await held.aborted;
    await suite.role.app.whenIdle();
    held.release();
    expect(suite.channelRequests(call.id)).to.have.length(before);
    expect(suite.role.app.dispatcher.size).to.equal(0);
  });
});
