// Just enough of the Prometheus text format to read the engine's /metrics before and after
// a run: counters by one label, and histograms summed over their labels, as differences.

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = LINE.exec(line);
    if (!match?.[1] || match[3] === undefined) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(LABEL)) if (key !== undefined) labels[key] = value ?? '';
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** Sum of `name`'s samples for each value of `label`, `after` minus `before`; zero differences left out. */
export function counterIncrease(before: readonly Sample[], after: readonly Sample[], name: string, label: (labels: Readonly<Record<string, string>>) => string): Record<string, number> {
  const sum = (samples: readonly Sample[]): Map<string, number> => {
    const totals = new Map<string, number>();
    for (const s of samples) if (s.name === name) totals.set(label(s.labels), (totals.get(label(s.labels)) ?? 0) + s.value);
    return totals;
  };
  const was = sum(before);
  const increase: Record<string, number> = {};
  for (const [key, value] of sum(after)) {
    const delta = value - (was.get(key) ?? 0);
    if (delta !== 0) increase[key] = delta;
  }
  return increase;
}

export interface HistogramIncrease {
  readonly count: number;
  readonly sumSeconds: number;
  /** Cumulative counts by upper bound (seconds), ascending, `+Inf` last. */
  readonly buckets: readonly (readonly [number, number])[];
}

/** A histogram's observations between two scrapes, summed over its labels. */
export function histogramIncrease(before: readonly Sample[], after: readonly Sample[], name: string): HistogramIncrease {
  const total = (samples: readonly Sample[], suffix: string): number => samples.filter((s) => s.name === `${name}${suffix}`).reduce((sum, s) => sum + s.value, 0);
  const buckets = (samples: readonly Sample[]): Map<number, number> => {
    const byBound = new Map<number, number>();
    for (const s of samples) {
      if (s.name !== `${name}_bucket` || s.labels['le'] === undefined) continue;
      const bound = s.labels['le'] === '+Inf' ? Infinity : Number(s.labels['le']);
      byBound.set(bound, (byBound.get(bound) ?? 0) + s.value);
    }
    return byBound;
  };
  const was = buckets(before);
  const increase = [...buckets(after)].map(([bound, count]) => [bound, count - (was.get(bound) ?? 0)] as const).sort((a, b) => a[0] - b[0]);
  return { count: total(after, '_count') - total(before, '_count'), sumSeconds: total(after, '_sum') - total(before, '_sum'), buckets: increase };
}

/** The smallest bucket bound holding the `p`th percentile: "p99 ≤ 0.1 s". Null without observations. */
export function bucketPercentile(histogram: HistogramIncrease, p: number): number | null {
  if (histogram.count <= 0) return null;
  const wanted = (p / 100) * histogram.count;
  for (const [bound, count] of histogram.buckets) if (count >= wanted) return bound;
  return Infinity;
}
