import http from 'node:http';
import { expect } from 'chai';
import client, { type Client } from 'ari-client';
import { FakeAri } from '../../support/fake-ari/index.js';
import { APP, harness, type Harness } from './helpers.js';

/** A WebSocket upgrade request by hand: the status Asterisk answers it with. */
function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, {
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': Buffer.from('0123456789abcdef').toString('base64'),
        ...headers,
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: '', headers: res.headers });
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
    });
    req.on('error', reject);
  });
}

/**
 * Runs `fn` with uncaught exceptions captured instead of failing the test: swagger-client
 * (under ari-client) throws the load failure out of its HTTP callback after rejecting.
 */
async function capturingUncaught(fn: () => Promise<void>): Promise<unknown[]> {
  const caught: unknown[] = [];
  const previous = process.listeners('uncaughtException');
  process.removeAllListeners('uncaughtException');
  const capture = (error: unknown): void => {
    caught.push(error);
  };
  process.on('uncaughtException', capture);
  try {
    await fn();
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('uncaughtException', capture);
    for (const listener of previous) process.on('uncaughtException', listener);
  }
  return caught;
}

describe('fake ARI: connecting and authenticating', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('lets ari-client load its API from the swagger listings and register the application', async () => {
    const { ari, fake } = (h = await harness());
    for (const resource of ['asterisk', 'channels', 'bridges', 'recordings', 'playbacks', 'events', 'applications'] as const) {
      expect(ari[resource as keyof Client], resource).to.be.an('object');
    }
    expect(fake.applications()).to.deep.equal([APP]);
    const app = await ari.applications.get({ applicationName: APP });
    expect(app).to.include({ name: APP });
    expect(app.channel_ids).to.deep.equal([]);
    const ping = (await ari.asterisk.ping()) as unknown as { ping: string; asterisk_id: string };
    expect(ping).to.include({ ping: 'pong', asterisk_id: fake.asteriskId });
    const events = fake.requests.find((r) => r.path === '/ari/events');
    expect(events?.status).to.equal(101);
    expect(events?.query).to.include({ app: APP, api_key: `${fake.username}:${fake.password}` });
  });

  it('answers 401 with {"message":"Authentication required"} without credentials, and accepts Basic auth or api_key', async () => {
    const { fake } = (h = await harness());
    const base = `${fake.url}/ari/asterisk/ping`;
    const anonymous = await fetch(base);
    expect(anonymous.status).to.equal(401);
    expect(anonymous.headers.get('www-authenticate')).to.equal('Basic realm="Asterisk REST Interface"');
    expect(await anonymous.json()).to.deep.equal({ message: 'Authentication required' });

    const wrong = await fetch(base, { headers: { Authorization: `Basic ${Buffer.from('asterisk:nope').toString('base64')}` } });
    expect(wrong.status).to.equal(401);
    const basic = await fetch(base, { headers: { Authorization: `Basic ${Buffer.from('asterisk:asterisk').toString('base64')}` } });
    expect(basic.status).to.equal(200);
    const apiKey = await fetch(`${base}?api_key=asterisk:asterisk`);
    expect(apiKey.status).to.equal(200);
    const docs = await fetch(`${fake.url}/ari/api-docs/resources.json`);
    expect(docs.status, 'the api-docs need credentials too').to.equal(401);
  });

  it('refuses the events WebSocket without credentials (401) or without an app (400)', async () => {
    const { fake } = (h = await harness());
    const ws = `${fake.url}/ari/events`;
    const noAuth = await upgradeStatus(`${ws}?app=${APP}`);
    expect(noAuth.status).to.equal(401);
    expect(JSON.parse(noAuth.body)).to.deep.equal({ message: 'Authentication required' });
    const noApp = await upgradeStatus(`${ws}?api_key=asterisk:asterisk`);
    expect(noApp.status).to.equal(400);
    expect(noApp.body).to.contain('HTTP request is missing param: [app]');
    const good = await upgradeStatus(`${ws}?app=other&api_key=asterisk:asterisk`);
    expect(good.status).to.equal(101);
    const plainGet = await fetch(`${ws}?app=x&api_key=asterisk:asterisk`);
    expect(plainGet.status).to.equal(426);
  });

  it('makes ari-client connect() reject with a bad password (and swagger-client throw it uncaught, as with Asterisk)', async () => {
    const fake = await FakeAri.start({ password: 'secret' });
    try {
      let rejection: unknown;
      const uncaught = await capturingUncaught(async () => {
        rejection = await client.connect(fake.url, 'asterisk', 'wrong').then(
          () => undefined,
          (error: unknown) => error,
        );
      });
      // ari-client rejects with swagger-client's message string, not an Error.
      expect(rejection).to.be.a('string').and.to.match(/^401 : .*\/ari\/api-docs\/resources\.json$/);
      expect(uncaught).to.deep.equal([rejection]);
      const ari = await client.connect(fake.url, 'asterisk', 'secret');
      expect(ari.channels).to.be.an('object');
    } finally {
      await fake.close();
    }
  });

  it('serves listings whose basePath is this server, and 404 for a resource it does not have', async () => {
    const { fake } = (h = await harness());
    const auth = { Authorization: `Basic ${Buffer.from('asterisk:asterisk').toString('base64')}` };
    const listing = (await (await fetch(`${fake.url}/ari/api-docs/resources.json`, { headers: auth })).json()) as { basePath: string; apis: { path: string }[] };
    expect(listing.basePath).to.equal(`${fake.url}/ari`);
    expect(listing.apis.map((a) => a.path)).to.include('/api-docs/channels.{format}');
    const unknown = await fetch(`${fake.url}/ari/nothing/here`, { headers: auth });
    expect(unknown.status).to.equal(404);
    expect(await unknown.json()).to.deep.equal({ message: 'Resource not found' });
    const wrongMethod = await fetch(`${fake.url}/ari/channels`, { method: 'PUT', headers: auth });
    expect(wrongMethod.status).to.equal(405);
  });
});
