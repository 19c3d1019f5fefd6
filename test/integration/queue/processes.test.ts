import { expect } from 'chai';
import { startServer, type ScriptedServer } from '../../support/http-servers.js';
import { QueueFetcher, jobIdFor } from '../../../lib/queue/index.js';
import { jobEvent, live, QueueSuite, report, request, since, VALID_XML } from './harness.js';

function callOf(url: string): string {
  return new URL(url, 'http://x').searchParams.get('call') ?? '';
}

describe('queue: workers in other processes', () => {
  const suite = new QueueSuite('procs');
  let server: ScriptedServer;
  /** Calls whose first request is held unanswered (the worker is killed meanwhile). */
  const holdFirst = new Set<string>();

  before(async () => {
    server = await startServer((req, res) => {
      const call = callOf(req.url ?? '');
      if (holdFirst.delete(call)) return; // the first request of such a call is never answered
      res.end(VALID_XML);
    });
  });
  after(async () => {
    await suite.close();
    await server.close();
  });

  it('two worker processes on one queue fetch each of 200 jobs exactly once', async () => {
    const queueName = 'pair';
    await Promise.all([suite.workerProcess({ queueName }), suite.workerProcess({ queueName })]);
    const queue = await suite.waiter({ queueName });
    const fetcher = new QueueFetcher({ queue });
    const requests = Array.from({ length: 200 }, () => request(`${server.origin}/pair`));
    const started = performance.now();
    const results = await Promise.all(requests.map((r) => fetcher.fetch(r, Date.now() + 10_000, live())));
    report(`200 callbacks through 2 worker processes in ${since(started)} ms`);
    expect(results.filter((r) => !r.ok)).to.deep.equal([]);

    const perCall = new Map<string, number>();
    for (const r of server.requests.filter((x) => x.url.startsWith('/pair'))) {
      perCall.set(callOf(r.url), (perCall.get(callOf(r.url)) ?? 0) + 1);
    }
    expect(perCall.size).to.equal(200);
    expect([...perCall.values()].every((n) => n === 1)).to.equal(true);

    const inspector = await suite.inspector(queueName);
    const jobs = await Promise.all(requests.map((r) => inspector.getJob(jobIdFor(r.fields.call, r.step))));
    const workers = new Set(jobs.map((job) => job?.processedBy));
    report(`jobs taken by ${workers.size} workers`);
    expect(workers.size).to.equal(2);
  });

  it('a worker killed mid-job: another worker takes the job over and the call gets its answer', async () => {
    const queueName = 'takeover';
    const doomed = await suite.workerProcess({ queueName });
    const queue = await suite.waiter({ queueName });
    const req = request(`${server.origin}/takeover`);
    holdFirst.add(req.fields.call);
    const budget = 10_000;
    const started = performance.now();
    const pending = new QueueFetcher({ queue }).fetch(req, Date.now() + budget, live());
    await server.waitForRequests(server.requests.length + 1);

    await suite.workerProcess({ queueName });
    const killedAt = performance.now();
    await doomed.kill('SIGKILL');
    const result = await pending;
    report(`answer ${since(killedAt)} ms after SIGKILL (${since(started)} ms of a ${budget} ms budget)`);
    expect(result.ok, JSON.stringify(result)).to.equal(true);
    expect(since(started)).to.be.below(budget);
    expect(server.requests.filter((r) => callOf(r.url) === req.fields.call)).to.have.length(2);
  });

  it('a worker killed mid-job with too little budget left: the call gets `timeout` in time, and nobody fetches again', async () => {
    const queueName = 'short';
    const doomed = await suite.workerProcess({ queueName });
    const queue = await suite.waiter({ queueName });
    const events = await suite.events(queueName);
    const req = request(`${server.origin}/short`);
    holdFirst.add(req.fields.call);
    const budget = 1500;
    const started = performance.now();
    const pending = new QueueFetcher({ queue }).fetch(req, Date.now() + budget, live());
    await server.waitForRequests(server.requests.length + 1);

    await suite.workerProcess({ queueName });
    await doomed.kill('SIGKILL');
    const finished = jobEvent(events, 'completed', jobIdFor(req.fields.call, req.step));
    const result = await pending;
    const elapsed = since(started);
    report(`timeout after ${elapsed} ms for a ${budget} ms budget`);
    expect(!result.ok && result.failure.code).to.equal('timeout');
    expect(elapsed).to.be.within(budget - 5, budget + 300);

    // The stalled job is re-queued and taken by the survivor, which does not fetch it.
    await finished;
    expect(server.requests.filter((r) => callOf(r.url) === req.fields.call)).to.have.length(1);
  });
});
