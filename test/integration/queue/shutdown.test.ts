import { expect } from 'chai';
import { setTimeout as delay } from 'node:timers/promises';
import { closedPort, startServer, type ScriptedServer } from '../../support/http-servers.js';
import { startWorkerRole } from '../../../app/roles/worker.js';
import { UrlPolicy } from '../../../lib/callback/url-policy.js';
import { QueueFetcher, jobIdFor } from '../../../lib/queue/index.js';
import { LOOPBACK, logger, live, QueueSuite, report, request, secrets, since, VALID_XML } from './harness.js';

describe('queue: stopping a worker', () => {
  const suite = new QueueSuite('stop');
  let server: ScriptedServer;
  /** Calls whose first request is held unanswered. */
  const holdFirst = new Set<string>();

  before(async () => {
    server = await startServer(async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (holdFirst.delete(url.searchParams.get('call') ?? '')) return;
      if (url.pathname === '/slow') await delay(300);
      res.end(VALID_XML);
    });
  });
  after(async () => {
    await suite.close();
    await server.close();
  });

  it('lets the active job finish: it is completed when stop() resolves, and the call gets its answer', async () => {
    const queueName = 'drain';
    const role = await startWorkerRole(
      { connection: await suite.redisUrl(), prefix: suite.prefix, queueName, policy: new UrlPolicy(LOOPBACK), secrets },
      logger,
    );
    const queue = await suite.waiter({ queueName });
    const req = request(`${server.origin}/slow`);
    const pending = new QueueFetcher({ queue }).fetch(req, Date.now() + 5000, live());
    await server.waitForRequests(server.requests.length + 1);
    await role.stop();
    const inspector = await suite.inspector(queueName);
    expect(await inspector.getJobState(jobIdFor(req.fields.call, req.step)), 'job state when stop() resolved').to.equal('completed');
    const result = await pending;
    expect(result.ok, JSON.stringify(result)).to.equal(true);
  });

  it('starts and stops at once while Redis is unreachable', async () => {
    const port = await closedPort();
    const started = performance.now();
    const role = await startWorkerRole(
      { connection: `redis://127.0.0.1:${port}`, prefix: suite.prefix, policy: new UrlPolicy(LOOPBACK), secrets },
      logger,
    );
    let ready = false;
    void role.ready.then(() => {
      ready = true;
    });
    await role.stop();
    report(`started and stopped in ${since(started)} ms`);
    expect(ready).to.equal(false);
    expect(since(started)).to.be.below(1000);
  });

  it('hands back a job still running after the grace period; another worker finishes it', async () => {
    const queueName = 'handback';
    const leaving = await suite.worker({ queueName, shutdownGraceMs: 200 });
    const queue = await suite.waiter({ queueName });
    const req = request(`${server.origin}/handback`);
    holdFirst.add(req.fields.call);
    const started = performance.now();
    const pending = new QueueFetcher({ queue }).fetch(req, Date.now() + 8000, live());
    await server.waitForRequests(server.requests.length + 1);

    await suite.worker({ queueName });
    await leaving.close();
    const result = await pending;
    report(`answer after ${since(started)} ms, through the second worker`);
    expect(result.ok, JSON.stringify(result)).to.equal(true);
    expect(server.requests.filter((r) => r.url.includes(req.fields.call))).to.have.length(2);
  });
});
