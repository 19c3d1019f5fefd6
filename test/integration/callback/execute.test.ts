import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { expect } from 'chai';
import { executeFetch } from '../../../lib/callback/execute.js';
import { UrlPolicy } from '../../../lib/callback/url-policy.js';
import { closedPort, serverPool } from '../../support/http-servers.js';
import { env, neverAborted, report, since, spec, VALID_XML } from './fixtures.js';

const TOLERANCE_MS = 250;

function drainedOrClosed(res: ServerResponse): Promise<void> {
  const stop = new AbortController();
  return Promise.race([once(res, 'drain', { signal: stop.signal }), once(res, 'close', { signal: stop.signal })]).then(
    () => stop.abort(),
    () => undefined,
  );
}

describe('executeFetch against scripted servers', () => {
  const pool = serverPool();
  const server = pool.start;
  afterEach(() => pool.closeAll());

  it('returns the document of a 200', async () => {
    const s = await server((_req, res) => res.end(VALID_XML));
    const outcome = await executeFetch(spec(`${s.origin}/next`, 2000), env(), neverAborted);
    expect(outcome).to.deep.equal({ ok: true, status: 200, body: VALID_XML, attempts: 1 });
  });

  describe('the budget', () => {
    it('gives up at the deadline when the server never answers', async () => {
      const s = await server(() => undefined);
      const start = performance.now();
      const outcome = await executeFetch(spec(`${s.origin}/slow`, 300), env(), neverAborted);
      const elapsed = since(start);
      report('no answer', elapsed, 300);
      expect(outcome.ok).to.equal(false);
      if (outcome.ok) return;
      expect(outcome.failure.code).to.equal('timeout');
      expect(outcome.failure.reason).to.match(/^no valid answer within (29\d|300) ms/);
      expect(outcome.attempts).to.equal(1);
      expect(elapsed).to.be.within(290, 300 + TOLERANCE_MS);
    });

    it('gives up at the deadline when the body trickles in too slowly', async () => {
      const s = await server((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/xml' });
        res.write('<Response>');
      });
      const start = performance.now();
      const outcome = await executeFetch(spec(`${s.origin}/trickle`, 300), env(), neverAborted);
      const elapsed = since(start);
      report('headers, then silence', elapsed, 300);
      expect(outcome).to.deep.include({ ok: false, attempts: 1 });
      if (!outcome.ok) expect(outcome.failure.code).to.equal('timeout');
      expect(elapsed).to.be.below(300 + TOLERANCE_MS);
    });

    it('retries a 500 and succeeds on the second attempt', async () => {
      const s = await server((_req, res, _rec, index) => {
        res.statusCode = index === 0 ? 500 : 200;
        res.end(index === 0 ? 'oops' : VALID_XML);
      });
      const outcome = await executeFetch(spec(`${s.origin}/flaky`, 2000), env(), neverAborted);
      expect(outcome).to.deep.equal({ ok: true, status: 200, body: VALID_XML, attempts: 2 });
    });

    it('retries 408 and 503 until the budget is spent, then reports timeout with the last failure', async () => {
      const s = await server((_req, res, _rec, index) => {
        res.statusCode = index === 0 ? 408 : 503;
        res.end();
      });
      const start = performance.now();
      // Jitter at its top: waits of 100, 200, 400 ms… show the backoff inside the budget.
      const outcome = await executeFetch(spec(`${s.origin}/down`, 600), env({ random: () => 0.99 }), neverAborted);
      const elapsed = since(start);
      report('503 until the end', elapsed, 600);
      expect(outcome.ok).to.equal(false);
      if (outcome.ok) return;
      // The reason names what was left of the budget when the fetch started: 600 ms, or a hair less.
      expect(outcome.failure).to.include({ code: 'timeout', status: 503 });
      expect(outcome.failure.reason).to.match(/^no valid answer within (59\d|600) ms; last: the server answered 503$/);
      expect(outcome.attempts).to.equal(s.requests.length).and.to.be.within(3, 6);
      expect(elapsed).to.be.below(600 + TOLERANCE_MS);
    });

    it('honours a Retry-After that fits: the second attempt does not come before it', async () => {
      const arrivals: number[] = [];
      const s = await server((_req, res, _rec, index) => {
        arrivals.push(Date.now());
        if (index === 0) {
          res.writeHead(429, { 'retry-after': '1' });
          res.end();
        } else res.end(VALID_XML);
      });
      const outcome = await executeFetch(spec(`${s.origin}/busy`, 3000), env(), neverAborted);
      expect(outcome).to.deep.include({ ok: true, attempts: 2 });
      const [first = 0, second = 0] = arrivals;
      console.log(`      Retry-After: 1 → second attempt ${second - first} ms after the first`);
      expect(second - first).to.be.at.least(995);
    });

    it('gives up at once, saying why, when Retry-After points past the deadline', async () => {
      const s = await server((_req, res) => {
        res.writeHead(429, { 'retry-after': '10' });
        res.end();
      });
      const start = performance.now();
      const outcome = await executeFetch(spec(`${s.origin}/busy`, 2000), env(), neverAborted);
      const elapsed = since(start);
      expect(outcome).to.deep.equal({
        ok: false,
        attempts: 1,
        failure: {
          code: 'http_status',
          status: 429,
          reason: 'the server answered 429 and asked to wait 10 seconds, past the deadline',
        },
      });
      expect(elapsed).to.be.below(200);
    });
  });

  describe('connection failures', () => {
    it('retries after the connection is reset', async () => {
      const s = await server((req, res, _rec, index) => {
        if (index === 0) req.socket.destroy();
        else res.end(VALID_XML);
      });
      const outcome = await executeFetch(spec(`${s.origin}/reset`, 2000), env(), neverAborted);
      expect(outcome).to.deep.include({ ok: true, attempts: 2 });
    });

    it('reports the reset as the last failure when every attempt is reset', async () => {
      const s = await server((req) => req.socket.destroy());
      const outcome = await executeFetch(spec(`${s.origin}/reset`, 300), env(), neverAborted);
      expect(outcome.ok).to.equal(false);
      if (outcome.ok) return;
      expect(outcome.failure.code).to.equal('timeout');
      expect(outcome.failure.reason).to.match(/^no valid answer within (29\d|300) ms; last: the (connection was reset|connection was closed)$/);
      expect(outcome.attempts).to.be.above(1);
    });

    it('retries a refused connection until the budget is spent', async () => {
      const port = await closedPort();
      const start = performance.now();
      const outcome = await executeFetch(spec(`http://127.0.0.1:${port}/`, 300), env({ random: () => 0.5 }), neverAborted);
      const elapsed = since(start);
      report('connection refused', elapsed, 300);
      expect(outcome.ok).to.equal(false);
      if (outcome.ok) return;
      expect(outcome.failure.code).to.equal('timeout');
      expect(outcome.failure.reason).to.match(/^no valid answer within (29\d|300) ms; last: the server refused the connection$/);
      expect(outcome.attempts).to.be.above(1);
      expect(elapsed).to.be.below(300 + TOLERANCE_MS);
    });

    it('reports a TLS failure without retrying', async () => {
      const s = await server((_req, res) => res.end(VALID_XML));
      const outcome = await executeFetch(spec(`https://127.0.0.1:${s.port}/`, 2000), env(), neverAborted);
      expect(outcome).to.deep.equal({ ok: false, attempts: 1, failure: { code: 'tls', reason: 'the secure connection failed' } });
    });

    it('reports a name that does not resolve as dns, without retrying', async () => {
      const policy = new UrlPolicy('', {
        resolve: async (hostname) => {
          throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
        },
      });
      const outcome = await executeFetch(spec('http://nowhere.test/', 2000), env({ policy }), neverAborted);
      expect(outcome).to.deep.equal({ ok: false, attempts: 1, failure: { code: 'dns', reason: 'the server name was not found' } });
    });
  });

  describe('answers that are not retried', () => {
    it('reports a 404 after one attempt', async () => {
      const s = await server((_req, res) => {
        res.statusCode = 404;
        res.end('not here');
      });
      const outcome = await executeFetch(spec(`${s.origin}/missing`, 2000), env(), neverAborted);
      expect(outcome).to.deep.equal({
        ok: false,
        attempts: 1,
        failure: { code: 'http_status', reason: 'the server answered 404', status: 404 },
      });
    });

    it('reports garbage XML as parse, with the line and column of the first problem', async () => {
      const s = await server((_req, res) => res.end('<Response>\n  <Say>hello</Say>\n  <Sya>oops</Sya>\n</Response>'));
      const outcome = await executeFetch(spec(`${s.origin}/bad`, 2000), env(), neverAborted);
      expect(outcome.ok).to.equal(false);
      if (outcome.ok) return;
      expect(outcome.attempts).to.equal(1);
      expect(s.requests).to.have.length(1);
      expect(outcome.failure).to.include({ code: 'parse', line: 3, column: 3 });
      expect(outcome.failure.reason).to.match(/^the answer was not a valid document: line 3, column 3: .*Sya/);
    });

    it('reports an empty 200 as parse', async () => {
      const s = await server((_req, res) => res.end());
      const outcome = await executeFetch(spec(`${s.origin}/empty`, 2000), env(), neverAborted);
      expect(outcome).to.deep.equal({
        ok: false,
        attempts: 1,
        failure: { code: 'parse', reason: 'the answer was empty', line: 1, column: 1 },
      });
    });

    it('accepts any 2xx, body unread, when only the status matters', async () => {
      const s = await server((_req, res, _rec, index) => {
        res.statusCode = index === 0 ? 204 : 200;
        res.end(index === 0 ? undefined : 'not xml at all');
      });
      const status = spec(`${s.origin}/curl`, 2000, { expect: 'status' });
      expect(await executeFetch(status, env(), neverAborted)).to.deep.equal({ ok: true, status: 204, body: '', attempts: 1 });
      expect(await executeFetch(status, env(), neverAborted)).to.deep.equal({ ok: true, status: 200, body: '', attempts: 1 });
    });
  });

  describe('size limit', () => {
    it('aborts a 10 MB body while it streams in', async () => {
      const TEN_MB = 10 * 1024 * 1024;
      let serverSide: Promise<{ written: number; finished: boolean }> | undefined;
      const s = await server(async (_req, res) => {
        serverSide = new Promise((resolve) => {
          res.on('close', () => resolve({ written, finished: res.writableFinished }));
        });
        res.writeHead(200, { 'content-type': 'application/xml' });
        const chunk = Buffer.alloc(64 * 1024, 'x');
        let written = 0;
        while (written < TEN_MB && !res.destroyed) {
          written += chunk.length;
          if (!res.write(chunk)) await drainedOrClosed(res);
        }
        if (!res.destroyed) res.end();
      });
      const start = performance.now();
      const outcome = await executeFetch(spec(`${s.origin}/huge`, 5000), env(), neverAborted);
      const elapsed = since(start);
      expect(outcome).to.deep.equal({
        ok: false,
        attempts: 1,
        failure: { code: 'too_large', reason: 'the answer was larger than 65536 bytes' },
      });
      const seen = await serverSide;
      console.log(`      10 MB body: refused after ${elapsed} ms; the server had written ${seen?.written} bytes when the socket closed`);
      expect(seen?.finished).to.equal(false);
      expect(seen?.written).to.be.below(TEN_MB);
    });

    it('refuses a Content-Length over the limit before reading the body', async () => {
      const s = await server((_req, res) => {
        res.writeHead(200, { 'content-length': String(1024 * 1024) });
        res.write('<Response>');
      });
      const start = performance.now();
      const outcome = await executeFetch(spec(`${s.origin}/declared`, 5000), env(), neverAborted);
      expect(outcome).to.deep.include({ ok: false, attempts: 1 });
      if (!outcome.ok) expect(outcome.failure.code).to.equal('too_large');
      expect(since(start)).to.be.below(200);
    });
  });

  describe('cancellation', () => {
    it('resolves cancelled promptly when the signal aborts mid-request', async () => {
      const s = await server(() => undefined);
      const controller = new AbortController();
      const pending = executeFetch(spec(`${s.origin}/slow`, 5000), env(), controller.signal);
      await s.waitForRequests(1);
      const start = performance.now();
      controller.abort();
      const outcome = await pending;
      const elapsed = since(start);
      console.log(`      cancelled ${elapsed} ms after the abort`);
      expect(outcome).to.deep.equal({ ok: false, attempts: 1, failure: { code: 'cancelled', reason: 'the fetch was cancelled' } });
      expect(elapsed).to.be.below(250); // at once, next to the seconds the fetch would have taken
    });

    it('resolves cancelled when the signal aborts during a backoff wait', async () => {
      const controller = new AbortController();
      const s = await server((_req, res) => {
        res.writeHead(503, { 'retry-after': '3' });
        res.end();
      });
      // The jitter is drawn when the retry is planned, just before the wait begins.
      let planned: () => void = () => undefined;
      const waiting = new Promise<void>((resolve) => (planned = resolve));
      const random = (): number => {
        planned();
        return 0;
      };
      const pending = executeFetch(spec(`${s.origin}/busy`, 5000), env({ random }), controller.signal);
      await waiting;
      const start = performance.now();
      controller.abort();
      const outcome = await pending;
      expect(outcome).to.deep.equal({ ok: false, attempts: 1, failure: { code: 'cancelled', reason: 'the fetch was cancelled' } });
      expect(since(start)).to.be.below(250); // at once, next to the seconds the fetch would have taken
    });

    it('makes no request when the signal has already aborted', async () => {
      const s = await server((_req, res) => res.end(VALID_XML));
      const outcome = await executeFetch(spec(`${s.origin}/`, 2000), env(), AbortSignal.abort());
      expect(outcome).to.deep.include({ ok: false, attempts: 0 });
      expect(s.requests).to.have.length(0);
    });
  });
});
