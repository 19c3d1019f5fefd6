import { expect } from 'chai';
import { startServer, type ScriptedServer } from '../../support/http-servers.js';
import { CallbackQueue, QueueFetcher, jobIdFor, type CallbackQueueOptions } from '../../../lib/queue/index.js';
import { jobEvent, logger, live, QueueSuite, report, request, since, VALID_XML } from './harness.js';

/** A waiting side that never hears its replies: only looking jobs up can save it. */
class DeafQueue extends CallbackQueue {
  readonly dropped: string[] = [];
  private onDrop: (() => void) | undefined;

  constructor(options: CallbackQueueOptions) {
    super(options, logger);
  }

  /** Resolves once a reply has been dropped. */
  nextDrop(): Promise<void> {
    return new Promise((resolve) => {
      this.onDrop = resolve;
    });
  }

  protected override receiveReply(jobId: string): void {
    this.dropped.push(jobId);
    this.onDrop?.();
  }
}

describe('queue: a lost reply', () => {
  const suite = new QueueSuite('lost');
  let server: ScriptedServer;

  before(async () => {
    server = await startServer((_req, res) => res.end(VALID_XML));
    await suite.worker();
  });
  after(async () => {
    await suite.close();
    await server.close();
  });

  it('does not stall the call: the slow poll finds the result', async () => {
    const queue = suite.track(new DeafQueue({ connection: await suite.redisUrl(), prefix: suite.prefix, pollIntervalMs: 200 }));
    await queue.ready();
    const started = performance.now();
    const result = await new QueueFetcher({ queue }).fetch(request(`${server.origin}/a`), Date.now() + 5000, live());
    const elapsed = since(started);
    report(`answer found by look-up after ${elapsed} ms (poll every 200 ms)`);
    expect(result.ok, JSON.stringify(result)).to.equal(true);
    expect(queue.dropped).to.have.length(1);
    expect(elapsed).to.be.below(1000);
  });

  it('looks pending jobs up as soon as the reply subscriber reconnects', async () => {
    // A poll interval longer than the test: only the reconnection can find the result.
    const queue = suite.track(new DeafQueue({ connection: await suite.redisUrl(), prefix: suite.prefix, pollIntervalMs: 60_000 }));
    await queue.ready();
    const events = await suite.events();
    const req = request(`${server.origin}/b`);
    const dropped = queue.nextDrop();
    const completed = jobEvent(events, 'completed', jobIdFor(req.fields.call, req.step));
    const started = performance.now();
    const pending = new QueueFetcher({ queue }).fetch(req, Date.now() + 10_000, live());
    await Promise.all([dropped, completed]);

    // Kill the reply subscribers of this suite (both DeafQueues): their replies are lost
    // while ioredis reconnects them.
    const admin = await suite.admin();
    const clients = String(await admin.call('CLIENT', 'LIST'));
    const ids = [...clients.matchAll(new RegExp(`\\bid=(\\d+)\\b[^\\n]*name=${suite.prefix}:callbacks:replies:`, 'g'))].map((m) => m[1] ?? '');
    expect(ids, 'reply subscribers in CLIENT LIST').to.have.length(2);
    for (const id of ids) await admin.call('CLIENT', 'KILL', 'ID', id);

    const result = await pending;
    const elapsed = since(started);
    report(`answer found by look-up ${elapsed} ms after the enqueue, through a reconnection`);
    expect(result.ok, JSON.stringify(result)).to.equal(true);
    expect(elapsed).to.be.below(3000);
  });
});
