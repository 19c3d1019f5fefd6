import { expect } from 'chai';
import { backoffMs, hasTimeForAttempt, parseRetryAfter, planRetry, RETRY } from '../../../lib/callback/retry.js';

const NOW = 1_700_000_000_000;
const fixed = (value: number) => (): number => value;

describe('callback retry arithmetic', () => {
  describe('backoffMs', () => {
    it('grows the ceiling 100, 200, 400 ms… and caps it at 2000 ms', () => {
      const almostOne = fixed(0.999_999);
      expect([1, 2, 3, 4, 5, 6, 10].map((n) => backoffMs(n, almostOne))).to.deep.equal([99, 199, 399, 799, 1599, 1999, 1999]);
    });

    it('draws the wait anywhere from 0 up to the ceiling (full jitter)', () => {
      expect(backoffMs(3, fixed(0))).to.equal(0);
      expect(backoffMs(3, fixed(0.5))).to.equal(200);
    });
  });

  describe('parseRetryAfter', () => {
    it('reads delta-seconds', () => {
      expect(parseRetryAfter('2', NOW)).to.equal(2000);
      expect(parseRetryAfter(' 0 ', NOW)).to.equal(0);
    });

    it('reads an HTTP date relative to now, a past date meaning no wait', () => {
      expect(parseRetryAfter(new Date(NOW + 3000).toUTCString(), NOW)).to.equal(3000);
      expect(parseRetryAfter(new Date(NOW - 60_000).toUTCString(), NOW)).to.equal(0);
    });

    it('ignores what it cannot read', () => {
      expect(parseRetryAfter(undefined, NOW)).to.equal(undefined);
      expect(parseRetryAfter('', NOW)).to.equal(undefined);
      expect(parseRetryAfter('-1', NOW)).to.equal(undefined);
      expect(parseRetryAfter('soon', NOW)).to.equal(undefined);
    });
  });

  describe('planRetry', () => {
    it('waits the jittered backoff when there is time', () => {
      expect(planRetry({ attempt: 2, now: NOW, deadline: NOW + 5000, random: fixed(0.5) })).to.deep.equal({ retry: true, waitMs: 100 });
    });

    it('gives up when less than the minimum attempt window is left', () => {
      const deadline = NOW + RETRY.minAttemptMs - 1;
      expect(planRetry({ attempt: 1, now: NOW, deadline, random: fixed(0) })).to.deep.equal({ retry: false, why: 'deadline' });
      expect(hasTimeForAttempt(NOW, deadline)).to.equal(false);
      expect(hasTimeForAttempt(NOW, NOW + RETRY.minAttemptMs)).to.equal(true);
    });

    it('shortens a backoff that would start the attempt too late, never past the last useful start', () => {
      const decision = planRetry({ attempt: 6, now: NOW, deadline: NOW + 300, random: fixed(0.999) });
      expect(decision).to.deep.equal({ retry: true, waitMs: 300 - RETRY.minAttemptMs });
    });

    it('honours a Retry-After that still fits, waiting at least that long', () => {
      expect(planRetry({ attempt: 1, now: NOW, deadline: NOW + 5000, retryAfter: '1', random: fixed(0) })).to.deep.equal({
        retry: true,
        waitMs: 1000,
      });
    });

    it('keeps the backoff when it is longer than Retry-After', () => {
      const decision = planRetry({ attempt: 5, now: NOW, deadline: NOW + 5000, retryAfter: '0', random: fixed(0.5) });
      expect(decision).to.deep.equal({ retry: true, waitMs: 800 });
    });

    it('gives up at once when Retry-After points past the last useful start', () => {
      expect(planRetry({ attempt: 1, now: NOW, deadline: NOW + 5000, retryAfter: '10', random: fixed(0) })).to.deep.equal({
        retry: false,
        why: 'retry_after',
        retryAfterMs: 10_000,
      });
      // The attempt would start with 40 ms left, under the minimum window; with 50 ms it fits.
      const retryAfter = new Date(NOW + 5000).toUTCString();
      expect(planRetry({ attempt: 1, now: NOW, deadline: NOW + 5040, retryAfter })).to.deep.include({ retry: false });
      expect(planRetry({ attempt: 1, now: NOW, deadline: NOW + 5050, retryAfter, random: fixed(0) })).to.deep.equal({
        retry: true,
        waitMs: 5000,
      });
    });

    it('falls back to the backoff when Retry-After is unreadable', () => {
      expect(planRetry({ attempt: 1, now: NOW, deadline: NOW + 5000, retryAfter: 'later', random: fixed(0.5) })).to.deep.equal({
        retry: true,
        waitMs: 50,
      });
    });
  });
});
