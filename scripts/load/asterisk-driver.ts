// Calls into a real Asterisk, as the project's tests place them: a Local channel pair
// `Local/<DID>@from-trunk` created with formats=ulaw (nothing is resampled) whose `;1` half
// sits in a tester ARI application of the tool's own and plays the caller, while the `;2`
// half runs the project's dialplan, as a call from the trunk would, into the engine's
// Stasis application. The pairs are made ready ahead, the tester already subscribed to
// their `;2` half (caller-lines.ts), so a call is placed at its moment by one request:
// POST /channels/<;1>/dial. The tester then sees the engine's channel: entering Stasis()
// (ChannelDialplan), the answer, each playback, the hang-up with its cause; times come from
// Asterisk's own event timestamps, so neither the tool's event loop nor Asterisk queueing
// the tester's events blurs them.
//
// The tester application has no subscribeAll (asterisk/asterisk#2170), sets an event
// filter so Asterisk sends it only what it reads, and bounds every request.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { AriRest, type AriAnswer, type AriCredentials } from './ari-rest.js';
import { asteriskTime, CallWatch, engineChannelOf, type WatchedEvent } from './call-watch.js';
import type { CallObservation } from './call-outcome.js';
import { CallerLines } from './caller-lines.js';
import { within } from './children.js';
import type { CallDriver, CallerSideFigures, CallPlan } from './driver.js';
import { distribution } from './stats.js';

const REQUEST_TIMEOUT_MS = 5000;
/** How long after hanging up a timed-out call its end is awaited. */
const HANGUP_WAIT_MS = 5000;
/** How long to wait before dialling again a caller's half not yet in the tester's application. */
const DIAL_RETRY_MS = 10;
/** How long the channels of the run get to go after the last call is over. */
const LEFTOVER_SETTLE_MS = 10_000;
/**
 * Tester connections to Asterisk's HTTP server: its sessionlimit (100) is shared with the
 * engine's ARI_MAX_CONNECTIONS (50) and the two WebSockets.
 */
const MAX_SOCKETS = 32;
const EVENTS = ['ChannelDialplan', 'ChannelStateChange', 'PlaybackStarted', 'PlaybackFinished', 'ChannelDestroyed'];

export interface AsteriskDriverOptions {
  readonly ari: AriCredentials;
  /** Dialplan context of the Local channels: the trunk's, `from-trunk`. */
  readonly context: string;
  readonly did: string;
  readonly callTimeoutMs: number;
  /** Calls per second, for how many caller lines are kept ready. */
  readonly rate: number;
}

interface TesterEvent extends WatchedEvent {
  readonly timestamp?: string;
}

export class AsteriskDriver implements CallDriver {
  readonly firstAudioMeasure =
    "Asterisk's timestamps on the engine's channel (the ;2 half of the Local pair): its ChannelDialplan event for the Stasis application (the moment it enters Stasis(), just before the engine's StasisStart) → its first PlaybackStarted";
  /** The tester application's name; also the prefix of every channel id of this run. */
  private readonly app = `load-${randomUUID().slice(0, 8)}`;
  private readonly rest: AriRest;
  /** Calls in progress by their two channel ids (the caller's half, the engine's half). */
  private readonly byChannel = new Map<string, CallWatch>();
  private ws: WebSocket | undefined;
  private closing = false;
  private drops = 0;
  /** How late each event reached the tester: its arrival minus Asterisk's timestamp, ms. */
  private readonly lags: number[] = [];
  /** How long each request that places a call took to be answered, ms, by request. */
  private readonly requestTimes = { create: [] as number[], subscription: [] as number[], dial: [] as number[] };
  private readonly lines: CallerLines;

  private constructor(private readonly options: AsteriskDriverOptions) {
    this.rest = new AriRest(options.ari, MAX_SOCKETS);
    this.lines = new CallerLines({
      rest: this.rest,
      app: this.app,
      endpoint: `Local/${options.did}@${options.context}`,
      rate: options.rate,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      timed: (what, request) => this.timed(what, request),
    });
  }

  static async start(options: AsteriskDriverOptions): Promise<AsteriskDriver> {
    const driver = new AsteriskDriver(options);
    await driver.connect();
    driver.lines.start();
    return driver;
  }

  private async connect(): Promise<void> {
    const { ari } = this.options;
    const url = `${ari.url.replace(/^http/, 'ws')}/ari/events?app=${this.app}`;
    const authorization = `Basic ${Buffer.from(`${ari.username}:${ari.password}`).toString('base64')}`;
    const ws = new WebSocket(url, { headers: { authorization }, handshakeTimeout: REQUEST_TIMEOUT_MS });
    ws.on('message', (data) => this.onEvent(JSON.parse(String(data)) as TesterEvent));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.on('error', () => undefined);
    // Asterisk drops a WebSocket that does not take its events within ari.conf's
    // websocket_write_timeout (100 ms): come back, and say so in the report.
    ws.once('close', () => {
      if (this.closing) return;
      this.drops += 1;
      process.stderr.write(`\nload: the tester's ARI WebSocket closed; reconnecting\n`);
      this.connect().catch((error: unknown) => process.stderr.write(`load: the tester could not reconnect: ${String(error)}\n`));
    });
    this.ws = ws;
    const filter = await this.rest.request('PUT', `/ari/applications/${this.app}/eventFilter`, { allowed: EVENTS.map((type) => ({ type })) }, REQUEST_TIMEOUT_MS);
    if (filter.status !== 200) process.stderr.write(`load: the tester's event filter was refused (${filter.status}); it gets every event\n`);
  }

  private onEvent(event: TesterEvent): void {
    const channel = engineChannelOf(event);
    if (channel === undefined) return;
    const watch = this.byChannel.get(channel);
    if (watch === undefined || channel !== watch.channelId) return;
    const at = asteriskTime(event.timestamp);
    if (at !== undefined) this.lags.push(Date.now() - at);
    watch.feed(event, at ?? Date.now());
  }

  /** A request that makes a line or places a call, timed. */
  private async timed(what: keyof AsteriskDriver['requestTimes'], request: Promise<AriAnswer>): Promise<AriAnswer> {
    const sent = performance.now();
    const answer = await request;
    this.requestTimes[what].push(Math.round(performance.now() - sent));
    return answer;
  }

  async call(plan: CallPlan): Promise<CallObservation> {
    const line = await this.lines.take(REQUEST_TIMEOUT_MS);
    if (typeof line === 'string') return this.notPlaced(new CallWatch(plan.index, '', Date.now(), '', 'ChannelDialplan'), line);
    const watch = new CallWatch(plan.index, line.from, Date.now(), line.engine, 'ChannelDialplan');
    this.byChannel.set(line.engine, watch);
    try {
      const dial = await this.dial(line.caller);
      if (dial !== 204) return this.notPlaced(watch, `dial answered ${dial}`);
      const left = this.options.callTimeoutMs - (Date.now() - watch.placedAt);
      if ((await within(watch.ended, Math.max(0, left))) === 'timeout') {
        watch.timedOut();
        await this.hangUp(line.caller);
        await within(watch.ended, HANGUP_WAIT_MS);
      }
      return watch.observation();
    } catch (error) {
      if (!watch.isOver) watch.notPlaced(`dial: ${error instanceof Error ? error.message : String(error)}`);
      return watch.observation();
    } finally {
      // Whatever went wrong, the caller's half goes.
      if (!watch.channelGone) await this.hangUp(line.caller);
      this.byChannel.delete(line.engine);
    }
  }

  /**
   * Dials the caller's half. It takes commands only once in the tester's application, which
   * a thread of Asterisk's does just after `create` answers: a line dialled sooner is
   * refused (409), and dialled again.
   */
  private async dial(caller: string): Promise<number> {
    const deadline = Date.now() + REQUEST_TIMEOUT_MS;
    for (;;) {
      const status = (await this.timed('dial', this.rest.request('POST', `/ari/channels/${caller}/dial`, undefined, REQUEST_TIMEOUT_MS))).status;
      if (status !== 409 || Date.now() >= deadline) return status;
      await sleep(DIAL_RETRY_MS);
    }
  }

  private notPlaced(watch: CallWatch, why: string): CallObservation {
    watch.notPlaced(why);
    return watch.observation();
  }

  private async hangUp(caller: string): Promise<void> {
    await this.rest.request('DELETE', `/ari/channels/${caller}`, undefined, REQUEST_TIMEOUT_MS).catch(() => undefined);
  }

  /** This run's channels still on Asterisk, or null when Asterisk does not say. */
  private async ownChannels(): Promise<string[] | null> {
    try {
      const answer = await this.rest.request('GET', '/ari/channels', undefined, REQUEST_TIMEOUT_MS);
      if (answer.status !== 200) return null;
      return (JSON.parse(answer.text) as { id: string }[]).map((channel) => channel.id).filter((id) => id.startsWith(this.app));
    } catch {
      return null;
    }
  }

  /**
   * How many of this run's channels are still on Asterisk, waiting up to LEFTOVER_SETTLE_MS
   * for the last hang-ups. The lines made ready for calls that never came go first.
   */
  async leftovers(): Promise<number | null> {
    await Promise.all(this.lines.close().map((line) => this.hangUp(line.caller)));
    const deadline = Date.now() + LEFTOVER_SETTLE_MS;
    for (;;) {
      const channels = await this.ownChannels();
      if (channels === null || channels.length === 0 || Date.now() >= deadline) return channels?.length ?? null;
      // Asterisk tells the tester nothing about channels it no longer watches: poll.
      await sleep(500);
    }
  }

  callerSide(): CallerSideFigures {
    const { create, subscription, dial } = this.requestTimes;
    return { requestMs: { create: distribution(create), subscription: distribution(subscription), dial: distribution(dial) }, eventLagMs: distribution(this.lags) };
  }

  notes(): readonly string[] {
    if (this.drops === 0) return [];
    return [`the tester's ARI WebSocket was dropped ${this.drops} time(s) (the tool's event loop was too slow for Asterisk's websocket_write_timeout): calls in progress then may show as timed out`];
  }

  /** Hangs up what the run left on Asterisk (a running Asterisk outlives the tool), then goes. */
  async close(): Promise<void> {
    await Promise.all(this.lines.close().map((line) => this.hangUp(line.caller)));
    const left = (await this.ownChannels()) ?? [];
    if (left.length > 0) {
      process.stderr.write(`load: hanging up the ${left.length} channel(s) the run left on Asterisk\n`);
      await Promise.all(left.map((id) => this.hangUp(id)));
    }
    this.closing = true;
    const ws = this.ws;
    this.ws = undefined;
    if (ws !== undefined && ws.readyState === WebSocket.OPEN) {
      const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
      ws.close();
      await within(closed, 2000);
      ws.terminate();
    }
    this.rest.close();
  }
}
