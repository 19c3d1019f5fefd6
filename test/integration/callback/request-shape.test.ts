import { expect } from 'chai';
import { executeFetch } from '../../../lib/callback/execute.js';
import { ACCEPT } from '../../../lib/callback/request.js';
import { SIGNATURE_HEADER, verifySignature } from '../../../lib/callback/signature.js';
import type { HttpMethod } from '../../../lib/xml/index.js';
import { startServer, type ScriptedServer } from '../../support/http-servers.js';
import { APP, env, neverAborted, SECRET, spec, VALID_XML } from './fixtures.js';

const FIELDS = { call: 'call-1', sca: APP.uuid, state: 'live', from: '+1 555 0001', tn: '+15550100', tag: 'menu & more' };

describe('executeFetch: the request as the server sees it', () => {
  let s: ScriptedServer;
  before(async () => {
    s = await startServer((_req, res) => res.end(VALID_XML));
  });
  after(async () => s.close());

  for (const method of ['GET', 'POST', 'PATCH', 'DELETE'] as const satisfies readonly HttpMethod[]) {
    for (const body of [false, true]) {
      it(`${method} with body="${body}"`, async () => {
        const before = s.requests.length;
        const outcome = await executeFetch(
          spec(`${s.origin}/hook?keep=a%20b&flag`, 2000, { method, body, fields: FIELDS, app: APP, signingKeyId: APP.uuid }),
          env(),
          neverAborted,
        );
        expect(outcome).to.deep.include({ ok: true, attempts: 1 });
        const [seen] = await s.waitForRequests(before + 1).then((all) => all.slice(before));
        if (!seen) throw new Error('no request seen');

        expect(seen.method).to.equal(method);
        expect(seen.headers['user-agent']).to.match(/^opentact-ari\/\d+\.\d+\.\d+/);
        expect(seen.headers.accept).to.equal(ACCEPT);
        const url = new URL(seen.url, s.origin);
        expect(seen.url.startsWith('/hook?keep=a%20b&flag')).to.equal(true);
        if (body) {
          expect(seen.url).to.equal('/hook?keep=a%20b&flag');
          expect(seen.headers['content-type']).to.equal('application/json');
          expect(JSON.parse(seen.body)).to.deep.equal({ ...FIELDS, app: APP });
        } else {
          expect(Object.fromEntries([...url.searchParams].slice(2))).to.deep.equal(FIELDS);
          expect(seen.headers).not.to.have.property('content-type');
          expect(seen.body).to.equal('');
        }

        const header = seen.headers[SIGNATURE_HEADER];
        expect(header).to.be.a('string');
        const signed = { header: String(header), method: seen.method, url: `http://${seen.headers.host}${seen.url}`, body: seen.body };
        expect(verifySignature({ ...signed, secret: SECRET })).to.equal(true);
        expect(verifySignature({ ...signed, secret: SECRET, body: `${seen.body} ` })).to.equal(false);
      });
    }
  }

  it('sends no signature when the app has no secret', async () => {
    const before = s.requests.length;
    await executeFetch(spec(`${s.origin}/plain`, 2000, { signingKeyId: 'unknown-app' }), env(), neverAborted);
    const [seen] = (await s.waitForRequests(before + 1)).slice(before);
    expect(seen?.headers).not.to.have.property(SIGNATURE_HEADER);
  });
});
