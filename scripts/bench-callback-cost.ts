// What a <Callback> through the queue costs the engine in CPU, next to a call without one:
//
//   A  <Play> + <Hangup>                       (DID 15551290001)
//   B  <Play> + <Callback> → <Hangup>          (DID 15551290002; the answer is <Response><Hangup/></Response>)
//
// Two engines, each `opentact-ari start` with all its roles in one process (stasis + worker +
// http, as measured on a real Asterisk), each in a child process with its own ARI
// application and queue prefix: engine A gets the A calls, engine B the B calls, placed
// side by side at the same rate by one fake Asterisk (a child process too), with the
// customer's HTTP server in another and Redis in its own. So the figures are the engines'
// own (process.cpuUsage() over each round: from placing the calls until the last one is
// destroyed, plus a short settle, divided by the calls), and both engines live through the
// same moments of the machine: a machine shared with other work slows both alike, and the
// ratio of each round holds where the figures of rounds run one after the other did not.
// The rate is per engine: 60/s each is 120 calls/s through the fake Asterisk, which with
// both engines, Redis and the server fills most of two cores. A round in which an engine
// short of CPU refused calls or lost callbacks is said and run again.
//
//   npm run bench:callback-cost -- [--calls 1000] [--rounds 5] [--rate 60] [--warm-up 300]
//                                  [--play-ms 200] [--log-level info] [--cpu-prof DIR] [--logs DIR]
//                                  [--env NAME=VALUE]…
//
// --cpu-prof DIR: a CPU profile of each engine (DIR/A, DIR/B), written as they exit.
// --logs DIR: the engines' logs (engine-A.log, engine-B.log) are kept there.
// --env NAME=VALUE: a setting for both engines, e.g. --env CALL_TRAIL_TTL=0 (no call trail).
// REDIS_URL to use a running Redis; else one is started.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { openSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import type { FakeAri } from '../test/support/fake-ari/index.js';
import { freeTcpPort } from '../test/support/ports.js';
import { startRedisServer, type RedisServer } from '../test/support/redis.js';

const HERE = fileURLToPath(import.meta.url);
const ROOT = resolve(HERE, '..', '..');
const FLOWS = {
  A: { did: '15551290001', app: 'bench-a', label: 'Play + Hangup' },
  B: { did: '15551290002', app: 'bench-b', label: 'Play + Callback + Hangup' },
} as const;
type Flow = keyof typeof FLOWS;
const BOTH: readonly Flow[] = ['A', 'B'];

interface Placed {
  readonly destroyed: number;
  /** Calls whose <Play> reached Asterisk: the engine ran their flow (an overloaded engine refuses calls). */
  readonly played: number;
  /** DELETE /channels/{id} requests: the engine hung the call up (its <Hangup/>). */
  readonly hungUpByEngine: number;
}
type ToFake = { readonly type: 'place'; readonly count: number; readonly rate: number; readonly timeoutMs: number };
type FromFake =
  | { readonly type: 'ready'; readonly url: string; readonly username: string; readonly password: string }
  | { readonly type: 'done'; readonly placed: Record<Flow, Placed> };
type ToEngine = { readonly type: 'cpu' };
type FromEngine = { readonly type: 'cpu'; readonly usage: NodeJS.CpuUsage };
type ToServer = { readonly type: 'count' };
type FromServer = { readonly type: 'port'; readonly port: number } | { readonly type: 'count'; readonly callbacks: number };

// ---- the fake Asterisk (child process) ------------------------------------------------------

async function fakeChild(playMs: number): Promise<void> {
  const { FakeAri: Fake } = await import('../test/support/fake-ari/index.js');
  // Asterisk fetches sound:http… media itself, once per URL (its HTTP media cache): so does the fake.
  const fake = await Fake.start({ playbackMs: () => playMs, fetchHttpMedia: true });
  const send = (message: FromFake): void => void process.send?.(message);
  process.on('message', (message: ToFake) => {
    void placeBoth(fake, message).then((placed) => send({ type: 'done', placed }));
  });
  process.on('disconnect', () => void fake.close());
  send({ type: 'ready', url: fake.url, username: fake.username, password: fake.password });
}

/** One stream of calls to one flow's engine: counts its channels as they are destroyed. */
class CallStream {
  private readonly ids = new Set<string>();
  private destroyed = 0;
  private readonly gone = new Set<string>();
  private allGone: () => void = () => undefined;
  readonly done: Promise<void>;

  constructor(
    private readonly fake: FakeAri,
    private readonly flow: Flow,
    private readonly count: number,
  ) {
    this.done = new Promise((resolveDone) => (this.allGone = resolveDone));
  }

  async place(index: number): Promise<void> {
    const { did, app } = FLOWS[this.flow];
    const channel = await this.fake.placeCall({ from: `1555${String(index).padStart(7, '0')}`, did, app });
    this.ids.add(channel.id);
    if (this.gone.has(channel.id)) this.count1();
  }

  /** Told of every destroyed channel; a call can end before placeCall has resolved. */
  onDestroyed(id: string): void {
    if (this.ids.has(id)) this.count1();
    else this.gone.add(id);
  }

  private count1(): void {
    this.destroyed += 1;
    if (this.destroyed === this.count) this.allGone();
  }

  result(firstRequest: number): Placed {
    const played = new Set<string>();
    const hungUp = new Set<string>();
    for (const r of this.fake.requests.slice(firstRequest)) {
      const [, id = '', action] = /^\/ari\/channels\/([^/]+)(\/play)?$/.exec(r.path) ?? [];
      if (!this.ids.has(id)) continue;
      if (r.method === 'POST' && action === '/play') played.add(id);
      if (r.method === 'DELETE' && action === undefined) hungUp.add(id);
    }
    return { destroyed: this.destroyed, played: played.size, hungUpByEngine: hungUp.size };
  }
}

/** Places `count` calls of each flow side by side at `rate` per second; resolves once all are destroyed (or time is up). */
async function placeBoth(fake: FakeAri, { count, rate, timeoutMs }: ToFake): Promise<Record<Flow, Placed>> {
  const streams = { A: new CallStream(fake, 'A', count), B: new CallStream(fake, 'B', count) };
  const stop = fake.onChannelDestroyed((channel) => {
    streams.A.onDestroyed(channel.id);
    streams.B.onDestroyed(channel.id);
  });
  const firstRequest = fake.requests.length;
  const begin = performance.now();
  const placing: Promise<void>[] = [];
  for (let i = 0; i < count; i += 1) {
    const wait = (i / rate) * 1000 - (performance.now() - begin);
    if (wait >= 5) await delay(wait);
    placing.push(streams.A.place(i), streams.B.place(i));
  }
  await Promise.all(placing);
  await Promise.race([Promise.all([streams.A.done, streams.B.done]), delay(timeoutMs)]);
  stop();
  return { A: streams.A.result(firstRequest), B: streams.B.result(firstRequest) };
}

// ---- the customer's HTTP server (child process) ---------------------------------------------

async function serverChild(): Promise<void> {
  const { pcmWav, tone } = await import('../test/support/wav.js');
  const prompt = pcmWav(tone(200, 440), 8000);
  const document = '<Response><Hangup/></Response>';
  let callbacks = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/hello.wav') {
        res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': prompt.length }).end(prompt);
        return;
      }
      callbacks += 1;
      res.writeHead(200, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(document) }).end(document);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.send?.({ type: 'port', port: typeof address === 'object' && address ? address.port : 0 } satisfies FromServer);
  });
  process.on('message', (message: ToServer) => {
    if (message.type === 'count') process.send?.({ type: 'count', callbacks } satisfies FromServer);
  });
  process.on('disconnect', () => {
    server.closeAllConnections();
    server.close();
  });
}

// ---- an engine (child process) --------------------------------------------------------------

async function engineChild(): Promise<void> {
  process.on('message', (message: ToEngine) => {
    if (message.type === 'cpu') process.send?.({ type: 'cpu', usage: process.cpuUsage() } satisfies FromEngine);
  });
  const { start } = await import('../app/commands/start.js');
  const { loadConfig } = await import('../lib/config/index.js');
  // Runs until SIGTERM, then drains; the IPC channel would keep the process alive after that.
  await start(undefined, loadConfig());
  process.disconnect?.();
}

// ---- the benchmark (this process) -----------------------------------------------------------

function nextMessage<T extends { type: string }>(child: ChildProcess, type: T['type'], timeoutMs: number): Promise<T> {
  return new Promise((resolveMessage, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no '${type}' message from the child within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (message: T): void => {
      if (message.type !== type) return;
      cleanup();
      resolveMessage(message);
    };
    const onExit = (code: number | null): void => {
      cleanup();
      reject(new Error(`the child exited (${code}) before sending '${type}'`));
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

function forkSelf(mode: string, args: readonly string[] = [], options: { env?: NodeJS.ProcessEnv; execArgv?: string[]; output?: number } = {}): ChildProcess {
  const out = options.output ?? 'inherit';
  return fork(HERE, [`--${mode}`, ...args], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx', ...(options.execArgv ?? [])],
    env: options.env ?? process.env,
    stdio: ['ignore', out, out, 'ipc'],
  });
}

async function waitUntilReady(port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const status = await new Promise<number>((resolveStatus) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/ready', timeout: 1000 }, (res) => {
        res.resume();
        resolveStatus(res.statusCode ?? 0);
      });
      req.on('error', () => resolveStatus(0));
      req.on('timeout', () => req.destroy());
    });
    if (status === 200) return;
    if (Date.now() > until) throw new Error(`an engine was not ready within ${timeoutMs} ms (/ready: ${status})`);
    await delay(100);
  }
}

async function redisCpuMs(admin: Redis): Promise<number> {
  const info = await admin.info('cpu');
  const field = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1000;
}

/** Calls per Redis command so far (INFO commandstats), e.g. { evalsha: 1200, publish: 800 }. */
async function redisCommands(admin: Redis): Promise<Map<string, number>> {
  const info = await admin.info('commandstats');
  const counts = new Map<string, number>();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) counts.set(match[1] ?? '', Number(match[2]));
  return counts;
}

function sum(values: Iterable<number>): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? NaN) : ((sorted[middle - 1] ?? NaN) + (sorted[middle] ?? NaN)) / 2;
}

/** A round in which an engine did not run every call as written; it is run again. */
class DiscardedRound {
  constructor(readonly why: string) {}
}

interface Engine {
  readonly flow: Flow;
  readonly process: ChildProcess;
  readonly log: string;
  cpu(): Promise<NodeJS.CpuUsage>;
}

interface EngineRound {
  /** Engine CPU per call, ms; and the kernel's part of it. */
  readonly perCall: number;
  readonly systemPerCall: number;
  readonly shareOfCore: number;
}

interface Round {
  readonly A: EngineRound;
  readonly B: EngineRound;
  /** Both engines' Redis commands in the round, per B call (A makes none of its own but its idle worker's). */
  readonly commands: Map<string, number>;
  readonly redisPerCall: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      calls: { type: 'string', default: '1000' },
      rate: { type: 'string', default: '60' },
      'warm-up': { type: 'string', default: '300' },
      rounds: { type: 'string', default: '5' },
      'play-ms': { type: 'string', default: '200' },
      'log-level': { type: 'string', default: 'info' },
      'cpu-prof': { type: 'string' },
      logs: { type: 'string' },
      env: { type: 'string', multiple: true, default: [] },
      'fake-child': { type: 'boolean', default: false },
      'server-child': { type: 'boolean', default: false },
      'engine-child': { type: 'boolean', default: false },
    },
  });
  const playMs = Number(values['play-ms']);
  if (values['fake-child']) return fakeChild(playMs);
  if (values['server-child']) return serverChild();
  if (values['engine-child']) return engineChild();

  const calls = Number(values.calls);
  const rate = Number(values.rate);
  const warmUp = Number(values['warm-up']);
  const rounds = Math.max(1, Number(values.rounds));
  const extraEnv = Object.fromEntries(
    values.env.map((pair) => {
      const at = pair.indexOf('=');
      if (at <= 0) throw new Error(`--env takes NAME=VALUE, not ${pair}`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );

  let redis: RedisServer | undefined;
  const fromEnv = process.env['REDIS_URL'];
  const redisUrl = fromEnv !== undefined && fromEnv !== '' ? fromEnv : (redis = await startRedisServer()).url;
  const admin = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const work = await mkdtemp(join(tmpdir(), 'bench-callback-cost-'));
  const logs = values.logs === undefined ? work : resolve(values.logs);
  await mkdir(logs, { recursive: true });
  const children: ChildProcess[] = [];
  const engines: Engine[] = [];
  let failed = true;
  try {
    const server = forkSelf('server-child');
    children.push(server);
    const { port: serverPort } = await nextMessage<Extract<FromServer, { type: 'port' }>>(server, 'port', 10_000);
    const origin = `http://127.0.0.1:${serverPort}`;

    const fake = forkSelf('fake-child', ['--play-ms', String(playMs)]);
    children.push(fake);
    const ari = await nextMessage<Extract<FromFake, { type: 'ready' }>>(fake, 'ready', 20_000);

    const appsFile = join(work, 'apps.json');
    const play = `<Play>${origin}/hello.wav</Play>`;
    await writeFile(
      appsFile,
      JSON.stringify({
        apps: [
          { uuid: 'bench-a', name: 'Play only', numbers: [FLOWS.A.did], xml: `<Response>${play}<Hangup/></Response>` },
          { uuid: 'bench-b', name: 'Play and callback', numbers: [FLOWS.B.did], xml: `<Response>${play}<Callback url="${origin}/next"/></Response>` },
        ],
      }),
    );

    for (const flow of BOTH) {
      const httpPort = await freeTcpPort();
      const log = join(logs, `engine-${flow}.log`);
      const profile = values['cpu-prof'] === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', resolve(values['cpu-prof'], flow)];
      const child = forkSelf('engine-child', [], {
        execArgv: profile,
        output: openSync(log, 'w'),
        env: {
          ...process.env,
          REDIS_URL: redisUrl,
          QUEUE_PREFIX: `bench-cost-${process.pid}-${flow}`,
          ARI_URL: ari.url,
          ARI_USERNAME: ari.username,
          ARI_PASSWORD: ari.password,
          ARI_APP: FLOWS[flow].app,
          APPS_FILE: appsFile,
          OUTBOUND_ALLOW: '127.0.0.0/8',
          HTTP_HOST: '127.0.0.1',
          HTTP_PORT: String(httpPort),
          PUBLIC_BASE_URL: `http://127.0.0.1:${httpPort}`,
          MEDIA_CACHE_DIR: join(work, `media-${flow}`),
          LOG_LEVEL: values['log-level'],
          SHUTDOWN_GRACE_MS: '2000',
          ...extraEnv,
        },
      });
      const cpu = async (): Promise<NodeJS.CpuUsage> => {
        const answer = nextMessage<FromEngine>(child, 'cpu', 5000);
        child.send({ type: 'cpu' } satisfies ToEngine);
        return (await answer).usage;
      };
      engines.push({ flow, process: child, log, cpu });
      await waitUntilReady(httpPort, 30_000);
    }

    const callbacksSoFar = async (): Promise<number> => {
      const answer = nextMessage<Extract<FromServer, { type: 'count' }>>(server, 'count', 5000);
      server.send({ type: 'count' } satisfies ToServer);
      return (await answer).callbacks;
    };
    const cpuOfAll = (): Promise<NodeJS.CpuUsage[]> => Promise.all(engines.map((engine) => engine.cpu()));

    const runRound = async (count: number): Promise<Round | DiscardedRound> => {
      const timeoutMs = (count / rate) * 1000 + playMs + 60_000;
      const callbacksBefore = await callbacksSoFar();
      const [redisBefore, commandsBefore] = [await redisCpuMs(admin), await redisCommands(admin)];
      const before = await cpuOfAll();
      const started = performance.now();
      const answer = nextMessage<Extract<FromFake, { type: 'done' }>>(fake, 'done', timeoutMs + 10_000);
      fake.send({ type: 'place', count, rate, timeoutMs } satisfies ToFake);
      const { placed } = await answer;
      // Whatever a call still does after its channel is gone (the job's completion, the trail).
      await delay(500);
      const after = await cpuOfAll();
      const seconds = (performance.now() - started) / 1000;
      const [redisAfter, commandsAfter] = [await redisCpuMs(admin), await redisCommands(admin)];
      const callbacks = (await callbacksSoFar()) - callbacksBefore;

      for (const flow of BOTH) {
        const { destroyed, played, hungUpByEngine } = placed[flow];
        if (destroyed !== count || played !== count || hungUpByEngine !== count) {
          return new DiscardedRound(`flow ${flow}: of ${count} calls ${destroyed} ended, ${played} played, ${hungUpByEngine} hung up by the engine`);
        }
      }
      if (callbacks < count) return new DiscardedRound(`flow B: ${callbacks} callbacks for ${count} calls`);
      if (callbacks > count) {
        // A job whose lock lapsed is taken over and fetched again: the engine was stalled for
        // over 1.5 s (LOCK_DURATION_MS less LOCK_RENEW_MS), a busy machine. Said, not fatal.
        console.log(`  (${callbacks - count} callbacks fetched twice after a lock lapsed: engine B was stalled; see ${engines[1]?.log})`);
      }
      const engineRound = (index: number): EngineRound => {
        const [b, a] = [before[index], after[index]];
        if (a === undefined || b === undefined) throw new Error('no CPU figure');
        const systemMs = (a.system - b.system) / 1000;
        const totalMs = (a.user - b.user) / 1000 + systemMs;
        return { perCall: totalMs / count, systemPerCall: systemMs / count, shareOfCore: totalMs / (seconds * 10) };
      };
      const commands = new Map<string, number>();
      for (const [name, n] of commandsAfter) {
        const made = n - (commandsBefore.get(name) ?? 0);
        if (made > 0) commands.set(name, made / count);
      }
      return { A: engineRound(0), B: engineRound(1), commands, redisPerCall: (redisAfter - redisBefore) / count };
    };

    if (warmUp > 0) await runRound(warmUp);
    const results: Round[] = [];
    let discarded = 0;
    while (results.length < rounds) {
      const round = await runRound(calls);
      if (round instanceof DiscardedRound) {
        // An engine short of CPU (the machine busy elsewhere) refuses calls or lets a
        // callback time out: the round says nothing about the code, and is run again.
        discarded += 1;
        console.log(`  (round discarded: ${round.why}; the engines' logs: ${values.logs ?? '--logs DIR keeps them'})`);
        if (discarded > rounds) throw new Error(`${discarded} rounds discarded: the machine is too busy for this --rate`);
        continue;
      }
      results.push(round);
    }

    const ms = (value: number): string => value.toFixed(3);
    console.log(
      `Engine CPU per call: Node ${process.version}, ${rounds} rounds of ${calls} calls per flow at ${rate}/s each, ` +
        `playback ${playMs} ms, LOG_LEVEL ${values['log-level']}, after ${warmUp} warm-up calls per flow`,
    );
    console.log('  round  A ms/call  B ms/call  B/A    (share of a core A, B; kernel part A, B)');
    results.forEach((r, i) => {
      console.log(
        `  ${String(i + 1).padStart(5)}  ${ms(r.A.perCall).padStart(9)}  ${ms(r.B.perCall).padStart(9)}  ${(r.B.perCall / r.A.perCall).toFixed(2)}` +
          `   (${r.A.shareOfCore.toFixed(1)} %, ${r.B.shareOfCore.toFixed(1)} %; ${ms(r.A.systemPerCall)}, ${ms(r.B.systemPerCall)})`,
      );
    });
    const a = median(results.map((r) => r.A.perCall));
    const b = median(results.map((r) => r.B.perCall));
    const ratio = median(results.map((r) => r.B.perCall / r.A.perCall));
    console.log(`  median A ${FLOWS.A.label}: ${ms(a)} ms/call; B ${FLOWS.B.label}: ${ms(b)} ms/call`);
    console.log(`  B/A ratio ${ratio.toFixed(2)} (median of the rounds' ratios; target ≤ 1.30); a callback adds ${ms(b - a)} ms of engine CPU`);
    const commands = new Map<string, number>();
    for (const r of results) for (const [name, n] of r.commands) commands.set(name, (commands.get(name) ?? 0) + n / results.length);
    const byName = [...commands].sort((x, y) => y[1] - x[1]).map(([name, n]) => `${name} ${n.toFixed(2)}`);
    console.log(`  Redis, both engines, per call pair: ${sum(commands.values()).toFixed(1)} commands (${byName.join(', ')})`);
    console.log(`  redis-server CPU per call pair: ${ms(median(results.map((r) => r.redisPerCall)))} ms (not counted above)`);
    failed = false;
  } finally {
    await Promise.all(
      engines.map(async ({ process: engine }) => {
        if (engine.exitCode !== null) return;
        const exited = once(engine, 'exit');
        engine.kill('SIGTERM');
        await Promise.race([exited, delay(10_000)]);
        if (engine.exitCode === null) engine.kill('SIGKILL');
      }),
    );
    for (const child of children) {
      if (child.connected) child.disconnect();
      if (child.exitCode === null) await Promise.race([once(child, 'exit'), delay(5000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    admin.disconnect();
    await redis?.stop();
    // Kept after a failure: the engines' logs are in it.
    if (failed) process.stderr.write(`bench-callback-cost: the engines' logs and settings are kept in ${work}\n`);
    else if (values.logs === undefined) await rm(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench-callback-cost: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
