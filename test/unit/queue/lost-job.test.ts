import { expect } from 'chai';
import { lostJobOf } from '../../../lib/queue/callback-worker.js';

describe('queue: BullMQ errors that say a worker lost its job', () => {
  const id = '7488b131-eb98-4c85-92b6-fe3ebf778013.12';

  it('names the job of each such error, its id holding dots', () => {
    for (const message of [
      `could not renew lock for job ${id}`,
      `Missing key for job ${id}. moveToFinished`,
      `Missing lock for job ${id}. moveToFinished`,
      `Lock mismatch for job ${id}. Cmd moveToFinished from active`,
      `Job ${id} is not in the active state. moveToFinished`,
    ]) {
      expect(lostJobOf(new Error(message)), message).to.equal(id);
    }
  });

  it('names no job for other errors', () => {
    expect(lostJobOf(new Error('connect ECONNREFUSED 127.0.0.1:6379'))).to.equal(undefined);
    expect(lostJobOf(new Error(`Missing key for parent job ${id}. moveToFinished`))).to.equal(undefined);
  });
});
