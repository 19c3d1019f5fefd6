// Calls into a real Asterisk, as the project's tests place them: a Local channel pair
// `Local/<DID>@from-trunk` created with formats=ulaw (nothing is resampled) whose `;1` half
// sits in a tester ARI application of the tool's own and plays the caller, while the `;2`
// half runs the project's dialplan, as a call from the trunk would, into the engine's
// Stasis application. For each call:
//   POST /channels/create → the `;1` half's StasisStart in the tester →
//   POST /applications/<tester>/subscription?eventSource=channel:<;2> → POST /channels/<;1>/dial.
// The tester then sees the engine's channel: entering Stasis() (ChannelDialplan), the
// answer, each playback, the hang-up with its cause; times come from Asterisk's own event
// timestamps, so the tool's event loop does not blur them.
//
// The tester application has no subscribeAll (asterisk/asterisk#2170), sets an event
// filter so Asterisk sends it only what it reads, and bounds every request.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { AriRest, type AriCredentials } from './ari-rest.js';
import { asteriskTime, CallWatch, engineChannelOf, type WatchedEvent } from './call-watch.js';
import type { CallObservation } from './call-outcome.js';
import { within } from './children.js';
import type { CallDriver, CallPlan } from './driver.js';

const REQUEST_TIMEOUT_MS = 5000;
/** How long after hanging up a timed-out call its end is awaited. */
const HANGUP_WAIT_MS = 5000;
/** How long the channels of the run get to go after the last call is over. */
const LEFTOVER_SETTLE_MS = 10_000;
/** Tester connections to Asterisk's HTTP server (sessionlimit 100 is shared with the engine's 50). */
const MAX_SOCKETS = 32;
const EVENTS = ['StasisStart', 'ChannelDialplan', 'ChannelStateChange', 'PlaybackStarted', 'PlaybackFinished', 'ChannelDestroyed'];

export interface AsteriskDriverOptions {
  readonly ari: AriCredentials;
  /** Dialplan context of the Local channels: the trunk's, `from-trunk`. */
  readonly context: string;
  readonly did: string;
  readonly callTimeoutMs: number;
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
  private readonly callerInStasis = new Map<string, () => void>();
  private ws: WebSocket | undefined;
  private closing = false;
  private drops = 0;
  private sequence = 0;

  private constructor(private readonly options: AsteriskDriverOptions) {
    this.rest = new AriRest(options.ari, MAX_SOCKETS);
  }

  static async start(options: AsteriskDriverOptions): Promise<AsteriskDriver> {
    const driver = new AsteriskDriver(options);
    await driver.connect();
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
    if (event.type === 'StasisStart' && event.channel !== undefined) this.callerInStasis.get(event.channel.id)?.();
    const channel = engineChannelOf(event);
    if (channel === undefined) return;
    const watch = this.byChannel.get(channel);
    if (watch === undefined || channel !== watch.channelId) return;
    watch.feed(event, asteriskTime(event.timestamp) ?? Date.now());
  }

  private async ari(method: string, path: string, body?: unknown): Promise<number> {
    return (await this.rest.request(method, path, body, REQUEST_TIMEOUT_MS)).status;
  }

  async call(plan: CallPlan): Promise<CallObservation> {
    this.sequence += 1;
    const caller = `${this.app}-${this.sequence}-caller`;
    const engine = `${this.app}-${this.sequence}-engine`;
    const watch = new CallWatch(plan.index, Date.now(), engine, 'ChannelDialplan');
    this.byChannel.set(caller, watch);
    this.byChannel.set(engine, watch);
    const inStasis = new Promise<void>((resolve) => this.callerInStasis.set(caller, resolve));
    let created = false;
    try {
      const endpoint = encodeURIComponent(`Local/${this.options.did}@${this.options.context}`);
      // A Local channel's `;2` half takes its caller ID from the `;1` half's connected line.
      const create = await this.ari(
        'POST',
        `/ari/channels/create?endpoint=${endpoint}&app=${this.app}&channelId=${caller}&otherChannelId=${engine}&formats=ulaw`,
        { variables: { 'CONNECTEDLINE(num)': plan.from } },
      );
      if (create !== 200) return this.notPlaced(watch, `create answered ${create}`);
      created = true;
      // Subscribed before the dial, so no event of the engine's channel is missed. The
      // caller's half takes commands only once in the tester's application.
      const subscribe = await this.ari('POST', `/ari/applications/${this.app}/subscription?eventSource=channel:${engine}`);
      if (subscribe !== 200) return this.notPlaced(watch, `subscription answered ${subscribe}`);
      if ((await within(inStasis, REQUEST_TIMEOUT_MS)) === 'timeout') return this.notPlaced(watch, `the caller's half did not enter the tester application within ${REQUEST_TIMEOUT_MS} ms`);
      const dial = await this.ari('POST', `/ari/channels/${caller}/dial`);
      if (dial !== 204) return this.notPlaced(watch, `dial answered ${dial}`);

      const left = this.options.callTimeoutMs - (Date.now() - watch.placedAt);
      if ((await within(watch.ended, Math.max(0, left))) === 'timeout') {
        watch.timedOut();
        await this.hangUp(caller);
        await within(watch.ended, HANGUP_WAIT_MS);
      }
      return watch.observation();
    } catch (error) {
      if (!watch.isOver) watch.notPlaced(error instanceof Error ? `a request failed: ${error.message}` : String(error));
      return watch.observation();
    } finally {
      if (created && !watch.channelGone) await this.hangUp(caller);
      this.byChannel.delete(caller);
      this.byChannel.delete(engine);
      this.callerInStasis.delete(caller);
    }
  }

  private notPlaced(watch: CallWatch, why: string): CallObservation {
    watch.notPlaced(why);
    return watch.observation();
  }

  private async hangUp(caller: string): Promise<void> {
    await this.ari('DELETE', `/ari/channels/${caller}`).catch(() => undefined);
  }

  /** This run's channels still on Asterisk, waiting up to LEFTOVER_SETTLE_MS for the last hang-ups to finish. */
  async leftovers(): Promise<number | null> {
    const deadline = Date.now() + LEFTOVER_SETTLE_MS;
    for (;;) {
      let count: number | null = null;
      try {
        const answer = await this.rest.request('GET', '/ari/channels', undefined, REQUEST_TIMEOUT_MS);
        if (answer.status === 200) count = (JSON.parse(answer.text) as { id: string }[]).filter((channel) => channel.id.startsWith(this.app)).length;
      } catch {
        count = null;
      }
      if (count === 0 || count === null || Date.now() >= deadline) return count;
      // Asterisk tells the tester nothing about channels it no longer watches: poll.
      await sleep(500);
    }
  }

  notes(): readonly string[] {
    if (this.drops === 0) return [];
    return [`the tester's ARI WebSocket was dropped ${this.drops} time(s) (the tool's event loop was too slow for Asterisk's websocket_write_timeout): calls in progress then may show as timed out`];
  }

  async close(): Promise<void> {
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
