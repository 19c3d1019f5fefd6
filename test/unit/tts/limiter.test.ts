import { expect } from 'chai';
import { Limiter } from '../../../lib/tts/limiter.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('Limiter', () => {
  it('runs at most N tasks at once, in arrival order, and refuses beyond the queue limit', async () => {
    const limiter = new Limiter(2, 2);
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const gates = Array.from({ length: 5 }, () => deferred());
    const task = (i: number) => async () => {
      started.push(i);
      running++;
      peak = Math.max(peak, running);
      await gates[i]?.promise;
      running--;
      return i;
    };
    const runs = [0, 1, 2, 3, 4].map((i) => limiter.run(task(i)));
    expect(await runs[4]).to.deep.equal({ ran: false });
    expect(started).to.deep.equal([0, 1]);
    gates[0]?.resolve();
    expect(await runs[0]).to.deep.equal({ ran: true, value: 0 });
    // A task arriving now waits behind the queued ones instead of taking the freed slot.
    const late = limiter.run(task(4));
    for (const gate of gates) gate.resolve();
    expect(await Promise.all([runs[1], runs[2], runs[3], late])).to.deep.equal([1, 2, 3, 4].map((value) => ({ ran: true, value })));
    expect(started).to.deep.equal([0, 1, 2, 3, 4]);
    expect(peak).to.equal(2);
  });

  it('frees the slot when a task rejects', async () => {
    const limiter = new Limiter(1, 10);
    const failed = limiter.run(() => Promise.reject(new Error('boom')));
    const next = limiter.run(() => Promise.resolve('ok'));
    expect(await failed.catch((e: Error) => e.message)).to.equal('boom');
    expect(await next).to.deep.equal({ ran: true, value: 'ok' });
  });
});
