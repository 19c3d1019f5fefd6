import { createHash, createHmac } from 'node:crypto';
import { expect } from 'chai';
import { signRequest, verifySignature } from '../../../lib/callback/signature.js';

const SECRET = 'shh-its-a-secret';
const NOW = 1_700_000_000_000;
const T = NOW / 1000;
const request = { method: 'POST', url: 'https://hooks.example.com/next?a=1&call=c1', body: '{"call":"c1"}' };

function header(overrides: Partial<typeof request> = {}, timestamp = T): string {
  return signRequest({ ...request, ...overrides, secret: SECRET, timestamp });
}

describe('callback signature', () => {
  it('signs v1 (t.METHOD.url.body) and v2 (framed, body digest) with HMAC-SHA256 in the documented form', () => {
    const v1 = createHmac('sha256', SECRET).update(`${T}.POST.${request.url}.${request.body}`).digest('hex');
    const bodyDigest = createHash('sha256').update(request.body).digest('hex');
    const v2 = createHmac('sha256', SECRET).update(`v2\n${T}\nPOST\n${request.url}\n${bodyDigest}`).digest('hex');
    expect(header()).to.equal(`t=${T},v1=${v1},v2=${v2}`);
  });

  it('verifies its own signature', () => {
    expect(verifySignature({ ...request, header: header(), secret: SECRET, now: NOW })).to.equal(true);
  });

  it('verifies an empty body as the empty string', () => {
    const signed = header({ method: 'GET', body: '' });
    expect(verifySignature({ ...request, method: 'GET', body: '', header: signed, secret: SECRET, now: NOW })).to.equal(true);
  });

  it('accepts timestamps within the tolerance either way', () => {
    expect(verifySignature({ ...request, header: header({}, T - 299), secret: SECRET, now: NOW })).to.equal(true);
    expect(verifySignature({ ...request, header: header({}, T + 299), secret: SECRET, now: NOW })).to.equal(true);
  });

  it('rejects a replayed request whose timestamp is too old, or too far in the future', () => {
    expect(verifySignature({ ...request, header: header({}, T - 301), secret: SECRET, now: NOW })).to.equal(false);
    expect(verifySignature({ ...request, header: header({}, T + 301), secret: SECRET, now: NOW })).to.equal(false);
    expect(
      verifySignature({ ...request, header: header({}, T - 3600), secret: SECRET, now: NOW, toleranceSeconds: 7200 }),
    ).to.equal(true);
  });

  it('rejects a tampered URL, body or method', () => {
    const signed = header();
    const verify = (overrides: Partial<typeof request>): boolean =>
      verifySignature({ ...request, ...overrides, header: signed, secret: SECRET, now: NOW });
    expect(verify({ url: 'https://hooks.example.com/next?a=2&call=c1' })).to.equal(false);
    expect(verify({ url: 'https://evil.example.com/next?a=1&call=c1' })).to.equal(false);
    expect(verify({ body: '{"call":"c2"}' })).to.equal(false);
    expect(verify({ method: 'DELETE' })).to.equal(false);
  });

  it('rejects a tampered timestamp and a different secret', () => {
    const signed = header();
    const moved = signed.replace(`t=${T}`, `t=${T + 1}`);
    expect(verifySignature({ ...request, header: moved, secret: SECRET, now: NOW })).to.equal(false);
    expect(verifySignature({ ...request, header: signed, secret: 'other', now: NOW })).to.equal(false);
  });

  it('rejects missing and malformed headers', () => {
    const v1 = /v1=([0-9a-f]{64})/.exec(header())?.[1] ?? '';
    for (const bad of [undefined, '', 'garbage', `v1=${v1}`, `t=${T}`, `t=${T},v1=zz`, `t=abc,v1=${v1}`, `t=${T},t=${T},v1=${v1}`, `t=${T},v1=${v1.slice(2)}`, `t=${T},v1=${v1}=x`]) {
      expect(verifySignature({ ...request, header: bad, secret: SECRET, now: NOW }), String(bad)).to.equal(false);
    }
  });

  it('accepts any matching v1 among several (secret rotation)', () => {
    const good = /v1=([0-9a-f]{64})/.exec(header())?.[1] ?? '';
    const other = 'ab'.repeat(32);
    expect(verifySignature({ ...request, header: `t=${T},v1=${other},v1=${good}`, secret: SECRET, now: NOW })).to.equal(true);
  });
});
