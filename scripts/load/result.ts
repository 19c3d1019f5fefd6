// The result of a load run, as written to its JSON file and read back by --compare and
// --report. Durations are milliseconds, CPU is seconds or percent of one core.
import type { CallerSideFigures } from './driver.js';
import type { Distribution } from './stats.js';

export const RESULT_SCHEMA = 'opentact-ari-load/1';

export interface ProcessFigures {
  readonly pid: number;
  /** CPU seconds from the first call placed to the last call over. */
  readonly cpuSeconds: number;
  /** Share of one core while calls were being placed (100 = one core busy). */
  readonly percentOfCore: number;
  /** CPU ms per call placed, from the first call placed to the last call over. */
  readonly cpuMsPerCall: number;
  /** The largest resident memory the process ever had (VmHWM), in MB. */
  readonly peakRssMb: number;
  /** Share of one core in the 2 s before the first call, with no call in progress. */
  readonly idlePercentOfCore: number | null;
}

export interface TimelineSecond {
  /** Seconds since the first call was placed. */
  readonly t: number;
  readonly placed: number;
  readonly completed: number;
  readonly failed: number;
  readonly refused: number;
  /** Calls placed and not over yet. */
  readonly live: number;
  /** p99 of StasisStart → first audio of the calls that ended in that second. */
  readonly firstAudioP99Ms: number | null;
  /** Share of one core in that second, by process role. */
  readonly cpu: Readonly<Record<string, number>>;
}

export interface LoadResult {
  readonly schema: typeof RESULT_SCHEMA;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly command: readonly string[];
  readonly settings: {
    readonly target: 'asterisk' | 'fake';
    readonly flow: string;
    readonly rate: number;
    readonly durationSeconds: number;
    readonly promptMs: number;
    readonly callTimeoutSeconds: number;
    readonly warmupCalls: number;
    /** `core set verbose` of the Asterisk the tool started (null: as started, -vvv). */
    readonly asteriskVerbose: number | null;
    readonly asterisk: 'started by the tool' | 'running' | 'fake ARI';
    readonly engine: 'started by the tool' | 'running';
    /** The engine's environment as the tool set it (no password). */
    readonly engineEnv: Readonly<Record<string, string>>;
    /** The flow's document as the tool gave it to the engine it started ('' for a running engine). */
    readonly document: string;
  };
  readonly machine: { readonly cpus: number; readonly cpuModel: string; readonly loadAverageAtStart: readonly number[]; readonly node: string };
  readonly calls: {
    readonly placed: number;
    readonly completed: number;
    readonly failed: number;
    readonly refused: number;
    /** completed / placed, in percent. */
    readonly completedPercent: number;
    readonly failedByReason: Readonly<Record<string, number>>;
    readonly refusedByReason: Readonly<Record<string, number>>;
  };
  readonly throughput: {
    /** Seconds from the first call placed to the last. */
    readonly placingSeconds: number;
    /** Seconds from the last call placed to the last call over. */
    readonly drainSeconds: number;
    /** placed / placingSeconds. */
    readonly offeredPerSecond: number;
    /**
     * Completed calls per second of the time the calls took to reach the engine: the placing
     * window, or longer when they queued on the way (then below the offered rate even when
     * every call completed).
     */
    readonly completedPerSecond: number;
    /**
     * Calls that reached the engine per second: those that entered Stasis, over the time
     * from the first to the last. Below the offered rate when the callers' side or
     * Asterisk could not keep the schedule.
     */
    readonly reachedEnginePerSecond: number;
    /** How far behind its schedule the tool placed a call at worst. */
    readonly maxPlacingLagMs: number;
  };
  readonly latencyMs: {
    /** What firstAudio measures on this target. */
    readonly firstAudioMeasure: string;
    readonly firstAudio: Distribution;
    /** The tool asking for the call → its channel entering Stasis: the callers' side, and Asterisk's dialplan. */
    readonly placedToStasis: Distribution;
    /** Entering Stasis → the engine's channel Up. */
    readonly answer: Distribution;
    /** A refused call: entering Stasis → its channel destroyed (absent in results of older versions). */
    readonly refusal?: Distribution;
    /** End of the audio that preceded the first callback → that callback at the server. */
    readonly callbackRequest: Distribution;
    /** The last callback at the server → the engine's channel destroyed. */
    readonly callbackToHangup: Distribution;
    /** End of the last audio → the engine's channel destroyed. */
    readonly lastAudioToHangup: Distribution;
    /** Entering Stasis → destroyed, completed calls. */
    readonly completedCallDuration: Distribution;
  };
  /**
   * How the callers' side (the tester application on Asterisk) kept up: its ARI requests'
   * times, and how late it got Asterisk's events. The latencies above use Asterisk's
   * timestamps, so a late event does not change them; slow requests delay the calls
   * (placed → StasisStart). Null on the fake ARI.
   */
  readonly callerSide: CallerSideFigures | null;
  readonly callbacks: {
    /** Requests the callback server got, by path. */
    readonly serverRequests: Readonly<Record<string, number>>;
    /** The engine's opentact_callback_duration_seconds over the run (null: no /metrics). */
    readonly engine: {
      readonly count: number;
      readonly meanMs: number | null;
      /** The histogram bucket bounds holding p50 and p99. */
      readonly p50AtMostMs: number | null;
      readonly p99AtMostMs: number | null;
      readonly byOutcome: Readonly<Record<string, number>>;
    } | null;
  };
  /** What the engine's /metrics counted over the run (null: no /metrics). */
  readonly engineView: {
    readonly callsEnded: Readonly<Record<string, number>>;
    readonly callsRefused: Readonly<Record<string, number>>;
    /** Verbs that failed, `verb outcome` → count. */
    readonly verbFailures: Readonly<Record<string, number>>;
    /** opentact_first_audio_seconds: the bucket bound holding p99. */
    readonly firstAudioP99AtMostMs: number | null;
  } | null;
  /** By role: engine, asterisk (or fake-ari), redis, callback-server, load-tool. */
  readonly processes: Readonly<Record<string, ProcessFigures>>;
  /** The engine's warnings and errors, `level: message` → lines. */
  readonly engineLog: Readonly<Record<string, number>>;
  /** Asterisk's WARNING and ERROR lines during the run, by message (an Asterisk the tool started). */
  readonly asteriskLog: Readonly<Record<string, number>>;
  /** Channels of the run still on Asterisk after it (null: unknown). */
  readonly channelsLeft: number | null;
  readonly notes: readonly string[];
  readonly timeline: readonly TimelineSecond[];
}
