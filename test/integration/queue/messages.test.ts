import { expect } from 'chai';
import { Queue } from 'bullmq';
import { RecentCancels } from '../../../lib/queue/recent-cancels.js';
import { isFetchOutcome, jobIdFor, parseCancel, parseReply } from '../../../lib/queue/index.js';
import { QueueSuite } from './harness.js';

describe('queue: job ids and messages', () => {
  const suite = new QueueSuite('ids');
  after(() => suite.close());

  it('makes job ids BullMQ accepts, one per call and step, whatever the call id holds', async () => {
    expect(jobIdFor('0b6f1c2e-2f7e-4c47-9d7e-3f1b5b0d7a10', 3)).to.equal('0b6f1c2e-2f7e-4c47-9d7e-3f1b5b0d7a10.3');
    expect(jobIdFor('a:b', 1)).to.not.include(':');
    expect(jobIdFor('a.1', 2)).to.not.equal(jobIdFor('a', 12));
    const queue: Queue = await suite.inspector('ids');
    for (const call of ['a:b', 'x:y:z', '42', 'plain']) {
      const job = await queue.add('fetch', {}, { jobId: jobIdFor(call, 1) });
      expect(job.id).to.equal(jobIdFor(call, 1));
    }
  });

  it('reads back replies and cancels, and refuses what is not one', () => {
    const outcome = { ok: false, failure: { code: 'http_status', reason: 'the server answered 404', status: 404 }, attempts: 1 };
    expect(parseReply(JSON.stringify({ jobId: 'j.1', outcome }))).to.deep.equal({ jobId: 'j.1', outcome });
    expect(parseReply(JSON.stringify({ jobId: 'j.1', outcome: { ...outcome, failure: { code: 'nope', reason: '' } } }))).to.equal(undefined);
    expect(parseReply('not json')).to.equal(undefined);
    expect(isFetchOutcome({ ok: true, status: 200, body: '<Response/>', attempts: 1 })).to.equal(true);
    expect(isFetchOutcome({ ok: true, status: 200, attempts: 1 })).to.equal(false);
    expect(parseCancel(JSON.stringify({ jobId: 'j.1', until: 5 }))).to.deep.equal({ jobId: 'j.1', until: 5 });
    expect(parseCancel(JSON.stringify({ jobId: 'j.1' }))).to.equal(undefined);
  });

  it('remembers a cancel until its deadline', () => {
    const cancels = new RecentCancels();
    cancels.add('j.1', 1000, 0);
    cancels.add('j.2', 10, 20); // already past: not kept
    expect(cancels.has('j.1', 999)).to.equal(true);
    expect(cancels.has('j.1', 1000)).to.equal(false);
    expect(cancels.has('j.2', 0)).to.equal(false);
  });
});
