// The load tool's verdict on one call: completed, refused or failed, and why.
import { expect } from 'chai';
import { classify, type CallObservation } from '../../../scripts/load/call-outcome.js';

const base: CallObservation = { index: 0, from: '15550000000', placedAt: 1000, playbacksHeard: 0, playbacksFailed: 0 };
const answered: CallObservation = { ...base, stasisAt: 1010, answeredAt: 1012, firstAudioAt: 1015 };

describe('load: classifying a call', () => {
  it('is completed when answered, audio was heard and the engine hung up with normal clearing', () => {
    expect(classify({ ...answered, playbacksHeard: 1, endedAt: 2500, cause: 16 })).to.deep.equal({ outcome: 'completed' });
  });

  it('is refused when hung up before the answer with a cause that says "not now"', () => {
    expect(classify({ ...base, endedAt: 1005, cause: 34 })).to.deep.equal({ outcome: 'refused', reason: 'cause 34 (no circuit available)' });
    expect(classify({ ...base, endedAt: 1005, cause: 42 })).to.deep.equal({ outcome: 'refused', reason: 'cause 42 (switching equipment congestion)' });
  });

  it('fails a call hung up before the answer with another cause', () => {
    expect(classify({ ...base, endedAt: 1005, cause: 1 })).to.deep.equal({ outcome: 'failed', reason: 'not answered, cause 1 (unallocated number)' });
  });

  it('fails an answered call that ended without a sound, saying whether playbacks failed', () => {
    expect(classify({ ...answered, endedAt: 2000, cause: 16 })).to.deep.equal({ outcome: 'failed', reason: 'no audio, cause 16 (normal clearing)' });
    expect(classify({ ...answered, playbacksFailed: 1, endedAt: 2000, cause: 16 })).to.deep.equal({
      outcome: 'failed',
      reason: 'no audio, 1 playback(s) failed, cause 16 (normal clearing)',
    });
  });

  it('fails a call that heard audio but ended with an error cause', () => {
    expect(classify({ ...answered, playbacksHeard: 1, endedAt: 2000, cause: 41 })).to.deep.equal({ outcome: 'failed', reason: 'ended with cause 41 (temporary failure)' });
  });

  it('fails a call the tool had to hang up, and one it could not place', () => {
    expect(classify({ ...answered, playbacksHeard: 1, timedOut: true, endedAt: 40_000, cause: 16 })).to.deep.equal({ outcome: 'failed', reason: 'timed out after audio' });
    expect(classify({ ...base, timedOut: true })).to.deep.equal({ outcome: 'failed', reason: 'timed out without audio' });
    expect(classify({ ...base, notPlaced: 'create answered 503' })).to.deep.equal({ outcome: 'failed', reason: 'not placed: create answered 503' });
  });
});
