import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { jobIdFor } from '../../../lib/queue/index.js';
import { jsonLines, runCli } from '../../support/cli.js';
import { startServer, type ScriptedServer } from '../../support/http-servers.js';
import { sharedRedisUrl, uniquePrefix } from '../../support/redis.js';

describe('opentact-ari simulate with REDIS_URL', () => {
  let server: ScriptedServer | undefined;
  let redisUrl: string;
  let dir: string | undefined;
  /** Requests seen per call on /flaky. */
  const flaky = new Map<string, number>();

  before(async () => {
    redisUrl = await sharedRedisUrl();
    dir = await mkdtemp(path.join(os.tmpdir(), 'opentact-simulate-queue-'));
    server = await startServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/flaky') {
        // 503 three times for a call, then no answer at all.
        const call = url.searchParams.get('call') ?? '';
        const seen = (flaky.get(call) ?? 0) + 1;
        flaky.set(call, seen);
        if (seen <= 3) res.writeHead(503).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end('<Response><Say>through the queue</Say></Response>');
    });
  });
  after(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('fetches callbacks through the queue, as production does', async () => {
    const prefix = uniquePrefix('simulate');
    if (!server || !dir) throw new Error('set-up failed');
    const file = path.join(dir, 'flow.xml');
    await writeFile(file, `<Response><Callback url="${server.origin}/next"/></Response>`);
    const result = await runCli(['simulate', file], {
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      OUTBOUND_ALLOW: '127.0.0.0/8',
    });
    expect(result.stderr).to.equal('');
    expect(result.code).to.equal(0);
    const lines = jsonLines(result.stdout);
    expect(lines.find((l) => l.event === 'callback')).to.include({ outcome: 'ok' });
    expect(lines.find((l) => l.event === 'say')?.text).to.equal('through the queue');

    // The fetch was a job on the queue: its result is kept in Redis under the call's job id.
    const call = new URL(server.requests.at(-1)?.url ?? '', 'http://x').searchParams.get('call') ?? '';
    const redis = new Redis(redisUrl);
    try {
      const stored = await redis.hget(`${prefix}:callbacks:${jobIdFor(call, 1)}`, 'returnvalue');
      expect(JSON.parse(stored ?? 'null')).to.include({ ok: true, status: 200 });
    } finally {
      redis.disconnect();
    }
  });

  it('a callback whose deadline comes first reports the attempts the worker made', async () => {
    if (!server || !dir) throw new Error('set-up failed');
    const file = path.join(dir, 'flaky.xml');
    await writeFile(file, `<Response><Callback url="${server.origin}/flaky" timeout="1500"><Error><Hangup/></Error></Callback></Response>`);
    const result = await runCli(['simulate', file], {
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: uniquePrefix('simulate-attempts'),
      OUTBOUND_ALLOW: '127.0.0.0/8',
    });
    expect(result.code, result.stderr).to.equal(0);
    const callback = jsonLines(result.stdout).find((l) => l.event === 'callback');
    // Three answered 503, the fourth was still unanswered at the deadline.
    expect(callback).to.include({ outcome: 'error', code: 'timeout', attempts: 4 });
    const call = new URL(server.requests.find((r) => r.url.startsWith('/flaky'))?.url ?? '', 'http://x').searchParams.get('call');
    expect(flaky.get(call ?? '')).to.equal(4);
  });
});
