// AriHttp, the engine's own ARI REST client, against loopback servers: what it sends,
// how Asterisk's answers and failures come back, its time-out, and its kept-alive,
// capped connections.
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AriHttp, AriNotFoundError, AriRequestError, AriTimeoutError } from '../../../lib/ari/index.js';
import { startServer, type ScriptedHandler, type ScriptedServer } from '../../support/http-servers.js';

const PASSWORD = 's3cret-ari-pass';

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

/** What the caught error is, for the assertions (the request must fail). */
async function failure(request: Promise<unknown>): Promise<AriRequestError> {
  try {
    await request;
  } catch (error) {
    expect(error).to.be.instanceOf(AriRequestError);
    return error as AriRequestError;
  }
  throw new Error('the request did not fail');
}

describe('ARI: the HTTP client (AriHttp)', function () {
  const servers: ScriptedServer[] = [];
  const clients: AriHttp[] = [];

  async function serve(handler: ScriptedHandler, options: { timeoutMs?: number; maxSockets?: number } = {}): Promise<{ server: ScriptedServer; ari: AriHttp }> {
    const server = await startServer(handler);
    servers.push(server);
    const ari = new AriHttp({ url: server.origin, username: 'asterisk', password: PASSWORD, timeoutMs: options.timeoutMs ?? 2000, maxSockets: options.maxSockets ?? 5 });
    clients.push(ari);
    return { server, ari };
  }

  afterEach(async function () {
    for (const ari of clients.splice(0)) ari.close();
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  it('sends the method, the path under /ari, the query percent-encoded and Basic auth; resolves with the JSON answer', async function () {
    const { server, ari } = await serve((_req, res) => json(res, 200, { id: 'pb-1', state: 'queued' }));
    const answer = await ari.send('play', 'POST', '/channels/1700.1/play', { media: 'sound:http://h/a b.wav', playbackId: 'pb-1', skip: undefined, beep: false, n: 3, channel: ['a', 'b'] });
    expect(answer).to.deep.equal({ id: 'pb-1', state: 'queued' });
    const [request] = server.requests;
    expect(request?.method).to.equal('POST');
    expect(request?.url).to.equal('/ari/channels/1700.1/play?media=sound%3Ahttp%3A%2F%2Fh%2Fa%20b.wav&playbackId=pb-1&beep=false&n=3&channel=a%2Cb');
    expect(request?.headers.authorization).to.equal(`Basic ${Buffer.from(`asterisk:${PASSWORD}`).toString('base64')}`);
    expect(request?.headers.accept).to.equal('application/json');
  });

  it('resolves with undefined when Asterisk answers 204 without a body', async function () {
    const { ari } = await serve((_req, res) => res.writeHead(204).end());
    expect(await ari.send('answer', 'POST', '/channels/1700.1/answer')).to.equal(undefined);
  });

  it('turns 404 into AriNotFoundError with Asterisk\'s message ("Channel not found": the channel is gone)', async function () {
    const { ari } = await serve((_req, res) => json(res, 404, { message: 'Channel not found' }));
    const error = await failure(ari.send('answer channel 1700.1', 'POST', '/channels/1700.1/answer'));
    expect(error).to.be.instanceOf(AriNotFoundError);
    expect(error.message).to.equal('answer channel 1700.1: Channel not found');
    expect(error.status).to.equal(404);
    expect((error as AriNotFoundError).channelGone).to.equal(true);
  });

  it('turns any other error status into AriRequestError with the status and the message, or a plain text body, or the status alone', async function () {
    const answers: ScriptedHandler[] = [
      (_req, res) => json(res, 422, { message: 'Channel not in Stasis application' }),
      (_req, res) => res.writeHead(500, { 'content-type': 'text/plain' }).end('Internal Server Error'),
      (_req, res) => res.writeHead(503).end(),
    ];
    const { ari } = await serve((req, res, recorded, index) => answers[index]?.(req, res, recorded, index));
    const errors = [
      await failure(ari.send('add to bridge', 'POST', '/bridges/b/addChannel')),
      await failure(ari.send('get channel', 'GET', '/channels/c')),
      await failure(ari.send('hang up', 'DELETE', '/channels/c')),
    ];
    expect(errors.map((e) => [e.constructor.name, e.status, e.detail])).to.deep.equal([
      ['AriRequestError', 422, 'Channel not in Stasis application'],
      ['AriRequestError', 500, 'Internal Server Error'],
      ['AriRequestError', 503, 'Asterisk answered 503'],
    ]);
  });

  it('gives up at the time-out with AriTimeoutError, before the headers and in the middle of the body', async function () {
    let answered = 0;
    const { server, ari } = await serve(
      (_req, res, _recorded, index) => {
        answered += 1;
        // The first never answers; the second sends its headers and part of its body only.
        if (index === 1) res.writeHead(200, { 'content-type': 'application/json', 'content-length': 100 }).write('{"id":');
      },
      { timeoutMs: 150 },
    );
    const started = performance.now();
    const errors = await Promise.all([failure(ari.send('get channel 1', 'GET', '/channels/1')), failure(ari.send('get channel 2', 'GET', '/channels/2'))]);
    expect(performance.now() - started).to.be.within(140, 1000);
    for (const error of errors) {
      expect(error).to.be.instanceOf(AriTimeoutError);
      expect(error.code).to.equal('ari_timeout');
    }
    expect(errors.map((e) => e.message)).to.deep.equal(['get channel 1: no answer from Asterisk within 150 ms', 'get channel 2: no answer from Asterisk within 150 ms']);
    expect(answered).to.equal(2);
    expect(server.requests).to.have.length(2);
  });

  it('reports a refused connection at once as AriRequestError (not a time-out), with no password in it', async function () {
    const closed = await startServer(() => undefined);
    const port = closed.port;
    await closed.close();
    const ari = new AriHttp({ url: `http://127.0.0.1:${port}`, username: 'asterisk', password: PASSWORD, timeoutMs: 5000, maxSockets: 5 });
    clients.push(ari);
    const started = performance.now();
    const error = await failure(ari.send('answer channel 1', 'POST', '/channels/1/answer'));
    expect(performance.now() - started).to.be.below(1000);
    expect(error).to.not.be.instanceOf(AriTimeoutError);
    expect(error.code).to.equal('ari_request');
    expect(error.message).to.match(/^answer channel 1: .*ECONNREFUSED/);
    expect(JSON.stringify({ message: error.message, cause: String(error.cause) })).to.not.include(PASSWORD);
  });

  /** A server that drops the connection without answering the requests `drop` picks. */
  async function dropping(drop: (overall: number, onConnection: number) => boolean): Promise<{ ari: AriHttp; seen: () => number; close: () => Promise<void> }> {
    let overall = 0;
    const perConnection = new WeakMap<object, number>();
    const server = http.createServer((req, res) => {
      const onConnection = (perConnection.get(req.socket) ?? 0) + 1;
      perConnection.set(req.socket, onConnection);
      overall += 1;
      if (drop(overall, onConnection)) req.socket.destroy();
      else res.writeHead(204).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const ari = new AriHttp({ url: `http://127.0.0.1:${port}`, username: 'asterisk', password: PASSWORD, timeoutMs: 2000, maxSockets: 1 });
    clients.push(ari);
    return {
      ari,
      seen: () => overall,
      close: async () => {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
  }

  it('sends a request again, once, on a new connection when a kept-alive one is closed as it goes out', async function () {
    // Asterisk closing an idle connection (session_keep_alive) as the next request is sent on it.
    const { ari, seen, close } = await dropping((_overall, onConnection) => onConnection === 2);
    try {
      await ari.send('answer 1', 'POST', '/channels/1/answer');
      expect(await ari.send('answer 2', 'POST', '/channels/2/answer')).to.equal(undefined);
      expect(seen()).to.equal(3);
    } finally {
      await close();
    }
  });

  it('does not send it a third time, nor again when the connection was a new one', async function () {
    const { ari, seen, close } = await dropping((overall) => overall > 1);
    try {
      await ari.send('answer 1', 'POST', '/channels/1/answer');
      const error = await failure(ari.send('answer 2', 'POST', '/channels/2/answer'));
      expect(error.code).to.equal('ari_request');
      expect(seen()).to.equal(3);
      await failure(ari.send('answer 3', 'POST', '/channels/3/answer'));
      expect(seen()).to.equal(4);
    } finally {
      await close();
    }
  });

  it('hands answers back once no request waits for a connection, in order; at once when none waits', async function () {
    const answeredAt: number[] = [];
    const { ari } = await serve(
      (_req, res, _recorded, index) => {
        setTimeout(() => {
          answeredAt.push(performance.now());
          json(res, 200, { index });
        }, 20);
      },
      { maxSockets: 1 },
    );
    const handedBack: { index: unknown; at: number }[] = [];
    await Promise.all(
      [0, 1, 2].map((i) => ari.send(`get ${i}`, 'GET', `/channels/${i}`).then((answer) => handedBack.push({ index: answer, at: performance.now() }))),
    );
    expect(handedBack.map((h) => h.index)).to.deep.equal([{ index: 0 }, { index: 1 }, { index: 2 }]);
    // None before the last request had its connection (the third answer came).
    for (const { at } of handedBack) expect(at).to.be.at.least(answeredAt[2] ?? Infinity);
    const started = performance.now();
    await ari.send('get 3', 'GET', '/channels/3');
    expect(performance.now() - started).to.be.below(200);
  });

  it('keeps its connections open between requests and opens at most maxSockets at once', async function () {
    let open = 0;
    let peak = 0;
    const connections = new Set<unknown>();
    const server = http.createServer((req, res) => {
      connections.add(req.socket);
      open += 1;
      peak = Math.max(peak, open);
      setTimeout(() => {
        open -= 1;
        res.writeHead(204).end();
      }, 10);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const ari = new AriHttp({ url: `http://127.0.0.1:${port}`, username: 'asterisk', password: PASSWORD, timeoutMs: 5000, maxSockets: 3 });
      clients.push(ari);
      await Promise.all(Array.from({ length: 30 }, (_, i) => ari.send(`answer ${i}`, 'POST', `/channels/${i}/answer`)));
      expect(peak).to.equal(3);
      expect(connections.size).to.equal(3);
      // One more, later: on one of the same connections.
      await ari.send('answer again', 'POST', '/channels/0/answer');
      expect(connections.size).to.equal(3);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
