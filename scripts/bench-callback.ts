// What the queue costs a <Callback>: the same fetches made in-process (DirectFetcher, i.e.
// executeFetch) and through the queue (QueueFetcher, a worker in its own process), in one
// run. Prints figures; asserts nothing.
//
//   npm run bench:callback            (REDIS_URL to use a running Redis; else one is started)
//
// The HTTP server runs in a child process of its own, so the CPU figures of this process
// are the calling side only: the direct fetch, or the queue's waiting side.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { DirectFetcher, UrlPolicy } from '../lib/callback/index.js';
import type { CallbackRequest, FlowFetcher } from '../lib/flow/ports.js';
import { CallbackQueue, QueueFetcher, QUEUE_DEFAULTS } from '../lib/queue/index.js';
import { startRedisServer, type RedisServer } from '../test/support/redis.js';
import { stderrLogger } from '../test/support/stderr-logger.js';
import { startWorkerProcess, type WorkerProcess } from '../test/support/worker-processes.js';

const LATENCY_COUNT = 1000;
const THROUGHPUT_COUNT = 5000;
const IN_FLIGHT = 100;
const WARM_UP = 200;
const BUDGET_MS = 10_000;
const ALLOW = '127.0.0.0/8';

// A server that answers a small document at once, keep-alive, in a process of its own.
const SERVER_SOURCE = `
const http = require('node:http');
const body = '<Response><Say>Hello</Say><Hangup/></Response>';
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) }).end(body));
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
process.on('SIGTERM', () => process.exit(0));
`;

async function startHttpServer(): Promise<{ origin: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-e', SERVER_SOURCE], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = (await once(child.stdout ?? child, 'data')) as [Buffer];
  return { origin: `http://127.0.0.1:${chunk.toString().trim()}`, child };
}

function request(origin: string): CallbackRequest {
  return {
    url: `${origin}/next`,
    method: 'POST',
    body: false,
    fields: { call: randomUUID(), sca: 'bench-app', state: 'live', from: '+15550001', tn: '+15550100' },
    path: 'Response/Callback[0]',
    step: 1,
  };
}

async function fetchOne(fetcher: FlowFetcher, origin: string): Promise<void> {
  // A signal per fetch, as each call has its own.
  const result = await fetcher.fetch(request(origin), Date.now() + BUDGET_MS, new AbortController().signal);
  if (!result.ok) throw new Error(`fetch failed: ${result.failure.code}: ${result.failure.reason}`);
}

function percentile(sorted: readonly number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? NaN;
}

interface Latency {
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
}

async function latency(fetcher: FlowFetcher, origin: string, count: number): Promise<Latency> {
  const samples: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const started = performance.now();
    await fetchOne(fetcher, origin);
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99), mean: samples.reduce((a, b) => a + b, 0) / count };
}

interface Throughput {
  readonly perSecond: number;
  /** CPU ms per callback: this process, the worker process when there is one, redis-server. */
  readonly cpuHere: number;
  readonly cpuWorker: number;
  readonly cpuRedis: number;
}

/** redis-server's CPU time so far, in ms (INFO cpu). */
async function redisCpuMs(admin: Redis): Promise<number> {
  const info = await admin.info('cpu');
  const field = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1000;
}

function cpuMs(before: NodeJS.CpuUsage, after: NodeJS.CpuUsage): number {
  return (after.user - before.user + after.system - before.system) / 1000;
}

async function throughput(
  fetcher: FlowFetcher,
  origin: string,
  worker: WorkerProcess | undefined,
  admin: Redis,
): Promise<Throughput> {
  let next = 0;
  const workerBefore = await worker?.cpuUsage();
  const redisBefore = await redisCpuMs(admin);
  const hereBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < THROUGHPUT_COUNT) {
        next += 1;
        await fetchOne(fetcher, origin);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const hereMs = cpuMs(hereBefore, process.cpuUsage());
  const workerMs = worker && workerBefore ? cpuMs(workerBefore, await worker.cpuUsage()) : 0;
  const redisMs = (await redisCpuMs(admin)) - redisBefore;
  return {
    perSecond: THROUGHPUT_COUNT / seconds,
    cpuHere: hereMs / THROUGHPUT_COUNT,
    cpuWorker: workerMs / THROUGHPUT_COUNT,
    cpuRedis: redisMs / THROUGHPUT_COUNT,
  };
}

const ms = (value: number): string => `${value.toFixed(2)} ms`;

async function main(): Promise<void> {
  const fromEnv = process.env['REDIS_URL'];
  let redis: RedisServer | undefined;
  const connection = fromEnv !== undefined && fromEnv !== '' ? fromEnv : (redis = await startRedisServer()).url;
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const http = await startHttpServer();
  const logger = stderrLogger('warn');
  let worker: WorkerProcess | undefined;
  let queue: CallbackQueue | undefined;
  const admin = new Redis(connection, { maxRetriesPerRequest: null });
  try {
    worker = await startWorkerProcess({ connection, prefix, allow: ALLOW, logLevel: 'warn' });
    queue = new CallbackQueue({ connection, prefix }, logger);
    await queue.ready();
    const direct = new DirectFetcher({ env: { policy: new UrlPolicy(ALLOW), secrets: { get: () => undefined }, maxBytes: QUEUE_DEFAULTS.maxBytes } });
    const queued = new QueueFetcher({ queue });

    for (let i = 0; i < WARM_UP; i += 1) {
      await fetchOne(direct, http.origin);
      await fetchOne(queued, http.origin);
    }

    console.log(`Callback benchmark: Node ${process.version}, redis ${connection}, worker concurrency ${QUEUE_DEFAULTS.concurrency}`);
    console.log(`\nLatency, ${LATENCY_COUNT} fetches one at a time:`);
    const directLatency = await latency(direct, http.origin, LATENCY_COUNT);
    const queueLatency = await latency(queued, http.origin, LATENCY_COUNT);
    console.log(`  direct   p50 ${ms(directLatency.p50)}   p99 ${ms(directLatency.p99)}   mean ${ms(directLatency.mean)}`);
    console.log(`  queue    p50 ${ms(queueLatency.p50)}   p99 ${ms(queueLatency.p99)}   mean ${ms(queueLatency.mean)}`);
    console.log(
      `  added    p50 ${ms(queueLatency.p50 - directLatency.p50)} (target ≤ 2 ms)   p99 ${ms(queueLatency.p99 - directLatency.p99)} (target ≤ 5 ms)`,
    );

    console.log(`\nThroughput, ${THROUGHPUT_COUNT} fetches, ${IN_FLIGHT} in flight:`);
    const directRate = await throughput(direct, http.origin, undefined, admin);
    const queueRate = await throughput(queued, http.origin, worker, admin);
    console.log(`  direct   ${directRate.perSecond.toFixed(0)}/s   CPU ${ms(directRate.cpuHere)} per callback`);
    console.log(
      `  queue    ${queueRate.perSecond.toFixed(0)}/s   CPU ${ms(queueRate.cpuHere + queueRate.cpuWorker)} per callback ` +
        `(waiting side ${ms(queueRate.cpuHere)}, worker ${ms(queueRate.cpuWorker)})`,
    );
    console.log(
      `  ratio    ${((100 * queueRate.perSecond) / directRate.perSecond).toFixed(0)}% of direct (target ≥ 60%, and ≥ 1,200/s)`,
    );
    console.log(`  redis-server CPU ${ms(queueRate.cpuRedis)} per queued callback (not counted above; the HTTP server's neither)`);
  } finally {
    admin.disconnect();
    await queue?.close();
    await worker?.stop();
    http.child.kill('SIGTERM');
    await redis?.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
