// A LoadResult for people: the table printed at the end of a run (or by --report), and the
// difference from an earlier result (--compare).
import { readFile } from 'node:fs/promises';
import { RESULT_SCHEMA, type LoadResult } from './result.js';
import type { Distribution } from './stats.js';

export async function readResult(file: string): Promise<LoadResult> {
  const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<LoadResult>;
  if (parsed.schema !== RESULT_SCHEMA) throw new Error(`${file} is not a load result (schema ${String(parsed.schema)}, expected ${RESULT_SCHEMA})`);
  return parsed as LoadResult;
}

const show = (value: number | null | undefined, unit = ''): string => (value === null || value === undefined ? '-' : value === Infinity ? '>max' : `${value}${unit}`);

function columns(rows: readonly (readonly string[])[], alignRight: (column: number) => boolean): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? [];
  return rows.map((row) =>
    row
      .map((cell, i) => (alignRight(i) ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

/** A row of the latency table; a figure an older result does not have shows as `-`. */
function latencyRow(label: string, d: Distribution | undefined): string[] {
  return [`  ${label}`, show(d?.count), show(d?.p50), show(d?.p99), show(d?.max)];
}

/** A title and one `count  what` line per entry (the first `limit`), or nothing when there is none. */
function counted(title: string, counts: Readonly<Record<string, number>>, limit = Infinity): string[] {
  const entries = Object.entries(counts);
  if (entries.length === 0) return [];
  const more = entries.length > limit ? [`  … and ${entries.length - limit} more in the JSON file`] : [];
  return [title, ...entries.slice(0, limit).map(([what, count]) => `  ${String(count).padStart(6)}  ${what}`), ...more];
}

export function formatTable(result: LoadResult): string {
  const { settings, calls, throughput, latencyMs: l, callbacks, processes } = result;
  const lines: string[] = [];
  const where = settings.target === 'fake' ? 'the fake ARI' : settings.asterisk === 'running' ? 'a running Asterisk' : 'Asterisk (started by the tool)';
  lines.push(
    `opentact-ari load: flow ${settings.flow} on ${where}, ${settings.rate} calls/s for ${settings.durationSeconds} s; engine ${settings.engine}; ${result.machine.cpus} CPUs (load ${result.machine.loadAverageAtStart.join(' ')} at start)`,
    '',
    `calls       placed ${calls.placed}   completed ${calls.completed} (${calls.completedPercent} %)   failed ${calls.failed}   refused ${calls.refused}`,
    `throughput  offered ${throughput.offeredPerSecond}/s over ${throughput.placingSeconds} s; reached the engine at ${show(throughput.reachedEnginePerSecond)}/s; completed ${throughput.completedPerSecond}/s; last call over ${throughput.drainSeconds} s after the last placed${throughput.maxPlacingLagMs > 50 ? `; placing fell behind by up to ${throughput.maxPlacingLagMs} ms` : ''}`,
    '',
  );
  lines.push(
    ...columns(
      [
        ['latency (ms)', 'calls', 'p50', 'p99', 'max'],
        latencyRow('placed → StasisStart (callers, dialplan)', l.placedToStasis),
        latencyRow('StasisStart → first audio', l.firstAudio),
        latencyRow('StasisStart → answer', l.answer),
        ...(l.refusal === undefined || l.refusal.count === 0 ? [] : [latencyRow('refused call, StasisStart → hung up', l.refusal)]),
        latencyRow('audio end → callback at server', l.callbackRequest),
        latencyRow('callback at server → hang-up', l.callbackToHangup),
        latencyRow('last audio end → hang-up', l.lastAudioToHangup),
        latencyRow('completed call, StasisStart → end', l.completedCallDuration),
        ...(result.callerSide === null || result.callerSide === undefined
          ? []
          : [
              ...Object.entries(result.callerSide.requestMs).map(([request, times]) => latencyRow(`callers' ARI ${request}`, times)),
              latencyRow("callers' events, late by", result.callerSide.eventLagMs),
            ]),
      ],
      (i) => i > 0,
    ),
  );
  lines.push(`  (first audio: ${l.firstAudioMeasure})`);
  const engineCallbacks = callbacks.engine;
  if (engineCallbacks !== null && engineCallbacks.count > 0) {
    const outcomes = Object.entries(engineCallbacks.byOutcome)
      .map(([outcome, count]) => `${outcome} ${count}`)
      .join(', ');
    lines.push(`  engine's callback latency (/metrics, queue wait included): ${engineCallbacks.count} callbacks, mean ${show(engineCallbacks.meanMs)} ms, p50 ≤ ${show(engineCallbacks.p50AtMostMs)} ms, p99 ≤ ${show(engineCallbacks.p99AtMostMs)} ms (${outcomes})`);
  }
  lines.push('');
  lines.push(
    ...columns(
      [
        ['process', 'pid', '% of a core', 'idle %', 'CPU ms/call', 'peak RSS MB'],
        ...Object.entries(processes).map(([role, p]) => [`  ${role}`, String(p.pid), String(p.percentOfCore), show(p.idlePercentOfCore), String(p.cpuMsPerCall), String(p.peakRssMb)]),
      ],
      (i) => i > 0,
    ),
  );
  lines.push('  (% of a core while placing, and idle before the first call; CPU ms per call placed, from the first call placed to the last call over)');
  lines.push(...counted('failed, by reason', calls.failedByReason), ...counted('refused, by reason', calls.refusedByReason));
  const view = result.engineView;
  if (view !== null) {
    const list = (counts: Readonly<Record<string, number>>): string => Object.entries(counts).map(([key, count]) => `${key} ${count}`).join(', ') || 'none';
    lines.push(`engine's view (/metrics): calls ended ${list(view.callsEnded)}; refused ${list(view.callsRefused)}; verbs failed ${list(view.verbFailures)}`);
  }
  lines.push(...counted("engine's warnings and errors", result.engineLog, 8), ...counted("Asterisk's warnings and errors", result.asteriskLog, 8));
  if (result.channelsLeft !== null && result.channelsLeft > 0) lines.push(`channels of the run left on Asterisk: ${result.channelsLeft}`);
  for (const note of result.notes) lines.push(`note: ${note}`);
  return lines.join('\n');
}

/** The figures --compare sets side by side, with whether a rise is better. */
const COMPARED: readonly { readonly label: string; readonly pick: (r: LoadResult) => number | null | undefined; readonly higherIsBetter: boolean }[] = [
  { label: 'completed %', pick: (r) => r.calls.completedPercent, higherIsBetter: true },
  { label: 'failed', pick: (r) => r.calls.failed, higherIsBetter: false },
  { label: 'refused', pick: (r) => r.calls.refused, higherIsBetter: false },
  { label: 'completed calls/s', pick: (r) => r.throughput.completedPerSecond, higherIsBetter: true },
  { label: 'first audio p50 ms', pick: (r) => r.latencyMs.firstAudio.p50, higherIsBetter: false },
  { label: 'first audio p99 ms', pick: (r) => r.latencyMs.firstAudio.p99, higherIsBetter: false },
  { label: 'first audio max ms', pick: (r) => r.latencyMs.firstAudio.max, higherIsBetter: false },
  { label: 'audio end → callback p99 ms', pick: (r) => r.latencyMs.callbackRequest.p99, higherIsBetter: false },
  { label: 'callback → hang-up p99 ms', pick: (r) => r.latencyMs.callbackToHangup.p99, higherIsBetter: false },
  { label: 'engine % of a core', pick: (r) => r.processes['engine']?.percentOfCore, higherIsBetter: false },
  { label: 'engine CPU ms/call', pick: (r) => r.processes['engine']?.cpuMsPerCall, higherIsBetter: false },
  { label: 'engine peak RSS MB', pick: (r) => r.processes['engine']?.peakRssMb, higherIsBetter: false },
  { label: 'asterisk % of a core', pick: (r) => r.processes['asterisk']?.percentOfCore ?? r.processes['fake-ari']?.percentOfCore, higherIsBetter: false },
  { label: 'redis % of a core', pick: (r) => r.processes['redis']?.percentOfCore, higherIsBetter: false },
];

export function formatComparison(before: LoadResult, now: LoadResult, beforeName: string): string {
  const settingsDiffer = (['target', 'flow', 'rate', 'durationSeconds', 'promptMs'] as const).filter((key) => before.settings[key] !== now.settings[key]);
  const rows = COMPARED.map(({ label, pick, higherIsBetter }) => {
    const a = pick(before);
    const b = pick(now);
    if (a === null || a === undefined || b === null || b === undefined) return [label, show(a), show(b), ''];
    const delta = b - a;
    const percent = a === 0 ? '' : ` (${delta >= 0 ? '+' : ''}${((100 * delta) / a).toFixed(0)} %)`;
    const verdict = delta === 0 ? '' : delta > 0 === higherIsBetter ? '  better' : '  worse';
    return [label, show(a), show(b), `${delta >= 0 ? '+' : ''}${Number(delta.toFixed(2))}${percent}${verdict}`];
  });
  const lines = [`compared with ${beforeName} (${before.startedAt})`];
  if (settingsDiffer.length > 0) lines.push(`  the runs differ in: ${settingsDiffer.map((key) => `${key} ${String(before.settings[key])} → ${String(now.settings[key])}`).join(', ')}`);
  lines.push(...columns([['figure', 'before', 'now', 'change'], ...rows], (i) => i === 1 || i === 2).map((line) => `  ${line}`));
  return lines.join('\n');
}
