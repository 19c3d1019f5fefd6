import { expect } from 'chai';
import type { ServerResponse } from 'node:http';
import { UrlPolicy } from '../../../lib/callback/url-policy.js';
import { CallbackQueue, CallbackWorker, QueueFetcher, jobIdFor } from '../../../lib/queue/index.js';
import { startServer, type ScriptedServer } from '../../support/http-servers.js';
import { uniquePrefix } from '../../support/redis.js';
import { RestartableRedis } from '../../support/restartable-redis.js';
import { silentLogger } from '../../support/silent-logger.js';
import { stderrLogger, type LogEntry, type TestLogger } from '../../support/stderr-logger.js';
import { LOOPBACK, QueueSuite, live, report, request, secrets, since } from './harness.js';

/** Resolves true when the response was closed before it was sent: the client gave up. */
function abortedByClient(res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => res.once('close', () => resolve(!res.writableEnded)));
}

/** `promise`, or a failure naming `what` after `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  const signal = AbortSignal.timeout(ms);
  return Promise.race([
    promise,
    new Promise<never>((_resolve, reject) =>
      signal.addEventListener('abort', () => reject(new Error(`${what}: not within ${ms} ms`)), { once: true }),
    ),
  ]);
}

function about(jobId: string, entries: readonly LogEntry[]): LogEntry[] {
  return entries.filter((entry) => (entry.obj as { jobId?: unknown }).jobId === jobId || String(entry.msg).includes(jobId));
}

function describeEntries(entries: readonly LogEntry[]): string {
  return entries.map((e) => `${e.level} ${e.msg ?? ''} ${JSON.stringify(e.obj, (_k, v: unknown) => (v instanceof Error ? v.message : v))}`).join('\n');
}

describe('queue: jobs Redis loses while a worker runs them', () => {
  let server: ScriptedServer;
  /** Per call: whether its held request was given up by the worker. */
  const held = new Map<string, Promise<boolean>>();

  before(async () => {
    server = await startServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      held.set(url.searchParams.get('call') ?? '', abortedByClient(res));
      // never answered
    });
  });
  after(async () => {
    await server.close();
  });

  it('Redis restarted without its data mid-job: no error line, at most two warnings per job, the fetches aborted', async () => {
    const redis = await RestartableRedis.create();
    await redis.start();
    const prefix = uniquePrefix('lost-restart');
    const log: TestLogger = stderrLogger('error', '[lost worker] ');
    let worker: CallbackWorker | undefined;
    let queue: CallbackQueue | undefined;
    try {
      worker = await CallbackWorker.start({ connection: redis.url, prefix, policy: new UrlPolicy(LOOPBACK), secrets }, log);
      queue = new CallbackQueue({ connection: redis.url, prefix, pollIntervalMs: 200 }, silentLogger);
      await queue.ready();
      const fetcher = new QueueFetcher({ queue });
      const requests = [1, 2, 3].map(() => request(`${server.origin}/lost`));
      const budget = 10_000;
      const pending = requests.map((r) => fetcher.fetch(r, Date.now() + budget, live()));
      await server.waitForRequests(server.requests.length + requests.length);

      const restartedAt = performance.now();
      await redis.restart();
      const results = await within(Promise.all(pending), budget, 'the calls hearing of their lost jobs');
      report(`calls told ${since(restartedAt)} ms after the restart`);
      for (const result of results) expect(!result.ok && result.failure.code, JSON.stringify(result)).to.equal('connect');
      // The worker stopped working on them: each request was aborted, well before its deadline.
      const aborted = await within(Promise.all(requests.map((r) => held.get(r.fields.call))), 3000, 'the fetches aborted');
      expect(aborted).to.deep.equal([true, true, true]);
      report(`fetches aborted ${since(restartedAt)} ms after the restart`);

      await worker.close(0);
      const errors = log.entries.filter((e) => e.level === 'error');
      expect(errors, describeEntries(errors)).to.deep.equal([]);
      for (const r of requests) {
        const lines = about(jobIdFor(r.fields.call, r.step), log.entries);
        expect(lines.length, describeEntries(log.entries)).to.be.within(1, 2);
        expect(lines.every((e) => e.level === 'warn')).to.equal(true);
      }
    } finally {
      await worker?.close(0);
      await queue?.close();
      await redis.dispose();
    }
  });

  describe('on the shared Redis', () => {
    const suite = new QueueSuite('lost-key');
    after(() => suite.close());

    it('a job whose key is removed while it runs is not worked on: its fetch aborted, one warning with its id, no error', async () => {
      const log: TestLogger = stderrLogger('error', '[lost worker] ');
      const worker = suite.track(
        await CallbackWorker.start(
          { connection: await suite.redisUrl(), prefix: suite.prefix, policy: new UrlPolicy(LOOPBACK), secrets },
          log,
        ),
      );
      const queue = await suite.waiter({ pollIntervalMs: 200 });
      const req = request(`${server.origin}/removed`);
      const jobId = jobIdFor(req.fields.call, req.step);
      const pending = new QueueFetcher({ queue }).fetch(req, Date.now() + 10_000, live());
      await server.waitForRequests(server.requests.length + 1);

      // What the waiting side's removal does once a job's lock has lapsed (a long stall).
      const admin = await suite.admin();
      const removedAt = performance.now();
      await admin.del(`${suite.prefix}:callbacks:${jobId}`, `${suite.prefix}:callbacks:${jobId}:lock`);
      expect(await within(held.get(req.fields.call) ?? Promise.resolve(false), 3000, 'the fetch aborted')).to.equal(true);
      report(`fetch aborted ${since(removedAt)} ms after the removal`);
      const result = await within(pending, 5000, 'the call told');
      expect(!result.ok && result.failure.code).to.equal('connect');

      await worker.close(0);
      expect(log.entries.filter((e) => e.level === 'error')).to.deep.equal([]);
      const lines = about(jobId, log.entries);
      expect(lines, describeEntries(log.entries)).to.have.length(1);
      expect(lines[0]?.level).to.equal('warn');
      expect(lines[0]?.obj).to.include({ jobId });
    });
  });
});
