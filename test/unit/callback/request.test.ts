import { expect } from 'chai';
import { ACCEPT, buildRequest, withQueryFields } from '../../../lib/callback/request.js';
import { SIGNATURE_HEADER, verifySignature } from '../../../lib/callback/signature.js';
import type { FetchSpec } from '../../../lib/callback/types.js';
import { USER_AGENT } from '../../../lib/callback/user-agent.js';

const NOW = 1_700_000_000_000;
const spec: FetchSpec = {
  url: 'https://hooks.example.com/next?keep=a%20b&flag#frag',
  method: 'POST',
  body: false,
  fields: { call: 'c-1', sca: 's-1', state: 'live', from: '+1 555', tn: '+15550100', tag: 'a&b=c' },
  app: { uuid: 's-1', name: 'Demo', data: { plan: 'gold', n: 3 } },
  deadline: NOW + 5000,
  expect: 'document',
};

describe('callback request building', () => {
  it('appends the fields to the query and keeps the existing query byte for byte', () => {
    const request = buildRequest(spec, { now: NOW });
    expect(request.url.href).to.equal(
      'https://hooks.example.com/next?keep=a%20b&flag&call=c-1&sca=s-1&state=live&from=%2B1+555&tn=%2B15550100&tag=a%26b%3Dc',
    );
    expect(request.body).to.equal(undefined);
    expect(request.headers).not.to.have.property('content-type');
  });

  it('adds a query to a URL without one', () => {
    expect(withQueryFields(new URL('http://h/p'), { a: '1' }).href).to.equal('http://h/p?a=1');
    expect(withQueryFields(new URL('http://h/p?'), { a: '1' }).href).to.equal('http://h/p?a=1');
    expect(withQueryFields(new URL('http://h/p?x=1'), {}).href).to.equal('http://h/p?x=1');
  });

  it('sends the fields and app as JSON for body="true", leaving the URL alone', () => {
    for (const method of ['GET', 'POST', 'PATCH', 'DELETE'] as const) {
      const request = buildRequest({ ...spec, method, body: true }, { now: NOW });
      expect(request.method).to.equal(method);
      expect(request.url.href).to.equal('https://hooks.example.com/next?keep=a%20b&flag');
      expect(request.headers['content-type']).to.equal('application/json');
      expect(JSON.parse(request.body ?? '')).to.deep.equal({ ...spec.fields, app: spec.app });
    }
  });

  it('leaves app out of the body when there is none', () => {
    const { app: _app, ...withoutApp } = spec;
    const request = buildRequest({ ...withoutApp, body: true }, { now: NOW });
    expect(JSON.parse(request.body ?? '')).to.deep.equal(spec.fields);
  });

  it('sets User-Agent and Accept', () => {
    const { headers } = buildRequest(spec, { now: NOW });
    expect(headers['user-agent']).to.match(/^opentact-ari\/\d+\.\d+\.\d+/).and.to.equal(USER_AGENT);
    expect(headers.accept).to.equal(ACCEPT);
    expect(buildRequest(spec, { now: NOW, userAgent: 'custom/1' }).headers['user-agent']).to.equal('custom/1');
  });

  it('signs only when there is a secret, over the URL and body actually sent', () => {
    expect(buildRequest(spec, { now: NOW }).headers).not.to.have.property(SIGNATURE_HEADER);
    for (const body of [false, true]) {
      const request = buildRequest({ ...spec, body }, { now: NOW, secret: 'k' });
      const header = request.headers[SIGNATURE_HEADER];
      expect(header).to.match(new RegExp(`^t=${NOW / 1000},v1=[0-9a-f]{64},v2=[0-9a-f]{64}$`));
      const parts = { method: 'POST', url: request.url.href, body: request.body ?? '' };
      expect(verifySignature({ ...parts, header, secret: 'k', now: NOW, acceptV1: false })).to.equal(true);
    }
  });
});
