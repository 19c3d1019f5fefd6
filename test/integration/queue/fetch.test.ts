import { expect } from 'chai';
import { setTimeout as delay } from 'node:timers/promises';
import { closedPort, startServer, type ScriptedServer } from '../../support/http-servers.js';
import { SIGNATURE_HEADER } from '../../../lib/callback/index.js';
import { CallbackQueue, QueueFetcher, jobIdFor, type CallbackJobData } from '../../../lib/queue/index.js';
import { APP, logger, live, QueueSuite, report, request, since, VALID_XML } from './harness.js';

describe('queue: a callback through the queue', () => {
  const suite = new QueueSuite('fetch');
  let server: ScriptedServer;
  let queue: CallbackQueue;
  let fetcher: QueueFetcher;
  /** Requests seen per call on /flaky. */
  const flaky = new Map<string, number>();

  before(async () => {
    server = await startServer(async (req, res) => {
      if (req.url?.startsWith('/flaky')) {
        // 503 three times for a call, then no answer.
        const call = new URL(req.url, 'http://x').searchParams.get('call') ?? '';
        const seen = (flaky.get(call) ?? 0) + 1;
        flaky.set(call, seen);
        if (seen <= 3) res.writeHead(503).end();
        return;
      }
      if (req.url?.startsWith('/slow')) await delay(3000);
      if (req.url?.startsWith('/plain')) return void res.writeHead(202, { 'content-type': 'text/plain' }).end('accepted, not XML');
      if (!res.destroyed) res.end(VALID_XML);
    });
    await suite.worker();
    queue = await suite.waiter();
    fetcher = new QueueFetcher({ queue, app: APP, signingKeyId: APP.uuid });
  });
  after(async () => {
    await suite.close();
    await server.close();
  });

  it('returns the document, with the fields in the query and the method as asked', async () => {
    const req = request(`${server.origin}/next?keep=1`, { method: 'GET', fields: { ...request('').fields, tag: 't1' } });
    const result = await fetcher.fetch(req, Date.now() + 3000, live());
    expect(result.ok, JSON.stringify(result)).to.equal(true);
    if (!result.ok) return;
    expect(result.document.verbs.map((v) => v.kind)).to.deep.equal(['Hangup']);
    const seen = server.requests.find((r) => r.url.includes(req.fields.call));
    expect(seen?.method).to.equal('GET');
    const query = new URL(seen?.url ?? '', server.origin).searchParams;
    expect(query.get('keep')).to.equal('1');
    expect(Object.fromEntries([...query].filter(([k]) => k !== 'keep'))).to.deep.equal({ ...req.fields });
    // The worker signed it with the secret it holds; the job carried only the key id.
    expect(seen?.headers[SIGNATURE_HEADER]).to.be.a('string');
  });

  it('send (for <Curl>): a 2xx whose body is no document is a success, signed and with the fields, the body not read', async () => {
    const req = request(`${server.origin}/plain`, { method: 'POST', body: true });
    const result = await fetcher.send(req, Date.now() + 3000, live());
    expect(result).to.deep.equal({ ok: true, status: 202, attempts: 1 });
    const seen = server.requests.find((r) => r.body.includes(req.fields.call));
    expect(JSON.parse(seen?.body ?? '{}')).to.deep.equal({ ...req.fields, app: APP });
    expect(seen?.headers[SIGNATURE_HEADER]).to.be.a('string');
  });

  it('sends the fields and the app as a JSON body when body is true', async () => {
    const req = request(`${server.origin}/json`, { method: 'PATCH', body: true });
    const result = await fetcher.fetch(req, Date.now() + 3000, live());
    expect(result.ok, JSON.stringify(result)).to.equal(true);
    const seen = server.requests.find((r) => r.body.includes(req.fields.call));
    expect(seen?.method).to.equal('PATCH');
    expect(seen?.headers['content-type']).to.equal('application/json');
    expect(JSON.parse(seen?.body ?? '{}')).to.deep.equal({ ...req.fields, app: APP });
  });

  it('holds the budget: a server slower than the budget gives `timeout` in time', async () => {
    const budget = 1000;
    const started = performance.now();
    const result = await fetcher.fetch(request(`${server.origin}/slow`), Date.now() + budget, live());
    const elapsed = since(started);
    report(`timeout after ${elapsed} ms for a ${budget} ms budget (overshoot ${Math.round((elapsed - budget) * 10) / 10} ms)`);
    expect(result.ok).to.equal(false);
    if (result.ok) return;
    expect(result.failure.code).to.equal('timeout');
    expect(elapsed).to.be.within(budget - 5, budget + 300);
  });

  it('reports the attempts the worker made when the deadline comes before its result', async () => {
    const req = request(`${server.origin}/flaky`);
    const result = await fetcher.fetch(req, Date.now() + 1500, live());
    expect(result).to.deep.include({ ok: false, attempts: 4 });
    expect(!result.ok && result.failure.code).to.equal('timeout');
    expect(flaky.get(req.fields.call)).to.equal(4);
  });

  it('fetches once when the same call and step are enqueued twice', async () => {
    const req = request(`${server.origin}/twice`);
    const before = server.requests.filter((r) => r.url.startsWith('/twice')).length;
    const other = await suite.waiter();
    const [first, second] = await Promise.all([
      fetcher.fetch(req, Date.now() + 3000, live()),
      new QueueFetcher({ queue: other, app: APP }).fetch(req, Date.now() + 3000, live()),
    ]);
    expect(first.ok, JSON.stringify(first)).to.equal(true);
    expect(second.ok, JSON.stringify(second)).to.equal(true);
    expect(server.requests.filter((r) => r.url.startsWith('/twice')).length - before).to.equal(1);
    // A retry after the first finished finds the finished job, and still fetches nothing.
    const third = await fetcher.fetch(req, Date.now() + 3000, live());
    expect(third.ok, JSON.stringify(third)).to.equal(true);
    expect(server.requests.filter((r) => r.url.startsWith('/twice')).length - before).to.equal(1);
  });

  it('does not fetch a job whose deadline has passed when a worker takes it', async () => {
    const inspector = await suite.inspector();
    const call = 'late-call';
    const data: CallbackJobData = {
      spec: {
        url: `${server.origin}/late`,
        method: 'POST',
        body: false,
        fields: { call },
        deadline: Date.now() - 1,
        expect: 'document',
      },
      replyTo: `${suite.prefix}:nobody`,
    };
    const job = await inspector.add('fetch', data, { jobId: jobIdFor(call, 1) });
    const outcome: unknown = await job.waitUntilFinished(await suite.events());
    expect(outcome).to.deep.include({ ok: false, attempts: 0 });
    expect(JSON.stringify(outcome)).to.include('"code":"timeout"');
    expect(server.requests.some((r) => r.url.startsWith('/late'))).to.equal(false);
  });

  it('fails with `connect`, naming Redis, when Redis is unreachable', async () => {
    const port = await closedPort();
    const unreachable = suite.track(
      new CallbackQueue({ connection: `redis://127.0.0.1:${port}`, prefix: suite.prefix, enqueueTimeoutMs: 800 }, logger),
    );
    for (const budget of [500, 3000]) {
      const started = performance.now();
      const outcome = await new QueueFetcher({ queue: unreachable }).fetch(
        request(`${server.origin}/never`),
        Date.now() + budget,
        live(),
      );
      const elapsed = since(started);
      report(`Redis down, budget ${budget} ms: ${elapsed} ms, ${JSON.stringify(outcome.ok ? 'ok' : outcome.failure)}`);
      expect(outcome.ok).to.equal(false);
      if (outcome.ok) return;
      expect(outcome.failure.code).to.equal('connect');
      expect(outcome.failure.reason).to.match(/Redis at 127\.0\.0\.1:\d+ is unreachable/);
      expect(elapsed).to.be.below(Math.min(budget, 800) + 100);
    }
  });
});
