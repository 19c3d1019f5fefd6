// Prometheus metrics of one process: one registry, every name prefixed `opentact_`,
// Prometheus naming (`_total` counters, `_seconds` in base units). The parts that run
// calls report here from the edges (app/, lib/ari, lib/queue, lib/media, lib/tts); the
// flow interpreter only emits its FlowEvents. Labels are bounded sets (outcomes, failure
// codes, verb names, ARI operations): never a call id, a channel or a URL.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export const METRICS_PREFIX = 'opentact_';

/** What the queue gauges show; read at scrape time. */
export interface QueueReading {
  /** Jobs by BullMQ state (`waiting`, `active`, `delayed`, `failed`, `completed`, …). */
  readonly counts: Readonly<Record<string, number>>;
  /** Age of the oldest job waiting to be taken, in seconds; undefined when none waits. */
  readonly oldestWaitingAgeSeconds: number | undefined;
}

export interface QueueReader {
  read(): Promise<QueueReading>;
}

/** How long a scrape waits for the queue gauges; past it they are left out of that scrape. */
const QUEUE_READ_TIMEOUT_MS = 1000;

export type RemoteAudioOutcome = 'fetched' | 'not_modified' | 'stale' | 'error';

export class Metrics {
  readonly registry = new Registry();
  /** Callbacks as the call sees them (queue wait included): `outcome` ok|error, `code` the failure code. */
  readonly callbacks: Counter<'outcome' | 'code'>;
  readonly callbackDuration: Histogram<'outcome'>;
  readonly callbackAttempts: Histogram<'outcome'>;
  readonly callsActive: Gauge;
  readonly callsEnded: Counter<'reason'>;
  readonly callsRefused: Counter<'reason'>;
  readonly callsResumed: Counter;
  readonly firstAudio: Histogram;
  readonly verbs: Counter<'verb' | 'outcome'>;
  readonly speechRenderings: Counter<'engine' | 'outcome'>;
  readonly speechCacheHits: Counter<'engine'>;
  readonly remoteAudioFetches: Counter<'outcome' | 'code'>;
  readonly ariRequestDuration: Histogram<'operation' | 'outcome'>;
  readonly ariReconnects: Counter;
  readonly ariConnected: Gauge;
  readonly ariRequestsInFlight: Gauge;
  readonly overloadLag: Gauge;
  private readonly queues = new Set<QueueReader>();
  private reading: Promise<QueueReading | undefined> | undefined;

  constructor() {
    const registers = [this.registry];
    const p = METRICS_PREFIX;
    collectDefaultMetrics({ register: this.registry, prefix: p });
    this.callbacks = new Counter({
      name: `${p}callbacks_total`,
      help: 'Callbacks (documents and <Curl>) finished, as the call saw them: outcome ok or error, code the failure code',
      labelNames: ['outcome', 'code'],
      registers,
    });
    this.callbackDuration = new Histogram({
      name: `${p}callback_duration_seconds`,
      help: 'Time from asking for a callback to its outcome, queue wait and retries included',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30],
      registers,
    });
    this.callbackAttempts = new Histogram({
      name: `${p}callback_attempts`,
      help: 'HTTP attempts a callback made before its outcome',
      labelNames: ['outcome'],
      buckets: [0, 1, 2, 3, 4, 5, 7, 10],
      registers,
    });
    this.callsActive = new Gauge({ name: `${p}calls_active`, help: 'Calls whose flow is running in this process', registers });
    this.callsEnded = new Counter({
      name: `${p}calls_ended_total`,
      help: 'Calls ended, by how their flow ended (hangup, end-of-document, caller-hangup, document-limit, internal-error, no-document)',
      labelNames: ['reason'],
      registers,
    });
    this.callsRefused = new Counter({
      name: `${p}calls_refused_total`,
      help:
        'Inbound calls hung up without a flow: unallocated_number (no app for the DID), draining, or refused by admission control ' +
        '(overload_calls: MAX_CALLS reached, overload_rate: MAX_CALLS_PER_SECOND, overload_lag: OVERLOAD_LAG_MS, overload_ari: OVERLOAD_ARI_REQUESTS)',
      labelNames: ['reason'],
      registers,
    });
    this.callsResumed = new Counter({
      name: `${p}calls_resumed_total`,
      help: 'Calls this process took over from a process that crashed, was killed or handed them over',
      registers,
    });
    this.firstAudio = new Histogram({
      name: `${p}first_audio_seconds`,
      help: 'Time from StasisStart to the first playback Asterisk accepted on the call',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10],
      registers,
    });
    this.verbs = new Counter({
      name: `${p}verbs_total`,
      help: 'Verbs run, by verb and outcome (ok, or the failure code)',
      labelNames: ['verb', 'outcome'],
      registers,
    });
    this.speechRenderings = new Counter({
      name: `${p}speech_renderings_total`,
      help: 'Texts rendered by the speech engine (cache misses and pre-renderings), by outcome',
      labelNames: ['engine', 'outcome'],
      registers,
    });
    this.speechCacheHits = new Counter({
      name: `${p}speech_cache_hits_total`,
      help: '<Say> texts a call got from the media store without rendering them',
      labelNames: ['engine'],
      registers,
    });
    this.remoteAudioFetches = new Counter({
      name: `${p}remote_audio_fetches_total`,
      help: '<Play> URL fetches and revalidations: fetched, not_modified, stale (server failed, stored copy played) or error (with its code)',
      labelNames: ['outcome', 'code'],
      registers,
    });
    this.ariRequestDuration = new Histogram({
      name: `${p}ari_request_duration_seconds`,
      help: 'ARI REST requests by operation and outcome (ok, not_found, timeout, not_connected, error), with their duration',
      labelNames: ['operation', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.ariReconnects = new Counter({ name: `${p}ari_reconnects_total`, help: 'Times the ARI WebSocket was opened again after it closed', registers });
    this.ariConnected = new Gauge({ name: `${p}ari_connected`, help: '1 while the ARI WebSocket is open', registers });
    this.ariRequestsInFlight = new Gauge({
      name: `${p}ari_requests_in_flight`,
      help: 'ARI REST requests sent or waiting for a connection, not yet answered (new calls are refused from OVERLOAD_ARI_REQUESTS)',
      registers,
    });
    this.overloadLag = new Gauge({
      name: `${p}overload_event_loop_lag_seconds`,
      help: 'The moving event-loop lag admission control watches (new calls are refused from OVERLOAD_LAG_MS)',
      registers,
    });
    const scrape = (): Promise<QueueReading | undefined> => this.readQueues();
    new Gauge({
      name: `${p}queue_jobs`,
      help: 'Callback jobs in the queue by state, read from Redis at scrape time (the same figure from every process on the queue)',
      labelNames: ['state'],
      registers,
      async collect() {
        const reading = await scrape();
        this.reset();
        if (reading === undefined) return;
        for (const [state, count] of Object.entries(reading.counts)) this.set({ state }, count);
      },
    });
    new Gauge({
      name: `${p}queue_oldest_waiting_age_seconds`,
      help: 'Age of the oldest callback job waiting for a worker, read at scrape time (0 when none waits)',
      registers,
      async collect() {
        const reading = await scrape();
        this.reset();
        if (reading === undefined) return;
        this.set(reading.oldestWaitingAgeSeconds ?? 0);
      },
    });
  }

  /** The Content-Type of `scrape()`. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every metric in the Prometheus text format. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  /** Shows a queue in the queue gauges; returns its removal. */
  watchQueue(reader: QueueReader): () => void {
    this.queues.add(reader);
    return () => this.queues.delete(reader);
  }

  /** Duration in seconds since `startedMs` (a performance.now() reading). */
  static secondsSince(startedMs: number): number {
    return (performance.now() - startedMs) / 1000;
  }

  // Both queue gauges collect concurrently within one scrape: they share one reading.
  private readQueues(): Promise<QueueReading | undefined> {
    this.reading ??= this.readOnce().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  private async readOnce(): Promise<QueueReading | undefined> {
    const [reader] = this.queues;
    if (reader === undefined) return undefined;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), QUEUE_READ_TIMEOUT_MS);
    });
    try {
      return await Promise.race([reader.read().catch(() => undefined), late]);
    } finally {
      clearTimeout(timer);
    }
  }
}
