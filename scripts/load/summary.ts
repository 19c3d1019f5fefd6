// Turns what a run collected — the calls, the callback server's log, the engine's
// /metrics before and after, the processes' CPU — into its LoadResult.
import os from 'node:os';
import type { CallerSideFigures } from './driver.js';
import { flowName } from './flows.js';
import type { ServerReport } from './callback-server.js';
import type { LoadOptions } from './options.js';
import { usageBetween, type ProcessUsage, type Snapshot, type WatchedProcess } from './proc-stats.js';
import { bucketPercentile, counterIncrease, histogramIncrease, parseMetrics, type Sample } from './prometheus.js';
import { firstAudioMs, type RecordedCall, type Recorder } from './recorder.js';
import { RESULT_SCHEMA, type LoadResult, type ProcessFigures, type TimelineSecond } from './result.js';
import { distribution, tally } from './stats.js';

export interface RunRecord {
  readonly options: LoadOptions;
  readonly command: readonly string[];
  readonly startedAt: Date;
  readonly document: string;
  readonly engineEnv: Readonly<Record<string, string>>;
  readonly loadAverageAtStart: readonly number[];
  readonly recorder: Recorder;
  readonly firstAudioMeasure: string;
  readonly callerSide: CallerSideFigures | null;
  readonly maxPlacingLagMs: number;
  readonly processes: readonly WatchedProcess[];
  /** At the first call placed, at the last call placed, once every call was over. */
  readonly snapshots: { readonly start: Snapshot; readonly placed: Snapshot; readonly end: Snapshot };
  readonly metricsBefore: string | undefined;
  readonly metricsAfter: string | undefined;
  readonly server: ServerReport | undefined;
  readonly engineLog: Readonly<Record<string, number>>;
  readonly asteriskLog: Readonly<Record<string, number>>;
  /** Each process's CPU before the first call, with none in progress. */
  readonly idle: readonly ProcessUsage[];
  readonly channelsLeft: number | null;
  readonly notes: readonly string[];
  readonly timeline: readonly TimelineSecond[];
}

const round = (value: number, digits = 1): number => Number(value.toFixed(digits));

/** The moments of a call that intervals are measured between. */
type Moment = 'placedAt' | 'stasisAt' | 'answeredAt' | 'firstAudioAt' | 'lastAudioEndAt' | 'endedAt';

/** `to - from` of every call that has both moments (and passes `keep`). */
function intervals(calls: readonly RecordedCall[], from: Moment, to: Moment, keep: (call: RecordedCall) => boolean = () => true): number[] {
  return calls.flatMap((call) => {
    const start = call.observation[from];
    const end = call.observation[to];
    return keep(call) && start !== undefined && end !== undefined ? [end - start] : [];
  });
}

function callbackLatencies(record: RunRecord): { request: number[]; toHangup: number[] } {
  const arrivals = new Map<string, number[]>();
  for (const [from, at] of record.server?.callbacks ?? []) {
    const list = arrivals.get(from) ?? [];
    list.push(at);
    arrivals.set(from, list);
  }
  const request: number[] = [];
  const toHangup: number[] = [];
  for (const { observation: call } of record.recorder.calls) {
    const list = arrivals.get(call.from);
    const first = list?.[0];
    const last = list?.at(-1);
    if (first !== undefined && call.lastAudioEndAt !== undefined && call.lastAudioEndAt <= first) request.push(first - call.lastAudioEndAt);
    if (last !== undefined && call.endedAt !== undefined && call.endedAt >= last) toHangup.push(call.endedAt - last);
  }
  return { request, toHangup };
}

function engineFigures(before: readonly Sample[], after: readonly Sample[]): Pick<LoadResult, 'engineView'> & { callbacks: LoadResult['callbacks']['engine'] } {
  const callbackSeconds = histogramIncrease(before, after, 'opentact_callback_duration_seconds');
  const ms = (seconds: number | null): number | null => (seconds === null ? null : seconds === Infinity ? Infinity : Math.round(seconds * 1000));
  const verbFailures = counterIncrease(before, after, 'opentact_verbs_total', (labels) => (labels['outcome'] === 'ok' ? '' : `${labels['verb'] ?? '?'} ${labels['outcome'] ?? '?'}`));
  delete verbFailures[''];
  return {
    callbacks: {
      count: callbackSeconds.count,
      meanMs: callbackSeconds.count > 0 ? round((1000 * callbackSeconds.sumSeconds) / callbackSeconds.count) : null,
      p50AtMostMs: ms(bucketPercentile(callbackSeconds, 50)),
      p99AtMostMs: ms(bucketPercentile(callbackSeconds, 99)),
      byOutcome: counterIncrease(before, after, 'opentact_callbacks_total', (labels) => (labels['code'] ? `${labels['outcome'] ?? '?'} ${labels['code']}` : (labels['outcome'] ?? '?'))),
    },
    engineView: {
      callsEnded: counterIncrease(before, after, 'opentact_calls_ended_total', (labels) => labels['reason'] ?? '?'),
      callsRefused: counterIncrease(before, after, 'opentact_calls_refused_total', (labels) => labels['reason'] ?? '?'),
      verbFailures,
      firstAudioP99AtMostMs: ms(bucketPercentile(histogramIncrease(before, after, 'opentact_first_audio_seconds'), 99)),
    },
  };
}

function processFigures(record: RunRecord): Record<string, ProcessFigures> {
  const { start, placed, end } = record.snapshots;
  const figures: Record<string, ProcessFigures> = {};
  for (const process of record.processes) {
    const whole = usageBetween(process, start.readings.get(process.role), end.readings.get(process.role), (end.at - start.at) / 1000);
    const placing = usageBetween(process, start.readings.get(process.role), placed.readings.get(process.role), (placed.at - start.at) / 1000);
    if (whole === undefined) continue;
    const idle = record.idle.find((usage) => usage.role === process.role);
    figures[process.role] = {
      pid: process.pid,
      cpuSeconds: round(whole.cpuSeconds, 2),
      percentOfCore: round(placing?.percentOfCore ?? whole.percentOfCore),
      cpuMsPerCall: round((1000 * whole.cpuSeconds) / Math.max(1, record.recorder.placed), 2),
      peakRssMb: round(whole.peakRssBytes / 1024 / 1024),
      idlePercentOfCore: idle === undefined ? null : round(idle.percentOfCore),
    };
  }
  return figures;
}

/** When the first and the last call entered Stasis (epoch ms), or undefined when none did. */
function stasisSpan(calls: readonly RecordedCall[]): { readonly first: number; readonly last: number; readonly count: number } | undefined {
  const times = calls.flatMap((call) => call.observation.stasisAt ?? []);
  if (times.length === 0) return undefined;
  return { first: Math.min(...times), last: Math.max(...times), count: times.length };
}

/** Seconds from the first call entering Stasis to the last. */
function stasisSeconds(calls: readonly RecordedCall[]): number {
  const span = stasisSpan(calls);
  return span === undefined ? 0 : (span.last - span.first) / 1000;
}

/** Calls that entered Stasis per second, from the first to the last of them. */
function reachedEngineRate(calls: readonly RecordedCall[]): number {
  const span = stasisSpan(calls);
  if (span === undefined || span.last === span.first) return 0;
  // n calls over (last - first) make n - 1 intervals.
  return ((span.count - 1) * 1000) / (span.last - span.first);
}

/**
 * A note when the calls did not reach the engine at the rate asked: the callers' side or
 * Asterisk fell behind, so the run measured a lower load than its rate says.
 */
function scheduleNote(placed: number, placingSeconds: number, calls: readonly RecordedCall[], rate: number): string[] {
  const reached = reachedEngineRate(calls);
  const late = distribution(intervals(calls, 'placedAt', 'stasisAt'));
  if (placed < 20 || (reached >= 0.9 * rate && (late.p50 ?? 0) < 250)) return [];
  return [
    `the calls reached the engine at ${round(reached)}/s, not the ${rate}/s asked (placed → StasisStart p50 ${late.p50 ?? '-'} ms): ` +
      `Asterisk, or the callers' side on it, did not keep up, so this run measured a lower load than its rate (${round(placed / placingSeconds)}/s placed)`,
  ];
}

export function buildResult(record: RunRecord): LoadResult {
  const { options, recorder, snapshots } = record;
  const calls = recorder.calls;
  const placingSeconds = Math.max(0.001, (snapshots.placed.at - snapshots.start.at) / 1000);
  const latencies = callbackLatencies(record);
  const before = parseMetrics(record.metricsBefore ?? '');
  const after = parseMetrics(record.metricsAfter ?? '');
  const engine = record.metricsBefore !== undefined && record.metricsAfter !== undefined ? engineFigures(before, after) : undefined;
  return {
    schema: RESULT_SCHEMA,
    startedAt: record.startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    command: record.command,
    settings: {
      target: options.target,
      flow: flowName(options.flow, options.engine !== undefined, options.did),
      rate: options.rate,
      durationSeconds: options.durationSeconds,
      promptMs: options.promptMs,
      callTimeoutSeconds: options.callTimeoutMs / 1000,
      warmupCalls: options.warmupCalls,
      asteriskVerbose: options.asteriskVerbose ?? null,
      asterisk: options.target === 'fake' ? 'fake ARI' : options.asterisk === undefined ? 'started by the tool' : 'running',
      engine: options.engine === undefined ? 'started by the tool' : 'running',
      engineEnv: record.engineEnv,
      document: record.document,
    },
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', loadAverageAtStart: record.loadAverageAtStart.map((l) => round(l, 2)), node: process.version },
    calls: {
      placed: recorder.placed,
      completed: recorder.completed,
      failed: recorder.failed,
      refused: recorder.refused,
      completedPercent: round((100 * recorder.completed) / Math.max(1, recorder.placed), 2),
      failedByReason: tally(calls.filter((c) => c.classified.outcome === 'failed').map((c) => c.classified.reason ?? '?')),
      refusedByReason: tally(calls.filter((c) => c.classified.outcome === 'refused').map((c) => c.classified.reason ?? '?')),
    },
    throughput: {
      placingSeconds: round(placingSeconds, 2),
      drainSeconds: round((snapshots.end.at - snapshots.placed.at) / 1000, 2),
      offeredPerSecond: round(recorder.placed / placingSeconds),
      completedPerSecond: round(recorder.completed / Math.max(placingSeconds, stasisSeconds(calls))),
      reachedEnginePerSecond: round(reachedEngineRate(calls)),
      maxPlacingLagMs: Math.round(record.maxPlacingLagMs),
    },
    latencyMs: {
      firstAudioMeasure: record.firstAudioMeasure,
      firstAudio: distribution(calls.flatMap((c) => firstAudioMs(c.observation) ?? [])),
      placedToStasis: distribution(intervals(calls, 'placedAt', 'stasisAt')),
      answer: distribution(intervals(calls, 'stasisAt', 'answeredAt')),
      refusal: distribution(intervals(calls, 'stasisAt', 'endedAt', (c) => c.classified.outcome === 'refused')),
      callbackRequest: distribution(latencies.request),
      callbackToHangup: distribution(latencies.toHangup),
      lastAudioToHangup: distribution(intervals(calls, 'lastAudioEndAt', 'endedAt')),
      completedCallDuration: distribution(intervals(calls, 'stasisAt', 'endedAt', (c) => c.classified.outcome === 'completed')),
    },
    callerSide: record.callerSide,
    callbacks: { serverRequests: record.server?.requests ?? {}, engine: engine?.callbacks ?? null },
    engineView: engine?.engineView ?? null,
    processes: processFigures(record),
    engineLog: record.engineLog,
    asteriskLog: record.asteriskLog,
    channelsLeft: record.channelsLeft,
    notes: [...record.notes, ...scheduleNote(recorder.placed, placingSeconds, calls, options.rate)],
    timeline: record.timeline,
  };
}
