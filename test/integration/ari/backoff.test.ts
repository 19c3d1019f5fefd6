import { expect } from 'chai';
import { backoffDelay, RECONNECT_BACKOFF } from '../../../lib/ari/index.js';

describe('ARI: reconnection backoff', function () {
  it('starts at 0.5 s, doubles, is capped at 30 s, and is jittered into [delay/2, delay]', function () {
    const low = (attempt: number) => backoffDelay(attempt, RECONNECT_BACKOFF, () => 0);
    const high = (attempt: number) => backoffDelay(attempt, RECONNECT_BACKOFF, () => 1);
    expect([0, 1, 2, 3].map(high)).to.deep.equal([500, 1000, 2000, 4000]);
    expect([0, 1, 2, 3].map(low)).to.deep.equal([250, 500, 1000, 2000]);
    expect(high(6)).to.equal(30_000);
    expect(high(1000)).to.equal(30_000);
    expect(low(1000)).to.equal(15_000);
  });
});
