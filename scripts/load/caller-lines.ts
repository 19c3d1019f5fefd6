// Caller lines made ready ahead of their calls, so that placing a call at its moment is a
// single request (the dial). A line is a Local channel pair `Local/<DID>@<context>` created
// with formats=ulaw into the tester application — its `;1` half, the caller, waits there —
// whose `;2` half, the engine's channel to be, the tester is already subscribed to. Lines
// are made in batches, a create each and one subscription for the batch, and only about a
// tenth of a second of calls is kept ready: every line waiting for its dial is a channel in
// Stasis on Asterisk (a thread of its own, events to the tester), so the stock stays small.
import type { AriAnswer, AriRest } from './ari-rest.js';

export interface CallerLine {
  /** The `;1` half: the caller, in the tester application. */
  readonly caller: string;
  /** The `;2` half: the channel that will enter the engine's application. */
  readonly engine: string;
  /** Its caller ID, unique in the run, which the callback requests carry. */
  readonly from: string;
}

export interface CallerLinesOptions {
  readonly rest: AriRest;
  /** The tester application, and the prefix of the channel ids. */
  readonly app: string;
  /** `Local/<DID>@<context>`. */
  readonly endpoint: string;
  /** Calls per second, which sets how many lines are kept ready. */
  readonly rate: number;
  readonly requestTimeoutMs: number;
  /** Times a request (`create`, `subscription`) that makes lines. */
  readonly timed: (what: 'create' | 'subscription', request: Promise<AriAnswer>) => Promise<AriAnswer>;
}

/** Lines kept ready: this many seconds of calls. */
const READY_SECONDS = 0.1;
/** At least this many. */
const READY_MIN = 4;
/** Channels in one subscription request (its URL names each). */
const BATCH_MAX = 50;

export class CallerLines {
  private readonly ready: CallerLine[] = [];
  private readonly waiting: ((line: CallerLine) => void)[] = [];
  private preparing = 0;
  private sequence = 0;
  private closed = false;
  /** Why the last batch failed, for a call that waited for a line in vain. */
  private lastFailure: string | undefined;

  constructor(private readonly options: CallerLinesOptions) {}

  private get target(): number {
    return Math.max(READY_MIN, Math.ceil(this.options.rate * READY_SECONDS));
  }

  /** Starts making lines. */
  start(): void {
    this.refill();
  }

  /** A ready line, or, within `timeoutMs`, the next one made; a string says why there is none. */
  take(timeoutMs: number): Promise<CallerLine | string> {
    const line = this.ready.shift();
    this.refill();
    if (line !== undefined) return Promise.resolve(line);
    return new Promise((resolve) => {
      const deliver = (next: CallerLine): void => {
        clearTimeout(timer);
        resolve(next);
      };
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(deliver), 1);
        resolve(`no caller line ready within ${timeoutMs} ms${this.lastFailure === undefined ? '' : ` (${this.lastFailure})`}`);
      }, timeoutMs);
      this.waiting.push(deliver);
    });
  }

  /** The ready lines, which the tool hangs up at the end; no more are made. */
  close(): CallerLine[] {
    this.closed = true;
    return this.ready.splice(0);
  }

  /** Makes lines once half of the target is used up (or a call waits), so that they come in batches. */
  private refill(): void {
    if (this.closed) return;
    const available = this.ready.length + this.preparing;
    if (this.waiting.length === 0 && available > this.target / 2) return;
    // Calls that wait get a line each, but never more than the target again: calls that
    // time out waiting would leave the surplus unused.
    const missing = this.target + Math.min(this.waiting.length, this.target) - available;
    for (let left = missing; left > 0; left -= BATCH_MAX) void this.prepare(Math.min(left, BATCH_MAX));
  }

  private nextLine(): CallerLine {
    this.sequence += 1;
    const id = `${this.options.app}-${this.sequence}`;
    return { caller: `${id}-caller`, engine: `${id}-engine`, from: `1555${String(this.sequence).padStart(7, '0')}` };
  }

  private async prepare(count: number): Promise<void> {
    this.preparing += count;
    const { rest, app, endpoint, requestTimeoutMs, timed } = this.options;
    const lines = Array.from({ length: count }, () => this.nextLine());
    const created: CallerLine[] = [];
    try {
      await Promise.all(
        lines.map(async (line) => {
          // A Local channel's `;2` half takes its caller ID from the `;1` half's connected line.
          const path = `/ari/channels/create?endpoint=${encodeURIComponent(endpoint)}&app=${app}&channelId=${line.caller}&otherChannelId=${line.engine}&formats=ulaw`;
          // A create answered after the tool gave up on it made a line nobody uses: hang it up.
          const answer = await timed('create', rest.request('POST', path, { variables: { 'CONNECTEDLINE(num)': line.from } }, requestTimeoutMs, (late) => void (late.status === 200 ? this.hangUp(line) : undefined))).catch(
            (error: unknown) => ({ status: 0, text: error instanceof Error ? error.message : String(error) }),
          );
          if (answer.status === 200) created.push(line);
          else this.lastFailure = `create: ${answer.status === 0 ? answer.text : `answered ${answer.status}`}`;
        }),
      );
      if (created.length === 0) return;
      const sources = created.map((line) => `channel:${line.engine}`).join(',');
      const subscribed = await timed('subscription', rest.request('POST', `/ari/applications/${app}/subscription?eventSource=${sources}`, undefined, requestTimeoutMs)).catch(
        (error: unknown) => ({ status: 0, text: error instanceof Error ? error.message : String(error) }),
      );
      if (subscribed.status !== 200) {
        this.lastFailure = `subscription: ${subscribed.status === 0 ? subscribed.text : `answered ${subscribed.status}`}`;
        await Promise.all(created.splice(0).map((line) => this.hangUp(line)));
        return;
      }
      if (this.closed) {
        await Promise.all(created.splice(0).map((line) => this.hangUp(line)));
        return;
      }
      for (const line of created) {
        const waiter = this.waiting.shift();
        if (waiter === undefined) this.ready.push(line);
        else waiter(line);
      }
    } finally {
      this.preparing -= count;
      // A batch that made nothing is not retried at once: the next take() asks again.
      if (created.length > 0) this.refill();
    }
  }

  private async hangUp(line: CallerLine): Promise<void> {
    await this.options.rest.request('DELETE', `/ari/channels/${line.caller}`, undefined, this.options.requestTimeoutMs).catch(() => undefined);
  }
}
