// One load run from start to finish: start (or find) what the calls go through — the
// callback server, Asterisk or the fake ARI, Redis, the engine —, warm up, place calls at
// the rate for the duration while printing progress, wait for them to end, and collect
// what the result needs. Everything started is registered with the Cleanup, which the
// caller runs whatever happens.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { setImmediate, setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { startAsterisk } from '../../test/support/asterisk/index.js';
import { startRedisServer } from '../../test/support/redis.js';
import { AsteriskDriver } from './asterisk-driver.js';
import { asteriskProblems } from './asterisk-log.js';
import { classify } from './call-outcome.js';
import { startCallbackServer, type ServerReport } from './callback-server.js';
import { within, type Cleanup } from './children.js';
import type { CallDriver } from './driver.js';
import { attachEngine, scrapeMetrics, scrapeWhenIdle, startEngine, type EngineHandle } from './engine.js';
import { FakeDriver } from './fake-driver.js';
import { appsFile, flowDocument, flowName } from './flows.js';
import type { LoadOptions } from './options.js';
import { snapshot, usageBetweenSnapshots, type Snapshot, type WatchedProcess } from './proc-stats.js';
import { ProgressLine } from './progress.js';
import { Recorder } from './recorder.js';
import type { LoadResult, TimelineSecond } from './result.js';
import { buildResult } from './summary.js';

/** How long the processes' idle CPU is measured before the first call. */
const IDLE_MS = 2000;

export interface RunContext {
  readonly options: LoadOptions;
  readonly command: readonly string[];
  readonly cleanup: Cleanup;
  /** Aborted by Ctrl-C: no more calls are placed; those in progress are awaited. */
  readonly interrupt: AbortSignal;
  /** Where the steps of the set-up are told (stderr). */
  readonly say: (line: string) => void;
}

/** What the calls go through, once started. */
interface Target {
  readonly driver: CallDriver;
  /** Asterisk's WARNING and ERROR lines since `at` (epoch ms), by message; none for a running Asterisk or the fake. */
  readonly asteriskProblems: (at: number) => Record<string, number>;
  readonly engine: EngineHandle;
  readonly processes: readonly WatchedProcess[];
  readonly document: string;
}

/** The process id of the Redis at `url`, when it runs on this machine. */
async function redisPid(url: string): Promise<number | undefined> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  try {
    await within(client.connect(), 3000);
    const info = await within(client.info('server'), 3000);
    const pid = typeof info === 'string' ? Number(/^process_id:(\d+)/m.exec(info)?.[1]) : NaN;
    if (!Number.isInteger(pid)) return undefined;
    const name = readFileSync(`/proc/${pid}/comm`, 'utf8');
    return name.includes('redis') ? pid : undefined;
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}

async function startTarget(context: RunContext, dir: string, serverOrigin: string): Promise<Target> {
  const { options, cleanup, say } = context;
  const processes: WatchedProcess[] = [];
  // A running engine runs its own apps file: the tool's document is only for an engine it starts.
  const document = options.engine === undefined ? await flowDocument(options.flow, serverOrigin, options.callbackTimeoutMs) : '';
  const callTimeoutMs = options.callTimeoutMs;

  let ari: { url: string; username: string; password: string };
  let fake: FakeDriver | undefined;
  let asteriskProblemsSince: Target['asteriskProblems'] = () => ({});
  if (options.target === 'fake') {
    say('starting the fake ARI');
    fake = await FakeDriver.start({ callTimeoutMs, did: options.did, app: options.ariApp }, cleanup);
    ari = fake.ari;
    processes.push({ role: 'fake-ari', pid: fake.pid });
  } else if (options.asterisk !== undefined) {
    ari = options.asterisk;
    if (options.asterisk.pid !== undefined) processes.push({ role: 'asterisk', pid: options.asterisk.pid });
  } else {
    say('starting Asterisk (ASTERISK_BIN) with asterisk-config/');
    const asterisk = await startAsterisk();
    cleanup.add('Asterisk', () => asterisk.stop());
    if (options.asteriskVerbose !== undefined) asterisk.cli(`core set verbose ${options.asteriskVerbose}`);
    ari = asterisk;
    asteriskProblemsSince = (at) => asteriskProblems(asterisk.logSince(at));
    const pid = Number(readFileSync(join(asterisk.dir, 'run', 'asterisk.pid'), 'utf8').trim());
    if (Number.isInteger(pid)) processes.push({ role: 'asterisk', pid });
  }

  let engine: EngineHandle;
  if (options.engine !== undefined) {
    engine = await attachEngine(options.engine.url, options.engine.pid);
  } else {
    let redisUrl = options.redisUrl;
    if (redisUrl === undefined) {
      say('starting redis-server');
      const redis = await startRedisServer();
      cleanup.add('redis-server', () => redis.stop());
      redisUrl = redis.url;
    }
    const pid = await redisPid(redisUrl);
    if (pid !== undefined) processes.push({ role: 'redis', pid });
    const apps = join(dir, 'apps.json');
    await writeFile(apps, appsFile(options.did, document));
    say('starting the engine (opentact-ari start)');
    engine = await startEngine({ ari: { ...ari, app: options.ariApp }, redisUrl, appsFile: apps, dir, extraEnv: options.engineEnv }, cleanup);
  }
  if (engine.pid !== undefined) processes.push({ role: 'engine', pid: engine.pid });

  let driver: CallDriver;
  if (fake !== undefined) {
    driver = fake;
  } else {
    const tester = await AsteriskDriver.start({ ari, context: options.context, did: options.did, callTimeoutMs, rate: options.rate });
    cleanup.add('the tester application', () => tester.close());
    driver = tester;
  }
  return { driver, asteriskProblems: asteriskProblemsSince, engine, processes, document };
}

/** Resolves when `signal` aborts (at once if it has). */
function whenAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/** Places the warm-up calls one by one; throws when one is not completed, saying how it ended. */
async function warmUp(driver: CallDriver, count: number): Promise<void> {
  for (let i = 1; i <= count; i += 1) {
    const observation = await driver.call({ index: -i });
    const { outcome, reason } = classify(observation);
    if (outcome !== 'completed') throw new Error(`warm-up call ${i} of ${count} was ${outcome}: ${reason ?? ''}`);
  }
}

function progressText(seconds: number, recorder: Recorder, placedLastSecond: number, p99: number | null, cpu: Readonly<Record<string, number>>): string {
  const live = recorder.placed - recorder.ended;
  const cpuText = Object.entries(cpu)
    .filter(([role]) => role === 'engine' || role === 'asterisk' || role === 'fake-ari')
    .map(([role, percent]) => `${role} ${percent.toFixed(0)}%`)
    .join(' ');
  return `${seconds.toFixed(0).padStart(3)} s  placed ${recorder.placed} (${placedLastSecond}/s)  live ${live}  completed ${recorder.completed}  failed ${recorder.failed}  refused ${recorder.refused}  first audio p99 ${p99 === null ? '-' : `${p99} ms`} (last s)  ${cpuText}`;
}

/** What placing the calls gave: the processes' readings at its three moments, the timeline. */
interface Placing {
  /** At the first call placed, at the end of the placing window, once every call was over. */
  readonly snapshots: { readonly start: Snapshot; readonly placed: Snapshot; readonly end: Snapshot };
  readonly maxPlacingLagMs: number;
  readonly timeline: readonly TimelineSecond[];
}

/**
 * Places `total` calls at `options.rate` per second into `recorder`, printing progress once
 * a second, and waits for them to be over. Ctrl-C stops the placing and gives the calls in
 * progress 5 s.
 */
async function placeCalls(driver: CallDriver, total: number, recorder: Recorder, processes: readonly WatchedProcess[], context: RunContext): Promise<Placing> {
  const { options, interrupt, say } = context;
  const progress = new ProgressLine();
  const timeline: TimelineSecond[] = [];
  const calls: Promise<void>[] = [];
  const start = snapshot(processes);
  let previous: Snapshot = start;
  let placedBefore = 0;
  const tick = setInterval(() => {
    const now = snapshot(processes);
    const cpu = Object.fromEntries(usageBetweenSnapshots(processes, previous, now).map((u) => [u.role, Number(u.percentOfCore.toFixed(1))]));
    previous = now;
    const t = Math.round((now.at - start.at) / 1000);
    const firstAudioP99Ms = recorder.takeRecentFirstAudioP99();
    timeline.push({ t, placed: recorder.placed, completed: recorder.completed, failed: recorder.failed, refused: recorder.refused, live: recorder.placed - recorder.ended, firstAudioP99Ms, cpu });
    progress.update(progressText(t, recorder, recorder.placed - placedBefore, firstAudioP99Ms, cpu));
    placedBefore = recorder.placed;
  }, 1000);

  let maxPlacingLagMs = 0;
  try {
    // Call i is due i / rate seconds after the first. A late loop places the calls it owes at once.
    while (recorder.placed < total && !interrupt.aborted) {
      const wait = start.at + (recorder.placed / options.rate) * 1000 - Date.now();
      if (wait > 0) {
        await sleep(wait, undefined, { signal: interrupt }).catch(() => undefined);
      } else {
        maxPlacingLagMs = Math.max(maxPlacingLagMs, -wait);
        // Behind schedule: still let the events and answers of the calls in progress in.
        await setImmediate();
      }
      if (interrupt.aborted) break;
      const index = recorder.placed;
      recorder.placed += 1;
      calls.push(driver.call({ index }).then((observation) => recorder.add(observation)));
    }
    // The placing window is the schedule's, `total / rate` seconds (the last call is placed
    // one interval before its end), so a rate's CPU share is measured over its full time.
    const windowEnd = start.at + (total / options.rate) * 1000;
    if (!interrupt.aborted && windowEnd > Date.now()) await sleep(windowEnd - Date.now(), undefined, { signal: interrupt }).catch(() => undefined);
    const placed = snapshot(processes);
    // Every call ends by itself or is hung up by its driver at the call time-out (plus a
    // few seconds for the hang-up to show); the margin covers a driver that cannot tell.
    const allOver = Promise.all(calls);
    let over = await within(Promise.race([allOver, whenAborted(interrupt)]), options.callTimeoutMs + 15_000);
    if (interrupt.aborted) over = await within(allOver, 5000);
    if (over === 'timeout') say(`${recorder.placed - recorder.ended} call(s) still not over; reporting without them`);
    return { snapshots: { start, placed, end: snapshot(processes) }, maxPlacingLagMs, timeline };
  } finally {
    clearInterval(tick);
    progress.finish();
  }
}

export async function runLoad(context: RunContext): Promise<LoadResult> {
  const { options, cleanup, interrupt, say } = context;
  const startedAt = new Date();
  const loadAverageAtStart = os.loadavg();
  const dir = await mkdtemp(join(os.tmpdir(), 'opentact-load-'));
  cleanup.add('the run directory', () => rm(dir, { recursive: true, force: true }));

  say('starting the callback server');
  const server = await startCallbackServer({ port: options.serverPort, promptMs: options.promptMs }, cleanup);
  const target = await startTarget(context, dir, server.origin);
  const { driver, engine } = target;
  const processes: WatchedProcess[] = [...target.processes, { role: 'callback-server', pid: server.pid }, { role: 'load-tool', pid: process.pid }];

  if (options.warmupCalls > 0) {
    say(`warming up: ${options.warmupCalls} call(s), one by one`);
    await warmUp(driver, options.warmupCalls);
  }

  // What each process uses with no call in progress, to read the run's figures against.
  const idleFrom = snapshot(processes);
  await sleep(IDLE_MS, undefined, { signal: interrupt }).catch(() => undefined);
  const idle = usageBetweenSnapshots(processes, idleFrom, snapshot(processes));

  const total = Math.max(1, Math.round(options.rate * options.durationSeconds));
  say(`placing ${total} calls at ${options.rate}/s for ${options.durationSeconds} s (flow: ${flowName(options.flow, options.engine !== undefined, options.did)})`);
  const recorder = new Recorder();
  const metricsBefore = await scrapeMetrics(engine.url);
  const placing = await placeCalls(driver, total, recorder, processes, context);

  const channelsLeft = await driver.leftovers();
  const metricsAfter = await scrapeWhenIdle(engine.url, 5000);
  const serverReport: ServerReport | undefined = await server.report().catch(() => undefined);
  const notes = [...driver.notes()];
  if (interrupt.aborted) notes.push(`interrupted (Ctrl-C) after ${recorder.placed} of ${total} calls`);
  if (options.engine !== undefined && options.engine.pid === undefined) notes.push('the engine was already running and --engine-pid was not given: no engine CPU or memory');
  if (options.target === 'asterisk' && !processes.some((p) => p.role === 'asterisk')) notes.push('Asterisk was already running and --asterisk-pid was not given: no Asterisk CPU');
  if (metricsAfter === undefined) notes.push("the engine's /metrics did not answer: no engine view of callbacks");
  return buildResult({
    options,
    command: context.command,
    startedAt,
    document: target.document,
    engineEnv: engine.env,
    loadAverageAtStart,
    recorder,
    firstAudioMeasure: driver.firstAudioMeasure,
    callerSide: driver.callerSide(),
    maxPlacingLagMs: placing.maxPlacingLagMs,
    processes,
    snapshots: placing.snapshots,
    metricsBefore,
    metricsAfter,
    server: serverReport,
    engineLog: (await engine.logSummary()).lines,
    asteriskLog: target.asteriskProblems(placing.snapshots.start.at),
    idle,
    channelsLeft,
    notes,
    timeline: placing.timeline,
  });
}
