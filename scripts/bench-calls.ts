// Concurrent calls through the fake ARI: every call is answered, says a sentence
// (espeak-ng, rendered once and then played from the media store), plays a WAV from a
// local "customer" server (fetched and converted once), fetches its next document from a
// local HTTP server through the queue (a worker in this process), and hangs up. The fake
// Asterisk fetches the /media URLs from this process's http role as Asterisk would.
// Prints calls per second, p50/p99 from StasisStart to the answer request, to the first
// play request and to the hang-up request, heap per live call, and the CPU each process
// spent while the calls arrived (from placing the first call to the last play request).
//
//   npm run bench:calls -- [--calls 1000] [--rate 250] [--play-ms 6000] [--max-connections 50] [--cpu-prof DIR] [--floor]
//
// --floor runs, instead of the engine, a minimal client that only answers each StasisStart
// (its own WebSocket, the engine's HTTP client): what is left is the fake Asterisk's own
// share of the time to answer (it handles one request at a time, as Asterisk does not).
//
// --cpu-prof DIR writes engine.cpuprofile and fake-asterisk.cpuprofile there, each covering
// that same stretch (open them in Chrome DevTools, or summarise them with a script).
//
// Calls arrive at --rate per second (0: all at once) and play for --play-ms, long enough
// by default for all of them to be live together when the heap is measured.
// The fake Asterisk runs in a child process (as Asterisk would), so that its own memory
// is not counted in the engine's heap. Run with --expose-gc (the script entry does) for
// the heap figure to be meaningful. REDIS_URL to use a running Redis; else one is started.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { startHttpRole } from '../app/roles/http.js';
import { startStasisRole, type StasisRole } from '../app/roles/stasis.js';
import { AriHttp } from '../lib/ari/index.js';
import { UrlPolicy } from '../lib/callback/index.js';
import { parseApps } from '../lib/config/index.js';
import { httpLocator, MediaStore, NO_RECORDINGS, REMOTE_AUDIO_DEFAULTS, RemoteAudio } from '../lib/media/index.js';
import { CallbackWorker } from '../lib/queue/index.js';
import { EspeakEngine, TtsSpeech } from '../lib/tts/index.js';
import { FakeAri } from '../test/support/fake-ari/index.js';
import { startServer } from '../test/support/http-servers.js';
import { startRedisServer, type RedisServer } from '../test/support/redis.js';
import { stderrLogger } from '../test/support/stderr-logger.js';
import { pcmWav, tone } from '../test/support/wav.js';

const APP = 'opentact-bench';
const DID = '15551280001';

type ToFake =
  | { readonly type: 'place'; readonly count: number; readonly rate: number; readonly profileDir?: string }
  | { readonly type: 'plays'; readonly count: number }
  | { readonly type: 'answers'; readonly count: number }
  | { readonly type: 'stats' };
type FromFake =
  | { readonly type: 'ready'; readonly url: string; readonly username: string; readonly password: string }
  | { readonly type: 'placed' }
  | { readonly type: 'plays'; readonly cpuMs: number }
  | {
      readonly type: 'stats';
      readonly answerMs: number[];
      readonly firstPlayMs: number[];
      readonly hangupMs: number[];
      readonly firstStart: number;
      readonly lastHangup: number;
      readonly incomplete: number;
      readonly mediaFetches: number;
      readonly failedFetches: number;
    };

// ---- the fake Asterisk (child process) ------------------------------------------------------

async function fakeChild(playMs: number): Promise<void> {
  // Asterisk fetches sound:http… media itself (its HTTP media cache): so does the fake.
  const fake = await FakeAri.start({ playbackMs: () => playMs, fetchHttpMedia: true });
  const send = (message: FromFake): void => {
    process.send?.(message);
  };
  const channelIds: string[] = [];
  let measurement: Measurement | undefined;
  process.on('message', (message: ToFake) => {
    void (async () => {
      if (message.type === 'place') {
        measurement = await Measurement.open(message.profileDir === undefined ? undefined : join(message.profileDir, 'fake-asterisk.cpuprofile'));
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
        send({ type: 'plays', cpuMs: (await measurement?.close()) ?? NaN });
      } else if (message.type === 'answers') {
        let seen = 0;
        await fake.waitForRequest((r) => r.method === 'POST' && r.path.endsWith('/answer') && ++seen >= message.count, 600_000);
        send({ type: 'plays', cpuMs: (await measurement?.close()) ?? NaN });
      } else {
        const failedFetches = fake.mediaFetches.filter((f) => f.status !== 200).length;
        send({ type: 'stats', ...stats(fake, channelIds), mediaFetches: fake.mediaFetches.length, failedFetches });
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
  const played = new Map<string, number>();
  const hungUp = new Map<string, number>();
  for (const r of fake.requests) {
    const m = /^\/ari\/channels\/([^/]+)(\/answer|\/play)?$/.exec(r.path);
    if (!m || !m[1]) continue;
    if (m[2] === '/answer' && r.method === 'POST' && !answered.has(m[1])) answered.set(m[1], r.time);
    if (m[2] === '/play' && r.method === 'POST' && !played.has(m[1])) played.set(m[1], r.time);
    if (!m[2] && r.method === 'DELETE') hungUp.set(m[1], r.time);
  }
  const answerMs: number[] = [];
  const firstPlayMs: number[] = [];
  const hangupMs: number[] = [];
  let incomplete = 0;
  let firstStart = Infinity;
  let lastHangup = 0;
  for (const id of channelIds) {
    const start = started.get(id);
    const answer = answered.get(id);
    const play = played.get(id);
    const hangup = hungUp.get(id);
    if (start === undefined) continue;
    firstStart = Math.min(firstStart, start);
    if (answer !== undefined) answerMs.push(answer - start);
    if (play !== undefined) firstPlayMs.push(play - start);
    if (hangup === undefined) {
      incomplete += 1;
      continue;
    }
    lastHangup = Math.max(lastHangup, hangup);
    hangupMs.push(hangup - start);
  }
  return { answerMs, firstPlayMs, hangupMs, firstStart, lastHangup, incomplete };
}

/** `2026-11-24T15:00:00.123+0000` → epoch ms. */
function parseAsteriskTime(text: string): number {
  return Date.parse(text.replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));
}

/** CPU time over a stretch of the run, and optionally a CPU profile of it (inspector). */
class Measurement {
  private constructor(
    private readonly cpu: NodeJS.CpuUsage,
    private readonly profile?: { readonly session: Session; readonly file: string },
  ) {}

  static async open(profileFile?: string): Promise<Measurement> {
    if (profileFile === undefined) return new Measurement(process.cpuUsage());
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 500 });
    await session.post('Profiler.start');
    return new Measurement(process.cpuUsage(), { session, file: profileFile });
  }

  /** The CPU milliseconds (user + system) spent since open; writes the profile. */
  async close(): Promise<number> {
    const used = process.cpuUsage(this.cpu);
    if (this.profile !== undefined) {
      const { profile } = await this.profile.session.post('Profiler.stop');
      await writeFile(this.profile.file, JSON.stringify(profile));
      this.profile.session.disconnect();
    }
    return (used.user + used.system) / 1000;
  }
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
      'max-connections': { type: 'string', default: '50' },
      'cpu-prof': { type: 'string' },
      floor: { type: 'boolean', default: false },
      'fake-child': { type: 'boolean', default: false },
    },
  });
  const calls = Number(values.calls);
  const playMs = Number(values['play-ms']);
  const rate = Number(values.rate);
  const maxConnections = Number(values['max-connections']);
  if (values['fake-child']) return fakeChild(playMs);
  if (values.floor) return floor(calls, rate, maxConnections);

  const log = stderrLogger('warn');
  let redis: RedisServer | undefined;
  const redisUrl = process.env['REDIS_URL'] || (redis = await startRedisServer()).url;
  const prefix = `bench-calls-${process.pid}`;
  // The customer's side: the next document, and a prompt to play.
  const prompt = pcmWav(tone(500, 440), 8000);
  const server = await startServer((req, res) => {
    if (req.url === '/hello.wav') return res.writeHead(200, { 'content-type': 'audio/wav' }).end(prompt);
    return res.writeHead(200, { 'content-type': 'application/xml' }).end('<Response><Hangup/></Response>');
  });
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
          xml: `<Response><Answer/><Say>Thank you for calling.</Say><Play>${server.origin}/hello.wav</Play><Callback url="${server.origin}/next" timeout="30000"/></Response>`,
        },
      ],
    },
    'bench',
    { maxBytes: 256 * 1024, env: {} },
  );
  const ready = new Promise<FromFake>((resolve) => child.once('message', (m: FromFake) => resolve(m)));
  const fakeInfo = await ready;
  if (fakeInfo.type !== 'ready') throw new Error('the fake ARI did not start');
  // Speech and media as `start` wires them: a store in a temporary directory, the http
  // role serving /media from it, espeak-ng, remote audio under the URL policy.
  const policy = new UrlPolicy('127.0.0.0/8');
  const mediaDir = await mkdtemp(join(tmpdir(), 'bench-calls-media-'));
  const store = await MediaStore.open({ dir: mediaDir, maxBytes: 256 * 1024 * 1024, log });
  let role: StasisRole | undefined;
  const http = await startHttpRole({ port: 0, host: '127.0.0.1', readiness: () => role?.status() ?? { ready: false }, store }, log);
  const locator = httpLocator(`http://127.0.0.1:${http.port}`);
  const speech = new TtsSpeech({ engine: await EspeakEngine.create({ log }), store, locator, renderTimeoutMs: 5000, log });
  const audio = new RemoteAudio({ ...REMOTE_AUDIO_DEFAULTS, store, locator, policy, recordings: NO_RECORDINGS, log });
  role = startStasisRole(
    {
      ari: { url: fakeInfo.url, username: fakeInfo.username, password: fakeInfo.password, app: APP, requestTimeoutMs: 10_000, maxConnections },
      apps,
      redis: redisUrl,
      queuePrefix: prefix,
      secrets: { get: () => undefined },
      maxBytes: 256 * 1024,
      maxDocumentsPerCall: 100,
      shutdownGraceMs: 1000,
      speech,
      audio,
    },
    log,
  );
  await role.connection.whenState('connected');

  gc();
  const baseline = process.memoryUsage().heapUsed;
  const profileDir = values['cpu-prof'];
  const started = performance.now();
  const measurement = await Measurement.open(profileDir === undefined ? undefined : join(profileDir, 'engine.cpuprofile'));
  await ask(child, { type: 'place', count: calls, rate, ...(profileDir === undefined ? {} : { profileDir }) }, 'placed');
  const plays = await ask(child, { type: 'plays', count: calls }, 'plays');
  const windowMs = performance.now() - started;
  const engineCpuMs = await measurement.close();
  const fakeCpuMs = plays.type === 'plays' ? plays.cpuMs : NaN;
  gc();
  const live = role.app.liveCalls;
  const peak = live;
  const heapPerCall = (process.memoryUsage().heapUsed - baseline) / Math.max(1, live);
  await role.app.whenIdle();
  const elapsedMs = performance.now() - started;
  const result = await ask(child, { type: 'stats' }, 'stats');
  if (result.type !== 'stats') throw new Error('no stats');

  const completed = result.hangupMs.length;
  const lines = [
    `calls: ${calls} placed ${rate > 0 ? `at ${rate}/s` : 'at once'}, ${completed} completed, ${result.incomplete} incomplete; playback ${playMs} ms each; ${peak} live at the peak`,
    `throughput: ${(completed / ((result.lastHangup - result.firstStart) / 1000)).toFixed(0)} calls/s (first StasisStart to last hang-up; wall ${elapsedMs.toFixed(0)} ms)`,
    `StasisStart → answer: p50 ${percentile(result.answerMs, 50)} ms, p99 ${percentile(result.answerMs, 99)} ms, max ${percentile(result.answerMs, 100)} ms`,
    `StasisStart → first play request (the <Say>): p50 ${percentile(result.firstPlayMs, 50)} ms, p99 ${percentile(result.firstPlayMs, 99)} ms`,
    `StasisStart → hang-up: p50 ${percentile(result.hangupMs, 50)} ms, p99 ${percentile(result.hangupMs, 99)} ms`,
    `cpu while the calls arrived (${windowMs.toFixed(0)} ms, placing the first call to the last play request): engine ${engineCpuMs.toFixed(0)} ms, fake Asterisk ${fakeCpuMs.toFixed(0)} ms`,
    `heap per live call: ${(heapPerCall / 1024).toFixed(1)} KB (${live} live${(globalThis as { gc?: unknown }).gc ? ', after gc' : ', no --expose-gc: not collected'})`,
    `media: ${store.size} bytes stored; the fake Asterisk fetched /media ${result.mediaFetches} times (${result.failedFetches} failed); the customer server served the prompt ${server.requests.filter((r) => r.url === '/hello.wav').length} times`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);

  await role.stop();
  await worker.close();
  await http.stop();
  await rm(mediaDir, { recursive: true, force: true });
  await server.close();
  if (child.connected) child.disconnect();
  if (child.exitCode === null) await once(child, 'exit');
  await redis?.stop();
}

/** The fake Asterisk's own share: a client that answers each StasisStart, and nothing else. */
async function floor(calls: number, rate: number, maxConnections: number): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), ['--fake-child'], { execArgv: ['--import', 'tsx'] });
  const fakeInfo = await new Promise<FromFake>((resolve) => child.once('message', (m: FromFake) => resolve(m)));
  if (fakeInfo.type !== 'ready') throw new Error('the fake ARI did not start');
  const { url, username, password } = fakeInfo;
  const ari = new AriHttp({ url, username, password, timeoutMs: 10_000, maxSockets: maxConnections });
  const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/ari/events?app=${APP}&api_key=${username}:${password}`);
  await once(socket, 'open');
  socket.on('message', (data: Buffer) => {
    const event = JSON.parse(data.toString('utf8')) as { type?: string; channel?: { id?: string } };
    if (event.type === 'StasisStart' && event.channel?.id) void ari.send('answer', 'POST', `/channels/${event.channel.id}/answer`);
  });
  const started = performance.now();
  const measurement = await Measurement.open();
  await ask(child, { type: 'place', count: calls, rate }, 'placed');
  const answers = await ask(child, { type: 'answers', count: calls }, 'plays');
  const clientCpuMs = await measurement.close();
  const windowMs = performance.now() - started;
  const result = await ask(child, { type: 'stats' }, 'stats');
  if (result.type !== 'stats' || answers.type !== 'plays') throw new Error('no stats');
  const lines = [
    `floor: ${calls} calls placed ${rate > 0 ? `at ${rate}/s` : 'at once'}, ${result.answerMs.length} answered by a client that does nothing else`,
    `StasisStart → answer: p50 ${percentile(result.answerMs, 50)} ms, p99 ${percentile(result.answerMs, 99)} ms, max ${percentile(result.answerMs, 100)} ms`,
    `cpu while the calls arrived (${windowMs.toFixed(0)} ms, placing the first call to the last answer request): client ${clientCpuMs.toFixed(0)} ms, fake Asterisk ${answers.cpuMs.toFixed(0)} ms`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  socket.close();
  ari.close();
  if (child.connected) child.disconnect();
  if (child.exitCode === null) await once(child, 'exit');
}

main().catch((error: unknown) => {
  process.stderr.write(`bench-calls: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
