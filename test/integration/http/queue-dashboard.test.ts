// The queue dashboard (Bull Board at /admin/queues, issue 11) over HTTP: everything under
// /admin asks for ADMIN_USERNAME / ADMIN_PASSWORD (the page, its assets, its API); without
// them /admin does not exist; the dashboard writes (retry) and closes its Redis on stop.
import { expect } from 'chai';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { QUEUE_DASHBOARD_PATH } from '../../../lib/http/queue-dashboard.js';
import { sharedRedisUrl, uniquePrefix } from '../../support/redis.js';
import { stderrLogger } from '../../support/stderr-logger.js';
import { addFailedJob, ADMIN, basic, dashboardQueues, startDashboardRole } from './dashboard-support.js';

async function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Response> {
  return fetch(url, { method, headers, signal: AbortSignal.timeout(5000) });
}

/** The connections whose name (CLIENT SETNAME) starts with `prefix`. */
async function namedConnections(admin: Redis, prefix: string): Promise<string[]> {
  const list = await admin.client('LIST');
  return String(list)
    .split('\n')
    .map((line) => /\bname=(\S*)/.exec(line)?.[1] ?? '')
    .filter((name) => name.startsWith(prefix));
}

describe('http role: the queue dashboard at /admin/queues (Basic auth)', function () {
  const prefix = uniquePrefix('dashboard-http');
  let redisUrl: string;
  let served: Awaited<ReturnType<typeof startDashboardRole>>;
  let page: string;
  const log = stderrLogger('error');

  before(async function () {
    redisUrl = await sharedRedisUrl();
    await addFailedJob(redisUrl, prefix, 'failed-1');
    served = await startDashboardRole({ admin: ADMIN, queues: dashboardQueues(redisUrl, prefix) }, log);
    page = `${served.origin}${QUEUE_DASHBOARD_PATH}`;
  });
  after(async function () {
    await served?.stop();
    const client = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    const queue = new Queue('callbacks', { connection: client, prefix });
    await queue.obliterate({ force: true });
    await queue.close();
    client.disconnect();
  });

  it('asks for the credentials: none 401 with a Basic challenge, a wrong password 401, the right ones 200 (the page)', async function () {
    const none = await get(page);
    expect(none.status).to.equal(401);
    expect(none.headers.get('www-authenticate')).to.match(/^Basic realm="opentact-ari"/);
    expect((await get(page, basic(ADMIN.username, 'wrong'))).status).to.equal(401);
    expect((await get(page, basic('someone', ADMIN.password))).status).to.equal(401);
    const ok = await get(page, basic(ADMIN.username, ADMIN.password));
    expect(ok.status).to.equal(200);
    expect(ok.headers.get('content-type')).to.match(/^text\/html/);
    const html = await ok.text();
    expect(html).to.include(`<base href="${QUEUE_DASHBOARD_PATH}/"`);
    // Nothing the page loads comes from elsewhere (Bull Board's page links Google Fonts).
    expect(html).not.to.match(/(?:src|href)="https?:/);
    expect(log.entries.find((e) => e.msg === 'serving the queue dashboard to ADMIN_USERNAME')?.obj).to.deep.equal({
      path: QUEUE_DASHBOARD_PATH,
      prefix,
      queues: ['callbacks', 'events'],
    });
  });

  it('guards its static assets and its API the same way', async function () {
    const html = await (await get(page, basic(ADMIN.username, ADMIN.password))).text();
    const script = /src="(static\/js\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script, 'a script of the page').to.be.a('string');
    const asset = `${page}/${script ?? ''}`;
    expect((await get(asset)).status).to.equal(401);
    const assetOk = await get(asset, basic(ADMIN.username, ADMIN.password));
    expect(assetOk.status).to.equal(200);
    expect(assetOk.headers.get('content-type')).to.match(/javascript/);

    const api = `${page}/api/queues?activeQueue=callbacks&status=failed&page=1&jobsPerPage=10`;
    expect((await get(api)).status).to.equal(401);
    expect((await get(api, basic(ADMIN.username, 'wrong'))).status).to.equal(401);
    const apiOk = await get(api, basic(ADMIN.username, ADMIN.password));
    expect(apiOk.status).to.equal(200);
    const body = (await apiOk.json()) as { queues: { name: string; counts: Record<string, number>; readOnlyMode: boolean }[] };
    // Every queue of the engine: the callbacks and the call events.
    expect(body.queues.map((q) => q.name)).to.deep.equal(['callbacks', 'events']);
    const callbacks = body.queues.find((q) => q.name === 'callbacks');
    expect(callbacks?.counts['failed']).to.equal(1);
    expect(callbacks?.readOnlyMode).to.equal(false);
  });

  it('asks for the credentials before a 404 anywhere else under /admin', async function () {
    for (const other of ['/admin', '/admin/', '/admin/nothing-here', `${QUEUE_DASHBOARD_PATH}/static/no-such-file.js`]) {
      expect((await get(`${served.origin}${other}`)).status, other).to.equal(401);
      expect((await get(`${served.origin}${other}`, basic(ADMIN.username, ADMIN.password))).status, other).to.equal(404);
    }
    // Outside /admin nothing asks.
    expect((await get(`${served.origin}/health`)).status).to.equal(200);
  });

  it('is read-write: retrying the failed jobs through its API moves them back to waiting', async function () {
    const retry = `${page}/api/queues/callbacks/retry/failed`;
    expect((await get(retry, {}, 'PUT')).status).to.equal(401);
    expect((await get(retry, basic(ADMIN.username, ADMIN.password), 'PUT')).status).to.equal(200);
    const client = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    const queue = new Queue('callbacks', { connection: client, prefix });
    try {
      expect(await queue.getJobState('failed-1')).to.equal('waiting');
    } finally {
      await queue.close();
      client.disconnect();
    }
  });

  it('closes its Redis connection when the role stops', async function () {
    const admin = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    const own = await startDashboardRole({ admin: ADMIN, queues: dashboardQueues(redisUrl, `${prefix}-own`) }, stderrLogger('error'));
    try {
      // The connection is opened at start and named after the prefix; a first request waits for it.
      expect((await get(`${own.origin}${QUEUE_DASHBOARD_PATH}/api/queues`, basic(ADMIN.username, ADMIN.password))).status).to.equal(200);
      expect(await namedConnections(admin, `${prefix}-own:dashboard:`)).to.have.length.greaterThan(0);
      await own.stop();
      expect(await namedConnections(admin, `${prefix}-own:dashboard:`)).to.deep.equal([]);
    } finally {
      await own.stop();
      admin.disconnect();
    }
  });
});

describe('http role: /admin without ADMIN_USERNAME and ADMIN_PASSWORD', function () {
  it('is not served at all (404, no challenge), and the start-up log says how to enable it', async function () {
    const log = stderrLogger('error');
    const served = await startDashboardRole({ queues: dashboardQueues(await sharedRedisUrl(), uniquePrefix('dashboard-off')) }, log);
    try {
      for (const path of [QUEUE_DASHBOARD_PATH, `${QUEUE_DASHBOARD_PATH}/`, `${QUEUE_DASHBOARD_PATH}/api/queues`, '/admin/recordings/x.wav', '/admin']) {
        const answer = await get(`${served.origin}${path}`, basic(ADMIN.username, ADMIN.password));
        expect(answer.status, path).to.equal(404);
        expect(answer.headers.get('www-authenticate'), path).to.equal(null);
      }
      const lines = log.entries.filter((e) => e.msg?.startsWith('/admin is not served'));
      expect(lines.map((e) => e.msg)).to.deep.equal([
        '/admin is not served: set ADMIN_USERNAME and ADMIN_PASSWORD to serve the queue dashboard at /admin/queues, recordings at /admin/recordings/<name>.wav and call trails at /admin/calls',
      ]);
      expect(log.entries.filter((e) => e.msg?.includes('queue dashboard') && e !== lines[0])).to.deep.equal([]);
    } finally {
      await served.stop();
    }
  });
});
