// Writes every call's trail to Redis without ever slowing or failing the call: lines
// are queued in memory and written in the background, in batches (one pipeline of
// RPUSH/EXPIRE/SET/ZADD per turn of the event loop). While Redis is away the queue is
// kept, up to a bound; beyond it new writes are dropped and counted. Trouble is logged
// once per outage.
import type { EventSink, FlowEvent, HangupRequest, Logger } from '../flow/ports.js';
import { pipelineWrite, RedisBacklog, type RedisCommand } from '../queue/redis-backlog.js';
import type { RedisTarget } from '../queue/redis.js';
import { Timeline, type TimelineLine } from '../simulator/timeline.js';
import { DEFAULT_MAX_EVENTS, trailKeys, type TrailKeys, type TrailSummary } from './keys.js';

/** Commands waiting for Redis, at most (about 100 calls' worth of lines). */
const DEFAULT_MAX_BACKLOG = 50_000;
/** Commands sent in one pipeline. */
const BATCH = 1000;

export interface CallTrailsOptions {
  readonly connection: RedisTarget;
  /** QUEUE_PREFIX. */
  readonly prefix: string;
  /** CALL_TRAIL_TTL, in seconds (> 0). */
  readonly ttlSeconds: number;
  /** Lines kept per call; default 500. */
  readonly maxEvents?: number;
  /** Commands kept in memory while Redis is away; default 50 000. */
  readonly maxBacklog?: number;
  readonly log: Logger;
}

/** What the stasis role knows of a call when it starts. */
export interface TrailStart {
  readonly call: string;
  readonly did: string;
  readonly from: string;
  readonly app: { readonly uuid: string; readonly name: string };
  readonly channel: string;
}

/** The trails of the calls of one process, on one Redis connection of their own. */
export class CallTrails {
  readonly keys: TrailKeys;
  readonly ttlSeconds: number;
  readonly maxEvents: number;
  private readonly pending: RedisBacklog<RedisCommand>;

  constructor(options: CallTrailsOptions) {
    this.keys = trailKeys(options.prefix);
    this.ttlSeconds = options.ttlSeconds;
    this.maxEvents = options.maxEvents ?? DEFAULT_MAX_EVENTS;
    const { log } = options;
    this.pending = new RedisBacklog<RedisCommand>({
      connection: options.connection,
      connectionName: `${options.prefix}:trail`,
      maxItems: options.maxBacklog ?? DEFAULT_MAX_BACKLOG,
      batchSize: BATCH,
      log,
      messages: {
        full: 'call trail: backlog full while Redis is away; dropping trail lines until it is back',
        unreachable: 'call trail: Redis is unreachable; keeping trail lines in memory until it is back',
        back: 'call trail: writing to Redis again',
        lostAtClose: 'call trail: Redis did not take the last trail lines before shutdown',
      },
      write: pipelineWrite(log, 'call trail: Redis refused a trail write (logged once)'),
    });
  }

  /** Commands not yet written (the in-memory backlog). */
  get backlog(): number {
    return this.pending.size;
  }

  /** Starts a call's trail: its summary, and its place in the indexes. */
  open(start: TrailStart): CallTrail {
    return new CallTrail(this, start);
  }

  /** Queues commands; never throws, never waits. */
  write(commands: readonly RedisCommand[]): void {
    this.pending.push(commands);
  }

  /** Resolves true once every line queued so far is written, false if that takes longer than `withinMs`. */
  whenWritten(withinMs = 1000): Promise<boolean> {
    return this.pending.whenWritten(withinMs);
  }

  /**
   * Writes what is pending (within `withinMs`, whatever Redis does), then closes the
   * connection; later writes are ignored.
   */
  close(withinMs = 1000): Promise<void> {
    return this.pending.close(withinMs);
  }
}

/**
 * One call's trail: an EventSink for its flow's events (the `simulate` timeline's lines,
 * and a `verb` line for each verb that succeeds), its hang-up with the cause, and its end.
 */
export class CallTrail implements EventSink {
  private readonly timeline: Timeline;
  private readonly started = Date.now();
  private readonly summary: TrailSummary;
  private kept = 0;
  private dropped = 0;
  private ended = false;

  constructor(
    private readonly trails: CallTrails,
    start: TrailStart,
  ) {
    this.summary = { ...start, start: new Date(this.started).toISOString() };
    this.timeline = new Timeline((line) => this.line(line), { verbs: true, started: this.started });
    const { keys, ttlSeconds } = trails;
    const cutoff = `(${this.started - ttlSeconds * 1000}`;
    const indexes = [keys.calls, keys.did(start.did)];
    trails.write([
      ['set', keys.summary(start.call), JSON.stringify(this.summary), 'EX', ttlSeconds],
      ...indexes.flatMap((index): RedisCommand[] => [
        ['zadd', index, this.started, start.call],
        ['zremrangebyscore', index, '-inf', cutoff],
        ['expire', index, ttlSeconds],
      ]),
    ]);
  }

  emit(event: FlowEvent): void {
    if (this.ended) return;
    // As on a console call: the caller's hang-up, then the flow's end.
    if (event.type === 'flow-end' && event.reason === 'caller-hangup') this.timeline.caller({ event: 'caller-hangup' });
    this.timeline.emit(event);
  }

  /** The flow hangs the call up (a `<Hangup>`, an `<Error>`'s, the end of the document…). */
  hangup(request: HangupRequest): void {
    if (this.ended) return;
    const { cause, reason, tag } = request;
    this.timeline.caller({ event: 'hangup', cause, reason, ...(tag === undefined ? {} : { tag }) });
  }

  /** The call is over: `reason` as the flow ended (or `no-document`), `detail` why the channel ended. */
  end(reason: string, detail?: string): void {
    if (this.ended) return;
    this.ended = true;
    const { keys, ttlSeconds } = this.trails;
    const call = this.summary.call;
    if (this.dropped > 0) {
      this.kept += 1;
      const line = { event: 'dropped', dropped: this.dropped, reason: `the trail keeps ${this.trails.maxEvents} lines per call`, t: Date.now() - this.started, path: 'Response' };
      this.trails.write([['rpush', keys.events(call), JSON.stringify(line)], ['expire', keys.events(call), ttlSeconds]]);
    }
    const summary: TrailSummary = {
      ...this.summary,
      end: new Date().toISOString(),
      reason,
      ...(detail === undefined ? {} : { detail }),
      events: this.kept,
      ...(this.dropped > 0 ? { dropped: this.dropped } : {}),
    };
    this.trails.write([['set', keys.summary(call), JSON.stringify(summary), 'EX', ttlSeconds]]);
  }

  private line(line: TimelineLine): void {
    if (this.kept >= this.trails.maxEvents) {
      this.dropped += 1;
      return;
    }
    this.kept += 1;
    const key = this.trails.keys.events(this.summary.call);
    this.trails.write([['rpush', key, JSON.stringify(line)], ['expire', key, this.trails.ttlSeconds]]);
  }
}
