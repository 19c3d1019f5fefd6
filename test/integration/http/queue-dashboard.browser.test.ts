// The queue dashboard in a real browser (issue 11): Debian's headless Chromium, driven by
// playwright-core, loads /admin/queues from the http role. Refused without credentials;
// with them, after real callback fetches ran through the queue (a worker of the engine
// against a loopback server), the page shows the callbacks queue and its counts, and
// the browser's console stays free of errors. One browser launch for the whole suite.
import { existsSync } from 'node:fs';
import { expect } from 'chai';
import { chromium, type Browser, type Page } from 'playwright-core';
import { QUEUE_DASHBOARD_PATH } from '../../../lib/http/queue-dashboard.js';
import { QueueFetcher } from '../../../lib/queue/index.js';
import { startServer, type ScriptedServer } from '../../support/http-servers.js';
import { APP, live, QueueSuite, request, VALID_XML } from '../queue/harness.js';
import { stderrLogger } from '../../support/stderr-logger.js';
import { addFailedJob, ADMIN, dashboardQueues, startDashboardRole } from './dashboard-support.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_INSTALL = 'apt-get install -y chromium';

/** As the machine's notes say Chromium runs here: no network of its own, no sandbox as root. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Every bounded wait of the browser, in ms. */
const WAIT_MS = 10_000;

/** What went wrong in a page: console errors, uncaught exceptions, failed requests. */
function watchForErrors(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()} (${req.failure()?.errorText ?? '?'})`));
  return problems;
}

describe('queue dashboard in headless Chromium (playwright-core, /usr/bin/chromium)', function () {
  this.timeout(40_000);
  const suite = new QueueSuite('dashboard-browser');
  let server: ScriptedServer | undefined;
  let served: Awaited<ReturnType<typeof startDashboardRole>> | undefined;
  let browser: Browser | undefined;
  let page: string;

  before(async function () {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium is not installed (${CHROMIUM}); install it with: ${CHROMIUM_INSTALL}`);
    const redisUrl = await suite.redisUrl();
    // A job no worker could finish, before the engine's worker runs on the queue.
    await addFailedJob(redisUrl, suite.prefix, 'stalled-1');
    server = await startServer((req, res) => {
      if (req.url?.startsWith('/gone')) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/xml' }).end(VALID_XML);
    });
    await suite.worker();
    const fetcher = new QueueFetcher({ queue: await suite.waiter(), app: APP, signingKeyId: APP.uuid });
    const origin = server.origin;
    const outcomes = await Promise.all(
      ['/next', '/next', '/next', '/gone'].map((path) => fetcher.fetch(request(`${origin}${path}`), Date.now() + 5000, live())),
    );
    expect(outcomes.map((o) => o.ok)).to.deep.equal([true, true, true, false]);
    served = await startDashboardRole({ admin: ADMIN, queues: dashboardQueues(redisUrl, suite.prefix) }, stderrLogger('error'));
    page = `${served.origin}${QUEUE_DASHBOARD_PATH}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: WAIT_MS });
  });

  after(async function () {
    await browser?.close();
    await served?.stop();
    await suite.close();
    await server?.close();
  });

  it('is refused without credentials (401)', async function () {
    const context = await (browser as Browser).newContext();
    try {
      const tab = await context.newPage();
      // The browser gets the challenge, has nothing to answer it with, and shows nothing.
      const challenged = tab.waitForResponse((r) => r.url() === page, { timeout: WAIT_MS });
      const navigation = await tab.goto(page, { timeout: WAIT_MS }).then(
        (r) => `loaded with ${r?.status() ?? 'no answer'}`,
        (error: Error) => error.message,
      );
      const answer = await challenged;
      expect(answer.status()).to.equal(401);
      expect(answer.headers()['www-authenticate']).to.match(/^Basic realm=/);
      expect(navigation).to.match(/net::ERR_INVALID_AUTH_CREDENTIALS/);
      expect(await tab.locator('body').innerText()).to.equal('');
    } finally {
      await context.close();
    }
  });

  it('with the credentials shows the callbacks queue and its counts, with no error in the console', async function () {
    const context = await (browser as Browser).newContext({ httpCredentials: { username: ADMIN.username, password: ADMIN.password } });
    try {
      const tab = await context.newPage();
      const problems = watchForErrors(tab);
      const answer = await tab.goto(page, { timeout: WAIT_MS });
      expect(answer?.status()).to.equal(200);
      // The overview: the callbacks queue's card, and the counts by state (4 fetches
      // completed, the one that got a 404 among them: its outcome says so; 1 job failed).
      await tab.locator(`a[href="${QUEUE_DASHBOARD_PATH}/queue/callbacks"]`).first().waitFor({ timeout: WAIT_MS });
      await tab.locator('button[aria-label="5 Jobs"]').waitFor({ timeout: WAIT_MS });
      const tabText = async (status: string): Promise<string> =>
        (await tab.locator(`a[href="${QUEUE_DASHBOARD_PATH}/?status=${status}"]`).innerText({ timeout: WAIT_MS })).replace(/\s+/g, ' ').trim();
      expect(await tabText('completed')).to.equal('COMPLETED 4');
      expect(await tabText('failed')).to.equal('FAILED 1');
      expect(await tabText('waiting')).to.equal('WAITING');

      // The queue's failed jobs: the one job, its reason, and Bull Board's retry offered.
      await tab.locator(`a[href="${QUEUE_DASHBOARD_PATH}/queue/callbacks?status=failed"]`).first().click({ timeout: WAIT_MS });
      await tab.getByText('job stalled more than allowable limit').first().waitFor({ timeout: WAIT_MS });
      await tab.getByRole('button', { name: /retry/i }).first().waitFor({ timeout: WAIT_MS });
      expect(problems).to.deep.equal([]);
    } finally {
      await context.close();
    }
  });
});
