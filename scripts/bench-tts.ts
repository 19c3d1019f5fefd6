// npx tsx scripts/bench-tts.ts — speech with espeak-ng through the media store: renderings
// per second with a cold cache (distinct texts) and a warm one, and the time from
// `TtsSpeech.render()` to the MediaRef on a warm cache (p50/p99). Prints; asserts nothing.
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { httpLocator } from '../lib/media/locator.js';
import { MediaStore } from '../lib/media/store.js';
import { EspeakEngine } from '../lib/tts/espeak.js';
import { TtsSpeech } from '../lib/tts/speech.js';
import type { Logger } from '../lib/flow/ports.js';
import type { Voice } from '../lib/xml/index.js';

const VOICE: Voice = { lang: 'en-US', gender: 'FEMALE', type: 'Standard' };
const COLD = 200;
const COLD_CONCURRENCY = Math.max(1, Math.min(8, availableParallelism()));
const WARM = 20_000;
const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** A typical IVR prompt, made distinct by its number. */
const prompt = (i: number) => `Thank you for calling. Your reference number is ${i}. Please hold while we connect you.`;

async function runAll(count: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-tts-'));
  try {
    const store = await MediaStore.open({ dir, maxBytes: 1_000_000_000, log: silent });
    const engine = await EspeakEngine.create({ log: silent });
    const speech = new TtsSpeech({ engine, store, locator: httpLocator('http://app:8080'), renderTimeoutMs: 30_000, log: silent });
    const signal = new AbortController().signal;

    for (const concurrency of [1, COLD_CONCURRENCY]) {
      const offset = concurrency * 1_000_000;
      const started = performance.now();
      await runAll(COLD, concurrency, (i) => speech.render(prompt(offset + i), VOICE, signal));
      const seconds = (performance.now() - started) / 1000;
      console.log(
        `cold: ${COLD} distinct prompts, ${concurrency} at a time, in ${seconds.toFixed(2)} s = ${(COLD / seconds).toFixed(1)} renderings/s (${((seconds / COLD) * 1000).toFixed(1)} ms each)`,
      );
    }

    const warmTexts = Array.from({ length: 100 }, (_, i) => prompt(1_000_000 + i)); // rendered above
    for (let i = 0; i < 1000; i++) await speech.render(warmTexts[i % warmTexts.length] ?? '', VOICE, signal); // warm up the JIT
    const latencies: number[] = [];
    const started = performance.now();
    for (let i = 0; i < WARM; i++) {
      const t = performance.now();
      await speech.render(warmTexts[i % warmTexts.length] ?? '', VOICE, signal);
      latencies.push(performance.now() - t);
    }
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    console.log(`warm: ${WARM} cached renderings in ${seconds.toFixed(2)} s = ${Math.round(WARM / seconds)} renderings/s`);
    console.log(
      `warm render() → MediaRef: p50 ${(percentile(latencies, 50) * 1000).toFixed(0)} µs, p99 ${(percentile(latencies, 99) * 1000).toFixed(0)} µs, max ${(percentile(latencies, 100)).toFixed(2)} ms (target p99 < 5 ms)`,
    );
    console.log(`store: ${store.size} bytes in ${dir}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
