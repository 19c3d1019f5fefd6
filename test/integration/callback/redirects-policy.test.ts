import { expect } from 'chai';
import { executeFetch } from '../../../lib/callback/execute.js';
import { SIGNATURE_HEADER, verifySignature } from '../../../lib/callback/signature.js';
import { UrlPolicy, type Resolver } from '../../../lib/callback/url-policy.js';
import { serverPool } from '../../support/http-servers.js';
import { APP, env, neverAborted, SECRET, spec, VALID_XML } from './fixtures.js';

/** Redirects /hop/N to /hop/N+1 until /hop/`last`, which answers the document. */
function hops(last: number) {
  return (_req: unknown, res: import('node:http').ServerResponse, rec: { url: string }): void => {
    const n = Number(/^\/hop\/(\d+)/.exec(rec.url)?.[1] ?? 0);
    if (n >= last) {
      res.end(VALID_XML);
      return;
    }
    res.writeHead(302, { location: `/hop/${n + 1}` });
    res.end();
  };
}

describe('executeFetch: redirects and the outbound policy', () => {
  const pool = serverPool();
  const server = pool.start;
  afterEach(() => pool.closeAll());

  describe('redirects', () => {
    it('follows a chain of 5 redirects, re-signing each hop', async () => {
      const s = await server(hops(5));
      const outcome = await executeFetch(
        spec(`${s.origin}/hop/0`, 2000, { signingKeyId: APP.uuid, method: 'GET' }),
        env(),
        neverAborted,
      );
      expect(outcome).to.deep.equal({ ok: true, status: 200, body: VALID_XML, attempts: 1 });
      expect(s.requests.map((r) => r.url.split('?')[0])).to.deep.equal(['/hop/0', '/hop/1', '/hop/2', '/hop/3', '/hop/4', '/hop/5']);
      for (const r of s.requests) {
        const url = `http://${r.headers.host}${r.url}`;
        const header = r.headers[SIGNATURE_HEADER];
        expect(verifySignature({ header: String(header), method: r.method, url, body: r.body, secret: SECRET }), url).to.equal(true);
      }
    });

    it('turns a POST into a signed GET without body after a 303', async () => {
      const s = await server((_req, res, rec) => {
        if (rec.url === '/form') {
          res.writeHead(303, { location: '/result' });
          res.end();
        } else res.end(VALID_XML);
      });
      const outcome = await executeFetch(
        spec(`${s.origin}/form`, 2000, { body: true, app: APP, signingKeyId: APP.uuid }),
        env(),
        neverAborted,
      );
      expect(outcome).to.deep.include({ ok: true, attempts: 1 });
      const [post, get] = s.requests;
      expect(post).to.include({ method: 'POST', url: '/form' });
      expect(get).to.include({ method: 'GET', url: '/result', body: '' });
      expect(get?.headers).not.to.have.property('content-type');
      const header = String(get?.headers[SIGNATURE_HEADER]);
      expect(verifySignature({ header, method: 'GET', url: `${s.origin}/result`, body: '', secret: SECRET })).to.equal(true);
    });

    it('refuses a sixth redirect', async () => {
      const s = await server(hops(6));
      const outcome = await executeFetch(spec(`${s.origin}/hop/0`, 2000), env(), neverAborted);
      expect(outcome).to.deep.equal({
        ok: false,
        attempts: 1,
        failure: { code: 'redirects', reason: 'the server redirected more than 5 times' },
      });
      expect(s.requests).to.have.length(6);
    });

    it('stops a redirect loop at the first repeat, without retrying', async () => {
      const s = await server((_req, res, rec) => {
        res.writeHead(307, { location: rec.url.startsWith('/a') ? '/b' : '/a' });
        res.end();
      });
      const outcome = await executeFetch(spec(`${s.origin}/a`, 2000, { body: true }), env(), neverAborted);
      expect(outcome).to.deep.equal({ ok: false, attempts: 1, failure: { code: 'redirects', reason: 'the server redirected in a loop' } });
      expect(s.requests.map((r) => r.url)).to.deep.equal(['/a', '/b']);
    });

    it('refuses a redirect to a literal address the policy does not allow', async () => {
      const s = await server((_req, res) => {
        res.writeHead(302, { location: `http://127.0.0.2:${s.port}/inside` });
        res.end();
      });
      const outcome = await executeFetch(spec(`${s.origin}/out`, 2000), env(), neverAborted);
      expect(outcome).to.deep.equal({
        ok: false,
        attempts: 1,
        failure: { code: 'policy', reason: 'the URL is not allowed: 127.0.0.2 is a loopback address' },
      });
      expect(s.requests).to.have.length(1);
    });

    it('refuses a redirect to a name that resolves to a refused address (lookup on every connection)', async () => {
      const resolve: Resolver = async () => [{ address: '127.0.0.2', family: 4 }];
      const policy = new UrlPolicy('127.0.0.1/32', { resolve });
      const s = await server((_req, res) => {
        res.writeHead(302, { location: `http://inside.test:${s.port}/` });
        res.end();
      });
      const outcome = await executeFetch(spec(`${s.origin}/out`, 2000), env({ policy }), neverAborted);
      expect(outcome).to.deep.equal({
        ok: false,
        attempts: 1,
        failure: { code: 'policy', reason: 'the URL is not allowed: inside.test is at 127.0.0.2, a loopback address' },
      });
    });

    it('refuses a redirect to a scheme other than http and https', async () => {
      const s = await server((_req, res) => {
        res.writeHead(301, { location: 'ftp://127.0.0.1/file' });
        res.end();
      });
      const outcome = await executeFetch(spec(`${s.origin}/out`, 2000), env(), neverAborted);
      expect(outcome).to.deep.equal({
        ok: false,
        attempts: 1,
        failure: { code: 'policy', reason: 'the URL is not allowed: only http and https can be used' },
      });
    });
  });

  describe('policy', () => {
    it('refuses localhost with the default policy, after resolving it, before any request', async () => {
      const s = await server((_req, res) => res.end(VALID_XML));
      const outcome = await executeFetch(spec(`http://localhost:${s.port}/`, 2000), env({ policy: new UrlPolicy() }), neverAborted);
      expect(outcome.ok).to.equal(false);
      if (outcome.ok) return;
      expect(outcome.failure.code).to.equal('policy');
      expect(outcome.failure.reason).to.match(/^the URL is not allowed: localhost is at (127\.0\.0\.1|::1), a loopback address$/);
      expect(s.requests).to.have.length(0);
    });

    it('refuses a literal loopback URL with the default policy without making an attempt', async () => {
      const s = await server((_req, res) => res.end(VALID_XML));
      const outcome = await executeFetch(spec(`${s.origin}/`, 2000), env({ policy: new UrlPolicy() }), neverAborted);
      expect(outcome).to.deep.equal({
        ok: false,
        attempts: 0,
        failure: { code: 'policy', reason: 'the URL is not allowed: 127.0.0.1 is a loopback address' },
      });
      expect(s.requests).to.have.length(0);
    });

    it('refuses a URL that is not http or https', async () => {
      const outcome = await executeFetch(spec('file:///etc/passwd', 2000), env(), neverAborted);
      expect(outcome).to.deep.include({ ok: false, attempts: 0 });
    });

    it('checks the name again on a new connection, so a rebinding name is caught on retry', async () => {
      const answers = ['127.0.0.1', '127.0.0.2'];
      const resolve: Resolver = async () => [{ address: answers.shift() ?? '127.0.0.2', family: 4 }];
      const policy = new UrlPolicy('127.0.0.1/32', { resolve });
      const s = await server((_req, res) => {
        res.writeHead(503, { connection: 'close' });
        res.end();
      });
      const outcome = await executeFetch(spec(`http://rebind.test:${s.port}/`, 2000), env({ policy }), neverAborted);
      expect(outcome).to.deep.equal({
        ok: false,
        attempts: 2,
        failure: { code: 'policy', reason: 'the URL is not allowed: rebind.test is at 127.0.0.2, a loopback address' },
      });
      expect(s.requests).to.have.length(1);
    });
  });
});
