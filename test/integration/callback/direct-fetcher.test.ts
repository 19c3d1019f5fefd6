import { expect } from 'chai';
import { DirectFetcher } from '../../../lib/callback/direct-fetcher.js';
import { documentFromOutcome } from '../../../lib/callback/document.js';
import { fetchSpecFromRequest } from '../../../lib/callback/fetch-spec.js';
import type { CallbackRequest } from '../../../lib/flow/ports.js';
import { startServer, type ScriptedServer } from '../../support/http-servers.js';
import { APP, env, VALID_XML } from './fixtures.js';

function request(url: string, overrides: Partial<CallbackRequest> = {}): CallbackRequest {
  return {
    url,
    method: 'POST',
    body: true,
    fields: { call: 'call-1', sca: APP.uuid, state: 'ringing', from: '', tn: '+15550100' },
    path: 'Response/Gather[0]',
    step: 1,
    ...overrides,
  };
}

describe('DirectFetcher', () => {
  let s: ScriptedServer;
  before(async () => {
    s = await startServer((_req, res, rec) => res.end(rec.url.startsWith('/bad') ? '<Response><Nope/></Response>' : VALID_XML));
  });
  after(async () => s.close());

  it('sends the call fields, the extra fields and the app, and returns the parsed document', async () => {
    const fetcher = new DirectFetcher({ env: env(), app: APP, signingKeyId: APP.uuid });
    const before = s.requests.length;
    const result = await fetcher.fetch(
      request(`${s.origin}/next`, { extra: { dtmf: '42', call: 'not-overridden' }, fields: { ...request('').fields, tag: 't1' } }),
      Date.now() + 2000,
      new AbortController().signal,
    );
    expect(result.ok).to.equal(true);
    if (!result.ok) return;
    expect(result).to.include({ attempts: 1, status: 200 });
    expect(result.document.kind).to.equal('Response');
    expect(result.document.verbs.map((v) => v.kind)).to.deep.equal(['Hangup']);
    const [seen] = (await s.waitForRequests(before + 1)).slice(before);
    expect(JSON.parse(seen?.body ?? '')).to.deep.equal({
      call: 'call-1',
      sca: APP.uuid,
      state: 'ringing',
      from: '',
      tn: '+15550100',
      tag: 't1',
      dtmf: '42',
      app: APP,
    });
  });

  it('turns an invalid document into a parse failure', async () => {
    const fetcher = new DirectFetcher({ env: env() });
    const result = await fetcher.fetch(request(`${s.origin}/bad`), Date.now() + 2000, new AbortController().signal);
    expect(result.ok).to.equal(false);
    if (result.ok) return;
    expect(result.failure).to.include({ code: 'parse', line: 1, column: 11 });
  });

  it('passes failures through', async () => {
    const fetcher = new DirectFetcher({ env: env() });
    const result = await fetcher.fetch(request('http://10.0.0.1/'), Date.now() + 2000, new AbortController().signal);
    expect(result).to.deep.equal({
      ok: false,
      attempts: 0,
      failure: { code: 'policy', reason: 'the URL is not allowed: 10.0.0.1 is a private address' },
    });
  });
});

describe('fetchSpecFromRequest and documentFromOutcome', () => {
  it('puts the standard fields first, leaves tag out when absent, and keeps extra fields from overriding', () => {
    const fetchSpec = fetchSpecFromRequest(request('http://example.com/', { body: false, method: 'GET', extra: { dtmf: '1', sca: 'x' } }), {
      deadline: 123,
    });
    expect(fetchSpec).to.deep.equal({
      url: 'http://example.com/',
      method: 'GET',
      body: false,
      fields: { call: 'call-1', sca: APP.uuid, state: 'ringing', from: '', tn: '+15550100', dtmf: '1' },
      deadline: 123,
      expect: 'document',
    });
    expect(Object.keys(fetchSpec.fields)).to.deep.equal(['call', 'sca', 'state', 'from', 'tn', 'dtmf']);
    expect(fetchSpecFromRequest(request('http://e/'), { deadline: 1, app: APP, signingKeyId: 'k', expect: 'status' })).to.include({
      app: APP,
      signingKeyId: 'k',
      expect: 'status',
    });
  });

  it('parses a successful body and passes failures through', () => {
    const ok = documentFromOutcome({ ok: true, status: 201, body: VALID_XML, attempts: 2 });
    expect(ok).to.include({ ok: true, status: 201, attempts: 2 });
    const failure = { ok: false, attempts: 1, failure: { code: 'timeout', reason: 'no valid answer within 5000 ms' } } as const;
    expect(documentFromOutcome(failure)).to.equal(failure);
    expect(documentFromOutcome({ ok: true, status: 200, body: '', attempts: 1 })).to.deep.include({ ok: false });
  });
});
