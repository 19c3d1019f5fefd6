import { expect } from 'chai';
import type { ServerResponse } from 'node:http';
import { startServer, type ScriptedServer } from '../../support/http-servers.js';
import { CallbackQueue, QueueFetcher, jobIdFor } from '../../../lib/queue/index.js';
import { jobEvent, live, QueueSuite, report, request, since, VALID_XML } from './harness.js';

/** Resolves true when the response was closed before it was sent: the client gave up. */
function abortedByClient(res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => res.once('close', () => resolve(!res.writableEnded)));
}

describe('queue: the caller hanging up', () => {
  const suite = new QueueSuite('cancel');
  let server: ScriptedServer;
  const held = new Map<string, Promise<boolean>>();

  before(async () => {
    server = await startServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/hold') {
        held.set(url.searchParams.get('call') ?? '', abortedByClient(res));
        return; // never answered
      }
      res.end(VALID_XML);
    });
  });
  after(async () => {
    await suite.close();
    await server.close();
  });

  it('aborts a fetch in progress: `cancelled` at once, the request aborted, the job finished', async () => {
    await suite.worker();
    const queue = await suite.waiter();
    const events = await suite.events();
    const req = request(`${server.origin}/hold`);
    const hangUp = new AbortController();
    const pending = new QueueFetcher({ queue }).fetch(req, Date.now() + 5000, hangUp.signal);
    const count = server.requests.length;
    await server.waitForRequests(count + 1);

    const finished = jobEvent(events, 'completed', jobIdFor(req.fields.call, req.step));
    const started = performance.now();
    hangUp.abort();
    const result = await pending;
    const elapsed = since(started);
    report(`cancelled ${elapsed} ms after the hang-up`);
    expect(result).to.deep.include({ ok: false });
    expect(!result.ok && result.failure.code).to.equal('cancelled');
    expect(elapsed).to.be.below(250); // at once, next to the seconds the fetch would have taken

    expect(await held.get(req.fields.call)).to.equal(true);
    await finished;
    const job = await (await suite.inspector()).getJob(jobIdFor(req.fields.call, req.step));
    expect(JSON.stringify(job?.returnvalue ?? null)).to.match(/"code":"cancelled"|null/);
  });

  it('removes a job still waiting, so no worker ever fetches it', async () => {
    const queueName = 'idle';
    const queue: CallbackQueue = await suite.waiter({ queueName });
    const events = await suite.events(queueName);
    const inspector = await suite.inspector(queueName);
    const req = request(`${server.origin}/never`);
    const jobId = jobIdFor(req.fields.call, req.step);
    const hangUp = new AbortController();

    const added = jobEvent(events, 'added', jobId);
    const pending = new QueueFetcher({ queue }).fetch(req, Date.now() + 5000, hangUp.signal);
    await added;
    expect(await inspector.getJobState(jobId)).to.equal('waiting');
    const removed = jobEvent(events, 'removed', jobId);
    const started = performance.now();
    hangUp.abort();
    const result = await pending;
    expect(since(started)).to.be.below(250); // at once, next to the seconds the fetch would have taken
    expect(!result.ok && result.failure.code).to.equal('cancelled');
    await removed;
    expect(await inspector.getJob(jobId)).to.equal(undefined);

    // A worker that starts now takes the next job, and never saw the removed one.
    await suite.worker({ queueName });
    const sentinel = request(`${server.origin}/sentinel`);
    const after = await new QueueFetcher({ queue }).fetch(sentinel, Date.now() + 3000, live());
    expect(after.ok, JSON.stringify(after)).to.equal(true);
    expect(server.requests.some((r) => r.url.includes(req.fields.call))).to.equal(false);
  });
});
