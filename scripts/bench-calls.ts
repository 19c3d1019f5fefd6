// Concurrent calls through the fake ARI: every call is answered, plays a sound, fetches
// its next document from a local HTTP server through the queue (a worker in this
// process), and hangs up. Prints calls per second, p50/p99 from StasisStart to the answer
// request and to the hang-up request, and heap per live call.
//
//   npm run bench:calls -- [--calls 1000] [--rate 250] [--play-ms 6000]
//
// Calls arrive at --rate per second (0: all at once) and play for --play-ms, long enough
// by default for all of them to be live together when the heap is measured.
// The fake Asterisk runs in a child process (as Asterisk would), so that its own memory
// is not counted in the engine's heap. Run with --expose-gc (the script entry does) for
// the heap figure to be meaningful. REDIS_URL to use a running Redis; else one is started.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startStasisRole } from '../app/roles/stasis.js';
import { UrlPolicy } from '../lib/callback/index.js';
import { parseApps } from '../lib/config/index.js';
import { CallbackWorker } from '../lib/queue/index.js';
import { FakeAri } from '../test/support/fake-ari/index.js';
import { startServer } from '../test/support/http-servers.js';
import { startRedisServer, type RedisServer } from '../test/support/redis.js';
import { stderrLogger } from '../test/support/stderr-logger.js';

const APP = 'opentact-bench';
const DID = '15551280001';

type ToFake = { readonly type: 'place'; readonly count: number; readonly rate: number } | { readonly type: 'plays'; readonly count: number } | { readonly type: 'stats' };
type FromFake =
  | { readonly type: 'ready'; readonly url: string; readonly username: string; readonly password: string }
  | { readonly type: 'placed' }
  | { readonly type: 'plays' }
  | { readonly type: 'stats'; readonly answerMs: number[]; readonly hangupMs: number[]; readonly firstStart: number; readonly lastHangup: number; readonly incomplete: number };

// ---- the fake Asterisk (child process) ------------------------------------------------------

async function fakeChild(playMs: number): Promise<void> {
  const fake = await FakeAri.start({ playbackMs: () => playMs });
  const send = (message: FromFake): void => {
    process.send?.(message);
  };
  const channelIds: string[] = [];
  process.on('message', (message: ToFake) => {
    void (async () => {
      if (message.type === 'place') {
        // Calls arrive at `rate` per second (all at once when 0), in 10 ms batches.
        const placing: Promise<{ id: string }>[] = [];
        const begin = performance.now();
        for (let i = 0; i < message.count; i += 1) {
          const due = message.rate > 0 ? (i / message.rate) * 1000 : 0;
          const wait = due - (performance.now() - begin);
          if (wait >= 10) await new Promise((resolve) => setTimeout(resolve, wait));
          placing.push(fake.placeCall({ from: `1555${String(i).padStart(7, '0')}`, did: DID, app: APP }));
        }
        const placed = await Promise.all(placing);
        channelIds.push(...placed.map((c) => c.id));
        send({ type: 'placed' });
      } else if (message.type === 'plays') {
        let seen = 0;
        await fake.waitForRequest(
          (r) => r.method === 'POST' && r.path.endsWith('/play') && ++seen >= message.count,
          600_000,
        );
        send({ type: 'plays' });
      } else {
        send({ type: 'stats', ...stats(fake, channelIds) });
        await fake.close();
        process.disconnect?.();
      }
    })();
  });
  send({ type: 'ready', url: fake.url, username: fake.username, password: fake.password });
}

function stats(fake: FakeAri, channelIds: readonly string[]) {
  const started = new Map<string, number>();
  for (const event of fake.events) {
    if (event.type === 'StasisStart' && event.channel) started.set(event.channel.id, parseAsteriskTime(event.timestamp));
  }
  const answered = new Map<string, number>();
  const hungUp = new Map<string, number>();
  for (const r of fake.requests) {
    const m = /^\/ari\/channels\/([^/]+)(\/answer)?$/.exec(r.path);
    if (!m || !m[1]) continue;
    if (m[2] && r.method === 'POST' && !answered.has(m[1])) answered.set(m[1], r.time);
    if (!m[2] && r.method === 'DELETE') hungUp.set(m[1], r.time);
  }
  const answerMs: number[] = [];
  const hangupMs: number[] = [];
  let incomplete = 0;
  let firstStart = Infinity;
  let lastHangup = 0;
  for (const id of channelIds) {
    const start = started.get(id);
    const answer = answered.get(id);
    const hangup = hungUp.get(id);
    if (start === undefined || answer === undefined || hangup === undefined) {
      incomplete += 1;
      continue;
    }
    firstStart = Math.min(firstStart, start);
    lastHangup = Math.max(lastHangup, hangup);
    answerMs.push(answer - start);
    hangupMs.push(hangup - start);
  }
  return { answerMs, hangupMs, firstStart, lastHangup, incomplete };
}

/** `2026-11-24T15:00:00.123+0000` → epoch ms. */
function parseAsteriskTime(text: string): number {
  return Date.parse(text.replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));
}

// ---- the engine (this process) --------------------------------------------------------------

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  collect?.();
  collect?.();
}

function ask(child: ChildProcess, message: ToFake, reply: FromFake['type']): Promise<FromFake> {
  return new Promise((resolve) => {
    const onMessage = (m: FromFake): void => {
      if (m.type !== reply) return;
      child.off('message', onMessage);
      resolve(m);
    };
    child.on('message', onMessage);
    child.send(message);
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      calls: { type: 'string', default: '1000' },
      'play-ms': { type: 'string', default: '6000' },
      rate: { type: 'string', default: '250' },
      'fake-child': { type: 'boolean', default: false },
    },
  });
  const calls = Number(values.calls);
  const playMs = Number(values['play-ms']);
  const rate = Number(values.rate);
  if (values['fake-child']) return fakeChild(playMs);

  const log = stderrLogger('warn');
  let redis: RedisServer | undefined;
  const redisUrl = process.env['REDIS_URL'] || (redis = await startRedisServer()).url;
  const prefix = `bench-calls-${process.pid}`;
  const server = await startServer((_req, res) => res.writeHead(200, { 'content-type': 'application/xml' }).end('<Response><Hangup/></Response>'));
  const worker = await CallbackWorker.start(
    { connection: redisUrl, prefix, concurrency: 200, policy: new UrlPolicy('127.0.0.0/8'), secrets: { get: () => undefined } },
    log,
  );
  const child = fork(fileURLToPath(import.meta.url), ['--fake-child', '--play-ms', String(playMs)], { execArgv: ['--import', 'tsx'] });
  const apps = parseApps(
    {
      apps: [
        {
          uuid: 'bench',
          name: 'Bench',
          numbers: [DID],
          xml: `<Response><Answer/><Play>http://media.invalid/hello.wav</Play><Callback url="${server.origin}/next" timeout="30000"/></Response>`,
        },
      ],
    },
    'bench',
    { maxBytes: 256 * 1024, env: {} },
  );
  const ready = new Promise<FromFake>((resolve) => child.once('message', (m: FromFake) => resolve(m)));
  const fakeInfo = await ready;
  if (fakeInfo.type !== 'ready') throw new Error('the fake ARI did not start');
  const role = startStasisRole(
    {
      ari: { url: fakeInfo.url, username: fakeInfo.username, password: fakeInfo.password, app: APP, requestTimeoutMs: 10_000 },
      apps,
      redisUrl,
      queuePrefix: prefix,
      secrets: { get: () => undefined },
      maxBytes: 256 * 1024,
      maxDocumentsPerCall: 100,
      shutdownGraceMs: 1000,
    },
    log,
  );
  await role.connection.whenState('connected');

  gc();
  const baseline = process.memoryUsage().heapUsed;
  const started = performance.now();
  await ask(child, { type: 'place', count: calls, rate }, 'placed');
  await ask(child, { type: 'plays', count: calls }, 'plays');
  gc();
  const live = role.app.liveCalls;
  const peak = live;
  const heapPerCall = (process.memoryUsage().heapUsed - baseline) / Math.max(1, live);
  await role.app.whenIdle();
  const elapsedMs = performance.now() - started;
  const result = await ask(child, { type: 'stats' }, 'stats');
  if (result.type !== 'stats') throw new Error('no stats');

  const completed = result.answerMs.length;
  const lines = [
    `calls: ${calls} placed ${rate > 0 ? `at ${rate}/s` : 'at once'}, ${completed} completed, ${result.incomplete} incomplete; playback ${playMs} ms each; ${peak} live at the peak`,
    `throughput: ${(completed / ((result.lastHangup - result.firstStart) / 1000)).toFixed(0)} calls/s (first StasisStart to last hang-up; wall ${elapsedMs.toFixed(0)} ms)`,
    `StasisStart → answer: p50 ${percentile(result.answerMs, 50)} ms, p99 ${percentile(result.answerMs, 99)} ms, max ${percentile(result.answerMs, 100)} ms`,
    `StasisStart → hang-up: p50 ${percentile(result.hangupMs, 50)} ms, p99 ${percentile(result.hangupMs, 99)} ms`,
    `heap per live call: ${(heapPerCall / 1024).toFixed(1)} KB (${live} live${(globalThis as { gc?: unknown }).gc ? ', after gc' : ', no --expose-gc: not collected'})`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);

  await role.stop();
  await worker.close();
  await server.close();
  if (child.connected) child.disconnect();
  if (child.exitCode === null) await once(child, 'exit');
  await redis?.stop();
}

main().catch((error: unknown) => {
  process.stderr.write(`bench-calls: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
