// `opentact-ari start` as a child process: every role in one process, /health and /ready,
// and the drain on SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { FakeAri } from '../../support/fake-ari/index.js';
import { sharedRedisUrl, uniquePrefix } from '../../support/redis.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const APP = 'opentact-drain';
const GRACE_MS = 700;

interface LogLine {
  readonly msg?: string;
  readonly port?: number;
  readonly [key: string]: unknown;
}

/** The child's JSON log lines, and a way to wait for one. */
class ChildLog {
  readonly lines: LogLine[] = [];
  private readonly waiters: { test: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];

  constructor(child: ChildProcess) {
    let buffer = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      const parts = buffer.split('\n');
      buffer = parts.pop() ?? '';
      for (const part of parts) {
        let line: LogLine;
        try {
          line = JSON.parse(part) as LogLine;
        } catch {
          line = { msg: part };
        }
        this.lines.push(line);
        for (const waiter of this.waiters.filter((w) => w.test(line))) {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    });
  }

  waitFor(test: (l: LogLine) => boolean): Promise<LogLine> {
    const found = this.lines.find(test);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }
}

describe('ARI: start and drain (child process)', function () {
  this.timeout(30_000);
  let fake: FakeAri;
  let dir: string;
  let child: ChildProcess | undefined;

  before(async function () {
    fake = await FakeAri.start({ playbackMs: (media) => (media.includes('long') ? Infinity : 400) });
    dir = await mkdtemp(path.join(os.tmpdir(), 'opentact-drain-'));
  });

  after(async function () {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves /health and /ready, lets a short call finish, refuses new calls, hangs up the rest at the grace deadline, exits 0', async function () {
    const appsFile = path.join(dir, 'apps.yaml');
    await writeFile(
      appsFile,
      [
        'apps:',
        '  - uuid: app-short',
        '    name: Short',
        '    numbers: ["15551270001"]',
        '    xml: <Response><Play>http://media.invalid/short.wav</Play><Hangup/></Response>',
        '  - uuid: app-long',
        '    name: Long',
        '    numbers: ["15551270002"]',
        '    xml: <Response><Play>http://media.invalid/long.wav</Play><Hangup/></Response>',
        '',
      ].join('\n'),
    );
    child = spawn(process.execPath, ['--import', 'tsx', 'app/cli.ts', 'start'], {
      cwd: ROOT,
      env: {
        ...process.env,
        REDIS_URL: await sharedRedisUrl(),
        QUEUE_PREFIX: uniquePrefix('drain'),
        ARI_URL: fake.url,
        ARI_USERNAME: fake.username,
        ARI_PASSWORD: fake.password,
        ARI_APP: APP,
        APPS_FILE: appsFile,
        HTTP_PORT: '0',
        SHUTDOWN_GRACE_MS: String(GRACE_MS),
        OUTBOUND_ALLOW: '127.0.0.0/8',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const log = new ChildLog(child);
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    const listening = await log.waitFor((l) => l.msg === 'http role listening');
    const base = `http://127.0.0.1:${String(listening.port)}`;
    await log.waitFor((l) => l.msg === 'ARI connected');

    expect((await fetch(`${base}/health`)).status).to.equal(200);
    const ready = await fetch(`${base}/ready`);
    expect(ready.status).to.equal(200);
    expect(await ready.json()).to.include({ ready: true, ari: 'connected', draining: false });

    const short = await fake.placeCall({ from: '15550001111', did: '15551270001', app: APP });
    const long = await fake.placeCall({ from: '15550001111', did: '15551270002', app: APP });
    for (const call of [short, long]) await fake.waitForRequest((r) => r.path === `/ari/channels/${call.id}/play`, 5000);

    const signalled = Date.now();
    child.kill('SIGTERM');
    await log.waitFor((l) => l.msg === 'draining: letting calls in progress finish');
    const draining = await fetch(`${base}/ready`);
    expect(draining.status).to.equal(503);
    expect(await draining.json()).to.include({ ready: false, draining: true });

    const late = await fake.placeCall({ from: '15550001111', did: '15551270001', app: APP });
    const refused = await fake.waitForRequest((r) => r.method === 'DELETE' && r.path === `/ari/channels/${late.id}`, 5000);
    expect(refused.query['reason_code']).to.equal('41');

    const shortEnd = await fake.waitForRequest((r) => r.method === 'DELETE' && r.path === `/ari/channels/${short.id}`, 5000);
    expect(shortEnd.query['reason_code']).to.equal('16');
    const longEnd = await fake.waitForRequest((r) => r.method === 'DELETE' && r.path === `/ari/channels/${long.id}`, 5000);
    expect(longEnd.query['reason_code']).to.equal('41');
    expect(longEnd.time - signalled).to.be.at.least(GRACE_MS - 50);

    const [code, signal] = await exited;
    expect({ code, signal }).to.deep.equal({ code: 0, signal: null });
    expect(log.lines.some((l) => l.msg === 'stopped')).to.equal(true);
  });
});
