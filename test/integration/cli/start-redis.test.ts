import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { UrlPolicy } from '../../../lib/callback/url-policy.js';
import { CallbackQueue, CallbackWorker, QueueFetcher } from '../../../lib/queue/index.js';
import { JsonLog, stopChild, type JsonLine } from '../../support/child-log.js';
import { startServer, type ScriptedServer } from '../../support/http-servers.js';
import { uniquePrefix } from '../../support/redis.js';
import { RestartableRedis } from '../../support/restartable-redis.js';
import { silentLogger } from '../../support/silent-logger.js';
import { APP, live, request, secrets } from '../queue/harness.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

interface Engine {
  readonly child: ChildProcess;
  /** Its logs (JSON lines on stderr). */
  readonly log: JsonLog;
  /** Sends SIGTERM; resolves with the exit code and the ms it took, or fails after `ms`. */
  terminate(ms: number): Promise<{ code: number | null; ms: number }>;
}

/** `opentact-ari start --role worker` as a child process. */
function startWorker(env: Readonly<Record<string, string>>): Engine {
  const child = spawn(process.execPath, ['--import', 'tsx', 'app/cli.ts', 'start', '--role', 'worker'], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', OUTBOUND_ALLOW: '127.0.0.0/8', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const log = new JsonLog(child.stderr);
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return {
    child,
    log,
    async terminate(ms) {
      const started = performance.now();
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), ms);
      const code = await exited;
      clearTimeout(timer);
      if (child.signalCode === 'SIGKILL') throw new Error(`still running ${ms} ms after SIGTERM; last lines:\n${log.text.slice(-10).join('\n')}`);
      return { code, ms: performance.now() - started };
    },
  };
}

const is = (msg: string) => (line: JsonLine) => line.msg === msg;

describe('opentact-ari start when Redis is down', () => {
  let redis: RestartableRedis;
  let engine: Engine | undefined;
  const closers: (() => Promise<void>)[] = [];

  beforeEach(async () => {
    redis = await RestartableRedis.create();
  });
  afterEach(async () => {
    await stopChild(engine?.child);
    engine = undefined;
    for (const close of closers.splice(0).reverse()) await close();
    await redis.dispose();
  });

  it('waits for Redis at start-up, logging each retry with a doubling delay, and starts once Redis answers', async () => {
    engine = startWorker({ REDIS_URL: redis.url, QUEUE_PREFIX: uniquePrefix('start-wait'), SHUTDOWN_GRACE_MS: '1000' });
    const third = await engine.log.waitFor((l) => l.msg === 'Redis is still unreachable' && l['attempt'] === 3, 10_000, 'the third retry');
    const waits = engine.log.lines.filter((l) => String(l.msg).startsWith('Redis is')).slice(0, 3);
    expect(waits.map((l) => l.msg)).to.deep.equal([
      'Redis is unreachable; waiting for it before starting',
      'Redis is still unreachable',
      'Redis is still unreachable',
    ]);
    expect(waits.map((l) => l['retryInMs'])).to.deep.equal([250, 500, 1000]);
    expect(waits.every((l) => l['level'] === 40)).to.equal(true); // warn
    expect(String(third['reason'])).to.match(/ECONNREFUSED/);
    expect(engine.log.lines.some(is('started')), 'started before Redis answered').to.equal(false);

    await redis.start();
    await engine.log.waitFor(is('started'), 10_000, "'started' once Redis is up");
    await engine.log.waitFor(is('callback worker started'), 5000, 'the worker taking jobs');
    const { code } = await engine.terminate(5000);
    expect(code).to.equal(0);
  });

  it('ends at once on SIGTERM while it waits for Redis', async () => {
    engine = startWorker({ REDIS_URL: redis.url, QUEUE_PREFIX: uniquePrefix('start-abort') });
    await engine.log.waitFor(is('Redis is unreachable; waiting for it before starting'), 10_000, 'the first retry');
    const { code, ms } = await engine.terminate(5000);
    expect(code).to.equal(0);
    expect(ms).to.be.below(1500);
  });

  it('a worker whose Redis has gone away exits at once on SIGTERM when it has no job', async () => {
    await redis.start();
    // The default grace period (30 s): an idle worker has nothing to wait for.
    engine = startWorker({ REDIS_URL: redis.url, QUEUE_PREFIX: uniquePrefix('start-gone') });
    await engine.log.waitFor(is('callback worker started'), 10_000, 'the worker taking jobs');
    await redis.stop();
    await engine.log.waitFor((l) => String(l.msg).startsWith('Redis connection lost'), 5000, 'the outage noticed');
    const { code, ms } = await engine.terminate(10_000);
    expect(code).to.equal(0);
    expect(ms).to.be.below(3000);
  });

  it('a worker whose Redis hangs exits within SHUTDOWN_GRACE_MS; its job is taken over once Redis is back', async () => {
    await redis.start();
    const prefix = uniquePrefix('start-hung');
    const graceMs = 1500;
    let server: ScriptedServer | undefined;
    const held = new Set<string>();
    server = await startServer((req, res) => {
      const call = new URL(req.url ?? '/', 'http://x').searchParams.get('call') ?? '';
      if (!held.has(call)) {
        held.add(call);
        return; // the first request of a call is never answered
      }
      res.end('<Response><Hangup/></Response>');
    });
    closers.push(() => server?.close() ?? Promise.resolve());

    engine = startWorker({ REDIS_URL: redis.url, QUEUE_PREFIX: prefix, SHUTDOWN_GRACE_MS: String(graceMs) });
    await engine.log.waitFor(is('callback worker started'), 10_000, 'the worker taking jobs');
    const queue = new CallbackQueue({ connection: redis.url, prefix }, silentLogger);
    closers.push(() => queue.close());
    await queue.ready();
    const req = request(`${server.origin}/hung`);
    const pending = new QueueFetcher({ queue, app: APP }).fetch(req, Date.now() + 20_000, live());
    await server.waitForRequests(1);
    // Another worker, idle until the job is handed back.
    const other = await CallbackWorker.start(
      { connection: redis.url, prefix, policy: new UrlPolicy('127.0.0.0/8'), secrets },
      silentLogger,
    );
    closers.push(() => other.close(0));

    redis.pause();
    const { code, ms } = await engine.terminate(graceMs + 5000);
    expect(code).to.equal(0);
    expect(ms).to.be.below(graceMs + 1500);
    expect(engine.log.lines.some(is('handing unfinished callback jobs back to the queue'))).to.equal(true);

    redis.resume();
    const result = await pending;
    expect(result.ok, JSON.stringify(result)).to.equal(true);
    expect(server.requests.filter((r) => r.url.includes(req.fields.call))).to.have.length(2);
  });
});
