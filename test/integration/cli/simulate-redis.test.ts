import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { JsonLog, stopChild } from '../../support/child-log.js';
import { closedPort, startServer, type ScriptedServer } from '../../support/http-servers.js';
import { uniquePrefix } from '../../support/redis.js';
import { RestartableRedis } from '../../support/restartable-redis.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** `opentact-ari simulate …` as a child process, its stdout read line by line. */
function simulate(args: readonly string[], env: Readonly<Record<string, string>>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'app/cli.ts', 'simulate', ...args], {
    cwd: ROOT,
    // LOG_LEVEL as a user has it by default, so that warnings show.
    env: { ...process.env, LOG_LEVEL: 'info', OUTBOUND_ALLOW: '127.0.0.0/8', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout = new JsonLog(child.stdout);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return {
    child,
    stdout,
    stderr: () => stderr,
    /** The exit code, or a failure if the process has not exited within `ms`. */
    async exitWithin(ms: number): Promise<number | null> {
      const timer = setTimeout(() => child.kill('SIGKILL'), ms);
      const code = await exited;
      clearTimeout(timer);
      if (child.signalCode === 'SIGKILL') throw new Error(`simulate still running after ${ms} ms; stderr:\n${stderr}`);
      return code;
    },
  };
}

describe('opentact-ari simulate when Redis is down', () => {
  let dir: string;
  let server: ScriptedServer;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'opentact-simulate-redis-'));
    server = await startServer((_req, res) => res.end('<Response><Say>answered</Say></Response>'));
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('prints one line and exits 2 within a few seconds, even for a document with no callback', async () => {
    const port = await closedPort();
    const started = performance.now();
    const run = simulate(['test/fixtures/welcome.xml'], { REDIS_URL: `redis://127.0.0.1:${port}` });
    const code = await run.exitWithin(10_000);
    const elapsed = performance.now() - started;
    expect(code, run.stderr()).to.equal(2);
    expect(run.stdout.text).to.deep.equal([]);
    const lines = run.stderr().split('\n').filter((line) => line !== '');
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(new RegExp(`^opentact-ari: Redis at 127\\.0\\.0\\.1:${port} is unreachable \\(connect ECONNREFUSED`));
    expect(elapsed).to.be.below(5000);
  });

  it('a Redis lost during the run: one plain line on stderr, the callback fails with `connect`, exit 0', async () => {
    const redis = await RestartableRedis.create();
    await redis.start();
    let run: ReturnType<typeof simulate> | undefined;
    try {
      const file = path.join(dir, 'lost.xml');
      // The pause leaves time to stop Redis before the callback; its budget is longer
      // than the 2 s Redis has to take a job, so the failure is Redis's, not the budget's.
      await writeFile(
        file,
        `<Response><Answer/><Pause length="1500"/><Callback url="${server.origin}/next" timeout="4000"><Error><Hangup/></Error></Callback></Response>`,
      );
      run = simulate([file], { REDIS_URL: redis.url, QUEUE_PREFIX: uniquePrefix('simulate-lost') });
      await run.stdout.waitFor((line) => line['event'] === 'pause', 10_000, 'the pause event');
      await redis.stop();
      const code = await run.exitWithin(15_000);

      expect(code, run.stderr()).to.equal(0);
      const callback = run.stdout.lines.find((line) => line['event'] === 'callback');
      expect(callback).to.include({ outcome: 'error', code: 'connect' });
      expect(String(callback?.['reason'])).to.match(/^Redis at 127\.0\.0\.1:\d+ is unreachable/);
      const lines = run.stderr().split('\n').filter((line) => line !== '');
      expect(lines, run.stderr()).to.have.length(1);
      expect(lines[0]).to.match(/^opentact-ari: Redis connection lost; reconnecting \(redis=127\.0\.0\.1:\d+, reason=.+\)$/);
    } finally {
      await stopChild(run?.child);
      await redis.dispose();
    }
  });
});
