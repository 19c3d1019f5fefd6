import { expect } from 'chai';
import { classifyError, RedirectLoopError } from '../../../lib/callback/classify.js';
import { PolicyRefusal } from '../../../lib/callback/url-policy.js';

function coded(code: string, message = code): Error {
  return Object.assign(new Error(message), { code });
}

/** How got wraps what it catches: its own error, the original as `cause`, the code copied. */
function wrapped(inner: Error & { code?: string }): Error {
  return Object.assign(new Error(inner.message, { cause: inner }), { code: inner.code ?? 'ERR_GOT_REQUEST_ERROR' });
}

describe('callback error classification', () => {
  const cases: [string, Error, string, boolean][] = [
    ['ECONNREFUSED', coded('ECONNREFUSED'), 'connect', true],
    ['ECONNRESET', coded('ECONNRESET'), 'connect', true],
    ['socket hang up', coded('ECONNRESET', 'socket hang up'), 'connect', true],
    ['EPIPE', coded('EPIPE'), 'connect', true],
    ['ENOTFOUND', coded('ENOTFOUND'), 'dns', false],
    ['EAI_AGAIN', coded('EAI_AGAIN'), 'dns', true],
    ['a got time-out', coded('ETIMEDOUT', "Timeout awaiting 'request' for 300ms"), 'timeout', true],
    ['an expired certificate', coded('CERT_HAS_EXPIRED'), 'tls', false],
    ['a self-signed certificate', coded('DEPTH_ZERO_SELF_SIGNED_CERT'), 'tls', false],
    ['a wrong host name', coded('ERR_TLS_CERT_ALTNAME_INVALID'), 'tls', false],
    ['a handshake failure', coded('EPROTO', 'SSL routines:ssl3_get_record:wrong version number'), 'tls', false],
    ['too many redirects', coded('ERR_TOO_MANY_REDIRECTS'), 'redirects', false],
    ['a redirect loop', new RedirectLoopError('http://x/'), 'redirects', false],
    ['a policy refusal', new PolicyRefusal('the URL is not allowed: x'), 'policy', false],
    ['an unsupported redirect scheme', coded('ERR_UNSUPPORTED_PROTOCOL'), 'policy', false],
    ['something unknown', new Error('odd'), 'connect', true],
  ];
  for (const [what, error, code, retryable] of cases) {
    it(`${what} → ${code}${retryable ? ', retried' : ''}`, () => {
      for (const candidate of [error, wrapped(error)]) {
        const classified = classifyError(candidate);
        expect(classified.failure.code).to.equal(code);
        expect(classified.retryable).to.equal(retryable);
        expect(classified.failure.reason).to.be.a('string').and.not.match(/[A-Z]{4,}/);
      }
    });
  }

  it('keeps the policy reason as it is', () => {
    expect(classifyError(wrapped(new PolicyRefusal('the URL is not allowed: 10.0.0.1 is a private address'))).failure).to.deep.equal({
      code: 'policy',
      reason: 'the URL is not allowed: 10.0.0.1 is a private address',
    });
  });
});
