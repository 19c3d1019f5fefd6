// What a <Callback> through the queue costs the engine in CPU, next to a call without one.
// Two flows on the same engine, one after the other:
//
//   A  <Play> + <Hangup>                       (DID 15551290001)
//   B  <Play> + <Callback> → <Hangup>          (DID 15551290002; the answer is <Response><Hangup/></Response>)
//
// The engine is `opentact-ari start` with all its roles in one process (stasis + worker +
// http, as measured on a real Asterisk), in a child process of its own; the fake Asterisk
// and the customer's HTTP server run in two more, and Redis in its own, so the figures are
// the engine's alone: process.cpuUsage() of the engine process over each phase (placing the
// calls until the last one is destroyed, plus a short settle), divided by the calls. Rounds
// alternate the flows (AB, BA, AB) and the medians are compared: the machine may be shared.
//
//   npm run bench:callback-cost -- [--calls 1000] [--rounds 3] [--rate 125] [--warm-up 300] [--play-ms 200]
//                                  [--flows AB] [--log-level info] [--cpu-prof DIR] [--engine-log FILE]
//
// --flows A or B runs one flow only (with --cpu-prof: a profile of that flow's engine, in
// DIR, written when the engine exits). REDIS_URL to use a running Redis; else one is started.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { openSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { freeTcpPort } from '../test/support/ports.js';
import { startRedisServer, type RedisServer } from '../test/support/redis.js';

const HERE = fileURLToPath(import.meta.url);
const ROOT = resolve(HERE, '..', '..');
const ARI_APP = 'opentact-bench';
const FLOWS = {
  A: { did: '15551290001', label: 'Play + Hangup' },
  B: { did: '15551290002', label: 'Play + Callback + Hangup' },
} as const;
type Flow = keyof typeof FLOWS;

type ToFake = { readonly type: 'place'; readonly did: string; readonly count: number; readonly rate: number; readonly timeoutMs: number };
type FromFake =
  | { readonly type: 'ready'; readonly url: string; readonly username: string; readonly password: string }
  | { readonly type: 'done'; readonly destroyed: number; readonly hungUpByEngine: number };
type ToEngine = { readonly type: 'cpu' };
type FromEngine = { readonly type: 'cpu'; readonly usage: NodeJS.CpuUsage };
type ToServer = { readonly type: 'count' };
type FromServer = { readonly type: 'port'; readonly port: number } | { readonly type: 'count'; readonly callbacks: number };

// ---- the fake Asterisk (child process) ------------------------------------------------------

async function fakeChild(playMs: number): Promise<void> {
  const { FakeAri } = await import('../test/support/fake-ari/index.js');
  // Asterisk fetches sound:http… media itself, once per URL (its HTTP media cache): so does the fake.
  const fake = await FakeAri.start({ playbackMs: () => playMs, fetchHttpMedia: true });
  const send = (message: FromFake): void => void process.send?.(message);
  process.on('message', (message: ToFake) => {
    void place(fake, message).then(send);
  });
  process.on('disconnect', () => void fake.close());
  send({ type: 'ready', url: fake.url, username: fake.username, password: fake.password });
}

/** Places `count` calls at `rate` per second and resolves once every one is destroyed (or time is up). */
async function place(
  fake: import('../test/support/fake-ari/index.js').FakeAri,
  { did, count, rate, timeoutMs }: ToFake,
): Promise<FromFake> {
  const placed = new Set<string>();
  let destroyed = 0;
  let allDestroyed: () => void = () => undefined;
  const done = new Promise<void>((resolveDone) => {
    allDestroyed = resolveDone;
  });
  const early: string[] = [];
  const stop = fake.onChannelDestroyed((channel) => {
    if (!placed.has(channel.id)) {
      early.push(channel.id); // destroyed before placeCall resolved: counted below
      return;
    }
    destroyed += 1;
    if (destroyed === count) allDestroyed();
  });
  const firstRequest = fake.requests.length;
  const begin = performance.now();
  const placing: Promise<void>[] = [];
  for (let i = 0; i < count; i += 1) {
    const wait = (i / rate) * 1000 - (performance.now() - begin);
    if (wait >= 5) await delay(wait);
    placing.push(
      fake.placeCall({ from: `1555${String(i).padStart(7, '0')}`, did, app: ARI_APP }).then((channel) => {
        placed.add(channel.id);
        if (early.includes(channel.id)) {
          destroyed += 1;
          if (destroyed === count) allDestroyed();
        }
      }),
    );
  }
  await Promise.all(placing);
  await Promise.race([done, delay(timeoutMs)]);
  stop();
  const hungUpByEngine = fake.requests
    .slice(firstRequest)
    .filter((r) => r.method === 'DELETE' && /^\/ari\/channels\/[^/]+$/.test(r.path)).length;
  return { type: 'done', destroyed, hungUpByEngine };
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

// ---- the engine (child process) -------------------------------------------------------------

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

function forkSelf(mode: string, args: readonly string[] = [], options: { env?: NodeJS.ProcessEnv; execArgv?: string[]; stdio?: 'inherit' | number } = {}): ChildProcess {
  const out = options.stdio ?? 'inherit';
  return fork(HERE, [`--${mode}`, ...args], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx', ...(options.execArgv ?? [])],
    env: options.env ?? process.env,
    stdio: ['ignore', out, out === 'inherit' ? 'inherit' : out, 'ipc'],
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
    if (Date.now() > until) throw new Error(`the engine was not ready within ${timeoutMs} ms (/ready: ${status})`);
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

function commandsBetween(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const made = new Map<string, number>();
  for (const [command, calls] of after) {
    const count = calls - (before.get(command) ?? 0);
    if (count > 0) made.set(command, count);
  }
  return made;
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

interface PhaseResult {
  readonly flow: Flow;
  readonly calls: number;
  readonly engineMs: number;
  /** The part of engineMs spent in the kernel (socket reads and writes, mostly). */
  readonly systemMs: number;
  readonly redisMs: number;
  /** Commands Redis ran in the phase, by name (the benchmark's own INFO calls included: a handful). */
  readonly commands: Map<string, number>;
  readonly seconds: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      calls: { type: 'string', default: '1000' },
      rate: { type: 'string', default: '125' },
      'warm-up': { type: 'string', default: '300' },
      rounds: { type: 'string', default: '3' },
      'play-ms': { type: 'string', default: '200' },
      flows: { type: 'string', default: 'AB' },
      'log-level': { type: 'string', default: 'info' },
      'cpu-prof': { type: 'string' },
      'engine-log': { type: 'string' },
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
  const flows = [...values.flows].filter((f): f is Flow => f === 'A' || f === 'B');
  if (flows.length === 0) throw new Error('--flows takes A, B or AB');

  let redis: RedisServer | undefined;
  const fromEnv = process.env['REDIS_URL'];
  const redisUrl = fromEnv !== undefined && fromEnv !== '' ? fromEnv : (redis = await startRedisServer()).url;
  const admin = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const work = await mkdtemp(join(tmpdir(), 'bench-callback-cost-'));
  const children: ChildProcess[] = [];
  let failed = true;
  let engine: ChildProcess | undefined;
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
    const httpPort = await freeTcpPort();
    const engineLog = values['engine-log'] === undefined ? join(work, 'engine.log') : resolve(values['engine-log']);
    const logFd = openSync(engineLog, 'w');
    const profile = values['cpu-prof'] === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', resolve(values['cpu-prof'])];
    engine = forkSelf('engine-child', [], {
      execArgv: profile,
      stdio: logFd,
      env: {
        ...process.env,
        REDIS_URL: redisUrl,
        QUEUE_PREFIX: `bench-cost-${process.pid}`,
        ARI_URL: ari.url,
        ARI_USERNAME: ari.username,
        ARI_PASSWORD: ari.password,
        ARI_APP,
        APPS_FILE: appsFile,
        OUTBOUND_ALLOW: '127.0.0.0/8',
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: String(httpPort),
        PUBLIC_BASE_URL: `http://127.0.0.1:${httpPort}`,
        MEDIA_CACHE_DIR: join(work, 'media'),
        LOG_LEVEL: values['log-level'],
        SHUTDOWN_GRACE_MS: '2000',
      },
    });
    const engineProcess = engine;
    await waitUntilReady(httpPort, 30_000);

    const cpuNow = async (): Promise<NodeJS.CpuUsage> => {
      const answer = nextMessage<FromEngine>(engineProcess, 'cpu', 5000);
      engineProcess.send({ type: 'cpu' } satisfies ToEngine);
      return (await answer).usage;
    };
    const callbacksSoFar = async (): Promise<number> => {
      const answer = nextMessage<Extract<FromServer, { type: 'count' }>>(server, 'count', 5000);
      server.send({ type: 'count' } satisfies ToServer);
      return (await answer).callbacks;
    };
    const runPhase = async (flow: Flow, count: number): Promise<PhaseResult> => {
      const timeoutMs = (count / rate) * 1000 + playMs + 60_000;
      const callbacksBefore = await callbacksSoFar();
      const [engineBefore, redisBefore, commandsBefore] = [await cpuNow(), await redisCpuMs(admin), await redisCommands(admin)];
      const started = performance.now();
      const answer = nextMessage<Extract<FromFake, { type: 'done' }>>(fake, 'done', timeoutMs + 10_000);
      fake.send({ type: 'place', did: FLOWS[flow].did, count, rate, timeoutMs } satisfies ToFake);
      const done = await answer;
      // Whatever a call still does after its channel is gone (the job's completion, the trail).
      await delay(500);
      const seconds = (performance.now() - started) / 1000;
      const [engineAfter, redisAfter, commandsAfter] = [await cpuNow(), await redisCpuMs(admin), await redisCommands(admin)];
      const callbacks = (await callbacksSoFar()) - callbacksBefore;
      const expected = flow === 'B' ? count : 0;
      if (done.destroyed !== count || done.hungUpByEngine !== count || callbacks !== expected) {
        throw new Error(
          `flow ${flow}: ${done.destroyed}/${count} calls ended, ${done.hungUpByEngine} hung up by the engine, ${callbacks} callbacks (expected ${expected}); engine log: ${engineLog}`,
        );
      }
      const commands = commandsBetween(commandsBefore, commandsAfter);
      const systemMs = (engineAfter.system - engineBefore.system) / 1000;
      const engineMs = (engineAfter.user - engineBefore.user) / 1000 + systemMs;
      return { flow, calls: count, engineMs, systemMs, redisMs: redisAfter - redisBefore, commands, seconds };
    };

    for (const flow of flows) if (warmUp > 0) await runPhase(flow, warmUp);
    // Rounds alternate the order (AB, BA, AB, …) so that a burst of load from elsewhere on
    // the machine weighs on both flows alike; the medians are what counts.
    const results: PhaseResult[] = [];
    for (let round = 0; round < rounds; round += 1) {
      const order = round % 2 === 0 ? flows : [...flows].reverse();
      for (const flow of order) results.push(await runPhase(flow, calls));
    }

    const perCall = (r: PhaseResult): number => r.engineMs / r.calls;
    const line = (r: PhaseResult): string =>
      `  ${r.flow}  ${perCall(r).toFixed(3)} ms/call   ` +
      `(${((100 * r.engineMs) / (r.seconds * 1000)).toFixed(1)} % of a core; system ${(r.systemMs / r.calls).toFixed(3)} ms/call; ` +
      `redis-server ${(r.redisMs / r.calls).toFixed(3)} ms/call; ${(sum(r.commands.values()) / r.calls).toFixed(1)} Redis commands/call)`;
    console.log(
      `Engine CPU per call: Node ${process.version}, ${rounds} rounds of ${calls} calls per flow at ${rate}/s, ` +
        `playback ${playMs} ms, LOG_LEVEL ${values['log-level']}, after ${warmUp} warm-up calls per flow`,
    );
    for (const r of results) console.log(line(r));
    const medians = new Map(flows.map((flow) => [flow, median(results.filter((r) => r.flow === flow).map(perCall))]));
    for (const flow of flows) {
      const phases = results.filter((r) => r.flow === flow);
      const commands = new Map<string, number>();
      for (const r of phases) for (const [name, n] of r.commands) commands.set(name, (commands.get(name) ?? 0) + n);
      const count = phases.length * calls;
      const byName = [...commands].sort((x, y) => y[1] - x[1]).map(([name, n]) => `${name} ${(n / count).toFixed(2)}`);
      console.log(`  ${flow}  ${FLOWS[flow].label}: median ${(medians.get(flow) ?? NaN).toFixed(3)} ms/call; Redis per call: ${byName.join(', ')}`);
    }
    const a = medians.get('A');
    const b = medians.get('B');
    if (a !== undefined && b !== undefined) {
      console.log(`  B/A ratio ${(b / a).toFixed(2)} (target ≤ 1.30); a callback adds ${(b - a).toFixed(3)} ms of engine CPU`);
    }
    failed = false;
  } finally {
    if (engine && engine.exitCode === null) {
      const exited = once(engine, 'exit');
      engine.kill('SIGTERM');
      await Promise.race([exited, delay(10_000)]);
      if (engine.exitCode === null) engine.kill('SIGKILL');
    }
    for (const child of children) {
      if (child.connected) child.disconnect();
      if (child.exitCode === null) await Promise.race([once(child, 'exit'), delay(5000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    admin.disconnect();
    await redis?.stop();
    // Kept after a failure: the engine's log is in it.
    if (failed) process.stderr.write(`bench-callback-cost: the engine's log and settings are kept in ${work}\n`);
    else await rm(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench-callback-cost: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
