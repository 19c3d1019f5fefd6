// The phone line on a real Asterisk. A call is a Local channel pair into the project's
// dialplan (`Local/<DID>@opentact-tester`, which sets the caller ID and enters
// `from-trunk`), created with `formats=ulaw` so nothing is resampled. Its `;1` half sits in
// a tester ARI application of the line's own and plays the caller: it presses keys
// (`POST /channels/{;1}/dtmf`, which reach the `;2` half as ChannelDtmfReceived) and hangs
// up (`DELETE`). The `;2` half is the engine's channel; the tester subscribes to it, so it
// sees what the caller gets: the answer, each playback and its state, the hang-up cause.
//
// The tester application has no `subscribeAll` (asterisk/asterisk#2170: a WebSocket of
// such an application closing can deadlock Asterisk's application registry), and every
// request is bounded by a time-out.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import type { AriEvent } from '../fake-ari/index.js';
import type { AsteriskInstance } from '../asterisk/index.js';
import { CallObserver, phoneCall, type Leftovers, type PhoneCall, type PhoneLine } from './phone-line.js';

const REQUEST_TIMEOUT_MS = 5000;

export class AsteriskLineError extends Error {
  readonly code = 'asterisk_line';
  constructor(message: string) {
    super(message);
    this.name = 'AsteriskLineError';
  }
}

export class AsteriskPhoneLine implements PhoneLine {
  readonly kind = 'asterisk';
  readonly app = `opentact-tester-${randomUUID().slice(0, 8)}`;
  private readonly observers = new Set<CallObserver>();
  /** The `;1` halves this line created: hung up on close, whatever a test left. */
  private readonly callers = new Set<string>();
  private readonly listeners = new Set<(event: AriEvent) => void>();
  private ws: WebSocket | undefined;
  private closing = false;

  private constructor(readonly asterisk: AsteriskInstance) {}

  static async start(asterisk: AsteriskInstance): Promise<AsteriskPhoneLine> {
    const line = new AsteriskPhoneLine(asterisk);
    await line.connect();
    return line;
  }

  get ari(): { url: string; username: string; password: string } {
    return { url: this.asterisk.url, username: this.asterisk.username, password: this.asterisk.password };
  }

  private async connect(): Promise<void> {
    const url = `${this.asterisk.url.replace(/^http/, 'ws')}/ari/events?app=${this.app}`;
    const auth = Buffer.from(`${this.asterisk.username}:${this.asterisk.password}`).toString('base64');
    const ws = new WebSocket(url, { headers: { authorization: `Basic ${auth}` }, handshakeTimeout: REQUEST_TIMEOUT_MS });
    ws.on('message', (data) => {
      const event = JSON.parse(String(data)) as AriEvent;
      for (const observer of this.observers) observer.feed(event);
      for (const listener of this.listeners) listener(event);
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.on('error', () => undefined);
    // Asterisk drops a WebSocket that does not take its events within 100 ms
    // (ari.conf websocket_write_timeout), which a loaded test machine can cause: come back.
    ws.once('close', (code) => {
      if (this.closing) return;
      process.stderr.write(`phone line: the tester's ARI WebSocket closed (${code}); reconnecting\n`);
      this.connect().catch((error: unknown) => process.stderr.write(`phone line: reconnect failed: ${String(error)}\n`));
    });
    this.ws = ws;
  }

  /** The next event that matches, within the request time-out. */
  private nextEvent(match: (event: AriEvent) => boolean, what: string): Promise<AriEvent> {
    return new Promise((resolve, reject) => {
      const listener = (event: AriEvent): void => {
        if (!match(event)) return;
        done();
        resolve(event);
      };
      const timer = setTimeout(() => {
        done();
        reject(new AsteriskLineError(`no ${what} within ${REQUEST_TIMEOUT_MS} ms`));
      }, REQUEST_TIMEOUT_MS);
      const done = (): void => {
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      this.listeners.add(listener);
    });
  }

  /** A REST request of the tester; throws on anything but the expected statuses. */
  private async request(method: string, path: string, ok: readonly number[] = [200, 204]): Promise<unknown> {
    const answer = await this.asterisk.ari(method, path, REQUEST_TIMEOUT_MS);
    if (!ok.includes(answer.status)) throw new AsteriskLineError(`${method} ${path} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    return answer.body;
  }

  async call(options: { did: string; from?: string; app: string }): Promise<PhoneCall> {
    const id = randomUUID().slice(0, 8);
    const caller = `tester-${id}`;
    const channelId = `call-${id}`;
    const observer = new CallObserver(channelId);
    this.observers.add(observer);
    this.callers.add(caller);
    const endpoint = encodeURIComponent(`Local/${options.did}@opentact-tester`);
    // create, then subscribe to the `;2` half, then dial: no event of the engine's channel
    // is missed. `create` answers before the channel has entered the tester's application
    // (a thread of its own puts it there), and until then it takes no command: wait for it.
    const inStasis = this.nextEvent((e) => e.type === 'StasisStart' && e.channel?.id === caller, `StasisStart of ${caller}`);
    await this.request('POST', `/ari/channels/create?endpoint=${endpoint}&app=${this.app}&channelId=${caller}&otherChannelId=${channelId}&formats=ulaw`);
    await inStasis;
    await this.request('POST', `/ari/channels/${caller}/variable?variable=__TESTER_FROM&value=${encodeURIComponent(options.from ?? '15550001111')}`);
    await this.request('POST', `/ari/applications/${this.app}/subscription?eventSource=channel:${channelId}`);
    await this.request('POST', `/ari/channels/${caller}/dial`);
    return phoneCall(observer, {
      press: async (digits) => {
        await this.request('POST', `/ari/channels/${caller}/dtmf?dtmf=${encodeURIComponent(digits)}&between=100&duration=100`);
      },
      hangUp: async () => {
        await this.request('DELETE', `/ari/channels/${caller}?reason_code=16`, [204, 404]);
      },
      // A tone played to the caller's half is what the engine's half hears (and records).
      talk: async (on) => {
        if (on) await this.request('POST', `/ari/channels/${caller}/play?media=tone:440&playbackId=${caller}-voice`, [201]);
        else await this.request('DELETE', `/ari/playbacks/${caller}-voice`, [204, 404]);
      },
    });
  }

  /**
   * Channels and bridges left on Asterisk. The last halves of Local pairs go a few
   * milliseconds after the engine's channel; this waits up to `settleMs` for them.
   */
  async leftovers(settleMs = 3000): Promise<Leftovers> {
    const deadline = Date.now() + settleMs;
    for (;;) {
      const channels = ((await this.request('GET', '/ari/channels')) as { id: string; name: string }[]).map((c) => `${c.id} ${c.name}`);
      const bridges = ((await this.request('GET', '/ari/bridges')) as { id: string }[]).map((b) => b.id);
      if ((channels.length === 0 && bridges.length === 0) || Date.now() >= deadline) return { channels, bridges };
      // Asterisk sends this application no event for channels it does not own: poll.
      await sleep(50);
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const caller of this.callers) await this.request('DELETE', `/ari/channels/${caller}`, [204, 404]).catch(() => undefined);
    this.callers.clear();
    this.observers.clear();
    const ws = this.ws;
    this.ws = undefined;
    if (ws && ws.readyState === WebSocket.OPEN) {
      const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
      ws.close();
      await Promise.race([closed, sleep(2000)]);
      ws.terminate();
    }
  }
}
