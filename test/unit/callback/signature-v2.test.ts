// Signature v2 (issue 9, item 6): a framed signed string, v1 accepted only during the
// transition, and a verifier that answers false, never throws.
import { expect } from 'chai';
import { SignatureInputError, signRequest, verifySignature, type VerifyOptions } from '../../../lib/callback/signature.js';

const SECRET = 'shh-its-a-secret';
const NOW = 1_700_000_000_000;
const T = NOW / 1000;
const BASE = 'https://hooks.example.com/next';

function sign(url: string, body: string, method = 'POST'): string {
  return signRequest({ method, url, body, secret: SECRET, timestamp: T });
}

/** The header with only the given versions kept (what an old engine sends, or an attacker strips to). */
function only(header: string, ...keep: string[]): string {
  return header
    .split(',')
    .filter((item) => item.startsWith('t=') || keep.some((version) => item.startsWith(`${version}=`)))
    .join(',');
}

describe('callback signature v2', () => {
  it('matches the test vector in the README', () => {
    expect(signRequest({ method: 'POST', url: 'https://hooks.example.com/next?a=1', body: '{"call":"c1"}', secret: 'shh', timestamp: 1_700_000_000 })).to.equal(
      't=1700000000,v1=d1925f2f3666bdb3264f901c340ee9e054372d171606ce42eb4c9751a63d7bf3,v2=12e45f112326f6505b9a61c1fb0fddecd34d59a799322f0291904f6e143712a0',
    );
  });

  describe('the v1 ambiguity: URL `…?a=1` with body `.x` against URL `…?a=1.` with body `x`', () => {
    const signed = sign(`${BASE}?a=1`, '.x');
    const genuine = { method: 'POST', url: `${BASE}?a=1`, body: '.x', secret: SECRET, now: NOW };
    const forged = { method: 'POST', url: `${BASE}?a=1.`, body: 'x', secret: SECRET, now: NOW };

    it('exists in v1: its v1 value verifies both requests', () => {
      const v1Only = only(signed, 'v1');
      expect(verifySignature({ ...genuine, header: v1Only })).to.equal(true);
      expect(verifySignature({ ...forged, header: v1Only })).to.equal(true);
    });

    it('is gone in v2: the header verifies the request it was made for and not the other', () => {
      expect(verifySignature({ ...genuine, header: signed, acceptV1: false })).to.equal(true);
      expect(verifySignature({ ...forged, header: signed, acceptV1: false })).to.equal(false);
      expect(verifySignature({ ...forged, header: only(signed, 'v1'), acceptV1: false }), 'v2 stripped').to.equal(false);
      expect(verifySignature({ ...forged, header: only(signed, 'v2') })).to.equal(false);
    });

    it('covers the other places a dot could move: method, URL and body', () => {
      const header = sign(`${BASE}?a=b`, 'c.d', 'POST');
      for (const [method, url, body] of [
        ['POST', `${BASE}?a=b.c`, 'd'],
        ['POST.', `${BASE}?a=b`, 'c.d'],
        ['POST', `${BASE}?a=b`, 'c.d '],
      ] as const) {
        expect(verifySignature({ method, url, body, header, secret: SECRET, now: NOW, acceptV1: false }), `${method} ${url} ${body}`).to.equal(false);
      }
    });
  });

  it('accepts a v2-only header (acceptV1 off), and a v1-only header (an older engine) only while acceptV1 is on', () => {
    const url = `${BASE}?call=c1`;
    const header = sign(url, '');
    const request = { method: 'POST', url, body: '', secret: SECRET, now: NOW };
    expect(verifySignature({ ...request, header: only(header, 'v2'), acceptV1: false })).to.equal(true);
    expect(verifySignature({ ...request, header: only(header, 'v1') })).to.equal(true);
    expect(verifySignature({ ...request, header: only(header, 'v1'), acceptV1: true })).to.equal(true);
    expect(verifySignature({ ...request, header: only(header, 'v1'), acceptV1: false })).to.equal(false);
  });

  it('accepts any matching v2 among several (secret rotation), and refuses a malformed v2', () => {
    const url = `${BASE}?call=c1`;
    const good = /v2=([0-9a-f]{64})/.exec(sign(url, ''))?.[1] ?? '';
    const request = { method: 'POST', url, body: '', secret: SECRET, now: NOW, acceptV1: false };
    expect(verifySignature({ ...request, header: `t=${T},v2=${'cd'.repeat(32)},v2=${good}` })).to.equal(true);
    for (const bad of [`t=${T},v2=${good.slice(1)}`, `t=${T},v2=${good}x`, `t=${T},v2=`, `t=${T},v2=${'zz'.repeat(32)}`, `t=${T},v2`]) {
      expect(verifySignature({ ...request, header: bad }), bad).to.equal(false);
    }
  });

  it('returns false, never throws, for a missing, non-string or malformed header or argument', () => {
    const url = `${BASE}?call=c1`;
    const header = sign(url, '{}');
    const good = { method: 'POST', url, body: '{}', header, secret: SECRET, now: NOW };
    expect(verifySignature(good)).to.equal(true);
    const bad: Record<string, unknown>[] = [
      { header: undefined },
      { header: null },
      { header: 42 },
      { header: [header] },
      { header: { toString: () => header } },
      { header: '' },
      { header: ',' },
      { header: `${header},` },
      { header: `t=${T}` },
      { header: `t=${'9'.repeat(13)},${header.split(',').slice(1).join(',')}` },
      { header: `t=-1,${header.split(',').slice(1).join(',')}` },
      { secret: undefined },
      { secret: '' },
      { secret: Buffer.from(SECRET) },
      { method: undefined },
      { method: 7 },
      { method: '' },
      { url: undefined },
      { url: new URL(url) },
      { url: '' },
      { url: `${url}\n` },
      { method: 'POST\n' },
      { body: undefined },
      { body: Buffer.from('{}') },
      { body: {} },
      { now: 'now' },
      { now: Number.NaN },
      { toleranceSeconds: '300' },
      { toleranceSeconds: -1 },
      { toleranceSeconds: Number.NaN },
      { acceptV1: 'yes' },
    ];
    for (const change of bad) {
      const options = { ...good, ...change } as unknown as VerifyOptions;
      let result: unknown;
      expect(() => {
        result = verifySignature(options);
      }, JSON.stringify(change)).not.to.throw();
      expect(result, JSON.stringify(change)).to.equal(false);
    }
    for (const options of [undefined, null, 'header', 3]) {
      expect(verifySignature(options as unknown as VerifyOptions), String(options)).to.equal(false);
    }
    const throwing = Object.defineProperty({ ...good }, 'header', {
      get() {
        throw new Error('boom');
      },
    });
    expect(verifySignature(throwing)).to.equal(false);
  });

  it('refuses to sign a method or URL holding a line break, with a coded error', () => {
    for (const [method, url] of [
      ['POST', `${BASE}?a=1\nb`],
      ['PO\nST', BASE],
      ['POST', `${BASE}\r`],
    ] as const) {
      let caught: unknown;
      try {
        signRequest({ method, url, body: '', secret: SECRET, timestamp: T });
      } catch (error) {
        caught = error;
      }
      expect(caught).to.be.instanceOf(SignatureInputError).with.property('code', 'signature_input');
    }
  });
});
