// Admission control: decides, for each new inbound call, whether this process takes it.
// A call is refused when the process already carries MAX_CALLS calls, when more than
// MAX_CALLS_PER_SECOND new calls arrive, or when the process is saturated: its event
// loop lags (OVERLOAD_LAG_MS) or too many ARI requests are in flight (OVERLOAD_ARI_REQUESTS).
// Refusing is cheap and synchronous, so that under twice the load the process can carry
// the refused callers learn it at once (their carrier fails over) and the accepted ones
// are served as well as at normal load.
import type { AdmissionSettings } from '../config/index.js';
import type { Logger } from '../flow/ports.js';
import type { Metrics } from '../metrics/metrics.js';

/**
 * Q.850 cause 42, switching equipment congestion: "high traffic", which is what happened.
 * Asterisk 22's chan_pjsip answers it "503 Service Unavailable", as it does cause 34
 * (used when draining), so a trunk tries another route; it tells the two apart in CDRs.
 * Cause 41 would become "603 Decline", which stops the carrier from failing over.
 */
export const OVERLOAD_CAUSE = 42;

/** Why a call was refused: the `reason` label of opentact_calls_refused_total. */
export type OverloadReason = 'overload_calls' | 'overload_rate' | 'overload_lag' | 'overload_ari';

export interface Refusal {
  readonly reason: OverloadReason;
  /** The Q.850 cause to hang the channel up with. */
  readonly cause: number;
}

/** Time in ms (any origin) and one-shot timers: the system's, or a test's. */
export interface Clock {
  now(): number;
  /** Runs `run` after `ms`; returns its cancellation. Must not keep the process alive. */
  after(ms: number, run: () => void): () => void;
}

export const SYSTEM_CLOCK: Clock = {
  now: () => performance.now(),
  after: (ms, run) => {
    const timer = setTimeout(run, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
};

/** A moving measure of the event loop's lag, in ms. */
export interface LagReading {
  readonly ms: number;
}

export interface AdmissionOptions {
  readonly settings: AdmissionSettings;
  readonly log: Logger;
  /** Counts refusals (opentact_calls_refused_total) and shows the moving lag. */
  readonly metrics?: Pick<Metrics, 'callsRefused' | 'overloadLag'>;
  /** ARI requests sent and not yet answered or given up; absent: not watched. */
  readonly ariRequestsInFlight?: () => number;
  /** Default: an EventLoopLag on `clock`, sampling while the Admission is open (when `settings.lagMs` > 0). */
  readonly lag?: LagReading;
  readonly clock?: Clock;
}

/** At most one refusal line per this many ms. */
export const REFUSAL_LOG_INTERVAL_MS = 1000;

/**
 * A saturation signal is on from `on` and stays on until it falls below `off` (half of
 * `on`), so that the refusals do not flap while the value hovers around the limit.
 */
class Hysteresis {
  private active = false;
  constructor(private readonly on: number) {}

  update(value: number): boolean {
    if (this.on <= 0) return false;
    this.active = this.active ? value >= this.on / 2 : value >= this.on;
    return this.active;
  }
}

/** `ratePerSecond` tokens a second, holding at most one second's worth: bursts of that many, that many a second on average. */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly clock: Clock,
  ) {
    this.tokens = ratePerSecond;
    this.updatedAt = clock.now();
  }

  /** Takes a token if there is one. */
  take(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Whether a token is there now (none is taken). */
  get hasToken(): boolean {
    this.refill();
    return this.tokens >= 1;
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.ratePerSecond, this.tokens + ((now - this.updatedAt) * this.ratePerSecond) / 1000);
    this.updatedAt = now;
  }
}

/**
 * The event loop's lag: every SAMPLE_MS a timer notes how late it fired, and the moving
 * value follows those readings (an exponentially weighted mean). One long pause counts
 * for a fifth of its length; a lag that lasts reaches its own value within a few samples.
 */
export class EventLoopLag implements LagReading {
  static readonly SAMPLE_MS = 100;
  /** The weight of each new reading in the moving value. */
  static readonly WEIGHT = 0.2;
  private moving = 0;
  private cancel: (() => void) | undefined;

  constructor(
    private readonly clock: Clock = SYSTEM_CLOCK,
    private readonly onSample: (ms: number) => void = () => undefined,
  ) {}

  get ms(): number {
    return this.moving;
  }

  start(): void {
    if (this.cancel !== undefined) return;
    const schedule = (): void => {
      const due = this.clock.now() + EventLoopLag.SAMPLE_MS;
      this.cancel = this.clock.after(EventLoopLag.SAMPLE_MS, () => {
        this.record(Math.max(0, this.clock.now() - due));
        schedule();
      });
    };
    schedule();
  }

  stop(): void {
    this.cancel?.();
    this.cancel = undefined;
  }

  /** Folds one reading (ms late) into the moving value. */
  record(lateMs: number): void {
    this.moving += EventLoopLag.WEIGHT * (lateMs - this.moving);
    this.onSample(this.moving);
  }
}

/**
 * The refusals since the last line, written at most once per REFUSAL_LOG_INTERVAL_MS:
 * the first refusal after a quiet second at once, the ones after it when the second is up.
 */
class RefusalLog {
  /** The refused channels named in one line; the counts cover them all. */
  static readonly CHANNELS_NAMED = 10;
  private counts: Partial<Record<OverloadReason, number>> = {};
  private channels: string[] = [];
  private lastLineAt = Number.NEGATIVE_INFINITY;
  private cancelPending: (() => void) | undefined;

  constructor(
    private readonly log: Logger,
    private readonly clock: Clock,
    private readonly readings: () => object,
  ) {}

  note(reason: OverloadReason, channel: string): void {
    this.counts[reason] = (this.counts[reason] ?? 0) + 1;
    if (this.channels.length < RefusalLog.CHANNELS_NAMED) this.channels.push(channel);
    if (this.cancelPending !== undefined) return;
    const wait = this.lastLineAt + REFUSAL_LOG_INTERVAL_MS - this.clock.now();
    if (wait <= 0) {
      this.write();
      return;
    }
    this.cancelPending = this.clock.after(wait, () => {
      this.cancelPending = undefined;
      this.write();
    });
  }

  /** Writes what is pending now. */
  flush(): void {
    this.cancelPending?.();
    this.cancelPending = undefined;
    this.write();
  }

  private write(): void {
    const refused = Object.values(this.counts).reduce((sum, n) => sum + n, 0);
    if (refused === 0) return;
    this.log.warn(
      { refused, reasons: this.counts, channels: this.channels, cause: OVERLOAD_CAUSE, ...this.readings() },
      'overload: new calls refused (cause 42, switching equipment congestion)',
    );
    this.counts = {};
    this.channels = [];
    this.lastLineAt = this.clock.now();
  }
}

/** What /ready shows of admission control. */
export interface AdmissionStatus {
  /** The limits a new call would meet now (empty: it would be taken). */
  readonly overload: readonly OverloadReason[];
  /** The moving event-loop lag, in ms. */
  readonly lagMs: number;
  readonly ariRequestsInFlight: number;
}

export class Admission {
  private readonly settings: AdmissionSettings;
  private readonly clock: Clock;
  private readonly bucket: TokenBucket | undefined;
  private readonly lag: LagReading;
  private readonly ownLag: EventLoopLag | undefined;
  private readonly lagSignal: Hysteresis;
  private readonly ariSignal: Hysteresis;
  private readonly refusals: RefusalLog;
  private callsInProgress = 0;

  constructor(private readonly options: AdmissionOptions) {
    this.settings = options.settings;
    this.clock = options.clock ?? SYSTEM_CLOCK;
    this.bucket = this.settings.maxCallsPerSecond > 0 ? new TokenBucket(this.settings.maxCallsPerSecond, this.clock) : undefined;
    if (options.lag !== undefined) {
      this.lag = options.lag;
    } else {
      const metrics = options.metrics;
      this.ownLag = new EventLoopLag(this.clock, metrics === undefined ? undefined : (ms) => metrics.overloadLag.set(ms / 1000));
      this.lag = this.ownLag;
      if (this.settings.lagMs > 0) this.ownLag.start();
    }
    this.lagSignal = new Hysteresis(this.settings.lagMs);
    this.ariSignal = new Hysteresis(this.settings.ariRequests);
    this.refusals = new RefusalLog(options.log, this.clock, () => ({
      calls: this.callsInProgress,
      lagMs: Math.round(this.lag.ms),
      ariRequestsInFlight: this.ariRequestsInFlight(),
    }));
  }

  /**
   * Whether a new call on `channel` is taken, with `callsInProgress` calls running now.
   * A refusal is counted and logged here (at most one line a second); the caller hangs
   * the channel up with the refusal's cause, at once.
   */
  admit(callsInProgress: number, channel: string): Refusal | undefined {
    this.callsInProgress = callsInProgress;
    const reason = this.limitReached(callsInProgress);
    if (reason === undefined) return undefined;
    this.options.metrics?.callsRefused.inc({ reason });
    this.refusals.note(reason, channel);
    return { reason, cause: OVERLOAD_CAUSE };
  }

  status(callsInProgress: number): AdmissionStatus {
    const overload: OverloadReason[] = [];
    const { maxCalls } = this.settings;
    if (maxCalls > 0 && callsInProgress >= maxCalls) overload.push('overload_calls');
    if (this.lagSignal.update(this.lag.ms)) overload.push('overload_lag');
    if (this.ariSignal.update(this.ariRequestsInFlight())) overload.push('overload_ari');
    if (this.bucket !== undefined && !this.bucket.hasToken) overload.push('overload_rate');
    return { overload, lagMs: Math.round(this.lag.ms), ariRequestsInFlight: this.ariRequestsInFlight() };
  }

  /** Stops sampling the lag and writes the refusals not logged yet. */
  close(): void {
    this.ownLag?.stop();
    this.refusals.flush();
  }

  /** The first limit a new call meets; the rate is checked last, so that only a call taken uses up its token. */
  private limitReached(callsInProgress: number): OverloadReason | undefined {
    const { maxCalls } = this.settings;
    if (maxCalls > 0 && callsInProgress >= maxCalls) return 'overload_calls';
    if (this.lagSignal.update(this.lag.ms)) return 'overload_lag';
    if (this.ariSignal.update(this.ariRequestsInFlight())) return 'overload_ari';
    if (this.bucket !== undefined && !this.bucket.take()) return 'overload_rate';
    return undefined;
  }

  private ariRequestsInFlight(): number {
    return this.options.ariRequestsInFlight?.() ?? 0;
  }
}
