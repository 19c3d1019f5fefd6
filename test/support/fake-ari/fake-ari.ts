// A fake Asterisk ARI server for the tests: HTTP + WebSocket on 127.0.0.1, spoken to by
// the real ari-client. See index.ts for the overview and stasis.ts (model/) for the call model.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { parseWav } from '../../../lib/media/wav.js';
import { apiDeclaration, resourceListing } from './api-docs.js';
import { CAUSE } from './asterisk-values.js';
import type { AriEvent, BridgeJson, ChannelJson, ChannelState, PlaybackJson, StoredRecordingJson } from './models.js';
import { handleRest, type RestResponse } from './rest.js';
import type { EventSession } from './model/applications.js';
import type { ChannelView } from './model/channels.js';
import type { OutboundCall, OutboundPlan } from './model/outbound.js';
import { Stasis } from './stasis.js';
import { nextTurn } from './waiter.js';
import { WebSocketServer, WS_OPEN, type WsServer, type WsSocket } from './ws.js';

export interface FakeAriOptions {
  /** ari.conf user; default "asterisk". */
  username?: string;
  /** ari.conf password; default "asterisk". */
  password?: string;
  /** The Asterisk EID sent as `asterisk_id` in every event; default "52:54:00:12:34:56". */
  asteriskId?: string;
  /** How long a media URI plays, in ms. Default: 20 ms, `tone:` URIs until stopped (Infinity). */
  playbackMs?: (media: string) => number;
  /**
   * Whether a media URI can be played; default: always. A missing one plays as Asterisk
   * plays a missing sound file: the POST still answers 201, then PlaybackStarted and at
   * once PlaybackFinished with state "failed".
   */
  mediaExists?: (media: string) => boolean | Promise<boolean>;
  /**
   * When true, `sound:http(s)://…` URIs are fetched (GET) as Asterisk's HTTP media cache
   * does, once per URL while it succeeds; a non-2xx answer or a network error makes the
   * media missing. Fetches are listed in `mediaFetches`. Default false.
   */
  fetchHttpMedia?: boolean;
  /**
   * The `swaggerVersion` resources.json declares. Default "1.2"; "1.1" is what Asterisk
   * declares, and makes swagger-client print its deprecation notice on connect.
   */
  swaggerVersion?: '1.1' | '1.2';
  /**
   * With `fetchHttpMedia`: a fetched WAV plays as long as its audio lasts, as on Asterisk
   * (when `playbackMs` is not given). Default false: 20 ms, so suites run fast.
   */
  playAudioLength?: boolean;
  /** `duration_ms` of caller DTMF; default 100. */
  dtmfDurationMs?: number;
  /** Wall-clock ms per Asterisk second, for recording limits and originate timeouts; default 1000. */
  secondMs?: number;
  /** ari.conf `channelvars`: channel variables shown in every Channel JSON. */
  channelVars?: string[];
  /** What the far end of outbound calls does; default: answers after 10 ms. */
  outbound?: (call: OutboundCall) => OutboundPlan;
  /** Default channel language; default "en". */
  language?: string;
  /** Dialplan context of inbound calls; default "from-trunk". */
  context?: string;
}

/** Which requests a failNext/delayNext rule applies to. */
export interface RequestMatch {
  /** HTTP method; any when omitted. */
  method?: string;
  /**
   * A string is compared with the URL path, with or without the /ari prefix
   * (`/channels/123/answer` and `/ari/channels/123/answer` are the same); a RegExp is
   * tested against the full path (`/ari/channels/123/answer`).
   */
  path: string | RegExp;
}

/** One HTTP request the fake answered (the WebSocket upgrade included, with status 101). */
export interface RecordedAriRequest {
  readonly method: string;
  /** Full URL path, e.g. `/ari/channels/1732460000.1/play`. */
  readonly path: string;
  /** Query parameters (the last value of a repeated one). */
  readonly query: Readonly<Record<string, string>>;
  /** The parsed JSON body, the raw text of another body, or undefined. */
  readonly body: unknown;
  readonly status: number;
  /** When the request arrived (ms since epoch). */
  readonly time: number;
  readonly durationMs: number;
}

/** A request as it arrived, before it was answered. */
export interface ArrivedAriRequest {
  readonly method: string;
  /** The URL path, `/ari/...`. */
  readonly path: string;
}

export interface MediaFetch {
  readonly url: string;
  readonly status: number | 'error';
}

export interface PlaceCallOptions {
  /** Caller number (CallerID num). */
  from: string;
  /** Caller name; default "". */
  fromName?: string;
  /** The dialled number: the channel's extension, and the default Stasis argument. */
  did: string;
  /** Stasis application; default: the only application connected. */
  app?: string;
  /** Stasis(app, args…) arguments; default [did]. */
  args?: string[];
  /** Default `PJSIP/trunk-<counter>`. */
  channelName?: string;
  channelId?: string;
  variables?: Record<string, string>;
  language?: string;
  context?: string;
}

interface Rule {
  readonly match: RequestMatch;
  readonly kind: 'fail' | 'delay';
  readonly status: number;
  readonly message: string;
  readonly ms: number;
  remaining: number;
}

interface Session extends EventSession {
  readonly ws: WsSocket;
  closed: boolean;
}

/** A handle on one channel of the fake, for the test side. */
export class FakeChannel {
  constructor(
    private readonly fake: FakeAri,
    readonly id: string,
  ) {}

  /** The channel's current state as the fake holds it (destroyed channels included). */
  get view(): ChannelView {
    const view = this.fake.channelView(this.id);
    if (!view) throw new Error(`unknown channel ${this.id}`);
    return view;
  }

  get name(): string {
    return this.view.name;
  }

  get state(): ChannelState {
    return this.view.state;
  }

  /** The Channel JSON Asterisk would give now. */
  get json(): ChannelJson {
    return this.view.json;
  }

  get inStasis(): boolean {
    return this.view.app !== undefined;
  }

  get destroyed(): boolean {
    return this.view.destroyed;
  }

  /** The caller presses keys: one ChannelDtmfReceived per digit. */
  pressDigits(digits: string, options: { gapMs?: number; durationMs?: number } = {}): Promise<void> {
    return this.fake.pressDigits(this.id, digits, options);
  }

  /** The caller hangs up; resolves once ChannelDestroyed has been sent. */
  hangup(cause: number = CAUSE.NORMAL_CLEARING): Promise<void> {
    return this.fake.callerHangup(this.id, cause);
  }

  /** The caller starts or stops making sound (recording silence detection). */
  setTalking(talking: boolean): void {
    this.fake.setCallerTalking(this.id, talking);
  }

  /** Events sent about this channel (channel, peer, or playback/recording target). */
  events(): AriEvent[] {
    return this.fake.events.filter((e) => eventConcerns(e, this.id));
  }

  /** Waits for an event of `type` about this channel (already sent ones count). */
  waitForEvent(type: string, timeoutMs?: number): Promise<AriEvent> {
    return this.fake.waitForEvent((e) => e.type === type && eventConcerns(e, this.id), timeoutMs);
  }
}

function eventConcerns(e: AriEvent, channelId: string): boolean {
  return (
    e.channel?.id === channelId ||
    e.peer?.id === channelId ||
    e.playback?.target_uri === `channel:${channelId}` ||
    e.recording?.target_uri === `channel:${channelId}`
  );
}

const DEFAULT_ASTERISK_ID = '52:54:00:12:34:56';
const SERVER_HEADER = 'Asterisk/22.5.0';

export class FakeAri {
  readonly username: string;
  readonly password: string;
  /** Every HTTP request answered, in the order answered. */
  readonly requests: RecordedAriRequest[] = [];
  readonly mediaFetches: MediaFetch[] = [];
  private readonly stasis: Stasis;
  private readonly options: FakeAriOptions;
  private server: http.Server | undefined;
  private readonly wss: WsServer = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false });
  private readonly sessions = new Set<Session>();
  private sessionCounter = 0;
  private rules: Rule[] = [];
  private readonly requestListeners = new Set<(r: RecordedAriRequest) => void>();
  /** Requests as they arrive, before any delay rule or answer (see waitForArrival). */
  private readonly arrivals: ArrivedAriRequest[] = [];
  private readonly arrivalListeners = new Set<(r: ArrivedAriRequest) => void>();
  private portNumber = 0;
  private playbackMs: (media: string) => number;
  private mediaExists: (media: string) => boolean | Promise<boolean>;
  private outbound: (call: OutboundCall) => OutboundPlan;
  private readonly fetchedOk = new Set<string>();
  /** `sound:` URI → the length of its fetched WAV audio (playAudioLength). */
  private readonly audioMs = new Map<string, number>();

  private constructor(options: FakeAriOptions) {
    this.options = options;
    this.username = options.username ?? 'asterisk';
    this.password = options.password ?? 'asterisk';
    this.playbackMs = options.playbackMs ?? ((media) => (media.startsWith('tone:') ? Infinity : (this.audioMs.get(media) ?? 20)));
    this.mediaExists = options.mediaExists ?? (() => true);
    this.outbound = options.outbound ?? (() => ({ outcome: 'answer', afterMs: 10 }));
    this.stasis = new Stasis({
      asteriskId: options.asteriskId ?? DEFAULT_ASTERISK_ID,
      playbackMs: (media) => this.playbackMs(media),
      mediaExists: (media) => this.checkMedia(media),
      dtmfDurationMs: options.dtmfDurationMs ?? 100,
      secondMs: options.secondMs ?? 1000,
      channelVars: options.channelVars ?? [],
      outbound: (call) => this.outbound(call),
      language: options.language ?? 'en',
      context: options.context ?? 'from-trunk',
    });
  }

  /** Starts a fake Asterisk on 127.0.0.1, on a free port. */
  static async start(options: FakeAriOptions = {}): Promise<FakeAri> {
    const fake = new FakeAri(options);
    await fake.listen(0);
    return fake;
  }

  /** `http://127.0.0.1:<port>`, what ari-client's connect() takes. */
  get url(): string {
    return `http://127.0.0.1:${this.portNumber}`;
  }

  get port(): number {
    return this.portNumber;
  }

  get asteriskId(): string {
    return this.stasis.config.asteriskId;
  }

  /** Events written to an application's WebSocket, in order. */
  get events(): readonly AriEvent[] {
    return this.stasis.events.delivered;
  }

  /** Events for an application that had no WebSocket then: lost, as Asterisk loses them. */
  get droppedEvents(): readonly AriEvent[] {
    return this.stasis.events.dropped;
  }

  // ---- behaviour knobs ---------------------------------------------------------------------

  setPlaybackMs(fn: (media: string) => number): void {
    this.playbackMs = fn;
  }

  setMediaExists(fn: (media: string) => boolean | Promise<boolean>): void {
    this.mediaExists = fn;
  }

  setOutbound(fn: (call: OutboundCall) => OutboundPlan): void {
    this.outbound = fn;
  }

  private async checkMedia(media: string): Promise<boolean> {
    const url = media.startsWith('sound:') ? media.slice('sound:'.length) : '';
    if (this.options.fetchHttpMedia && /^https?:\/\//.test(url)) {
      if (this.fetchedOk.has(url)) return true;
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
        const body = Buffer.from(await response.arrayBuffer());
        this.mediaFetches.push({ url, status: response.status });
        if (response.ok) this.fetchedOk.add(url);
        if (response.ok && this.options.playAudioLength) {
          const info = await parseWav(body).catch(() => undefined);
          if (info) this.audioMs.set(media, info.durationMs);
        }
        return response.ok;
      } catch {
        this.mediaFetches.push({ url, status: 'error' });
        return false;
      }
    }
    return this.mediaExists(media);
  }

  // ---- the caller's side -------------------------------------------------------------------

  /**
   * An inbound call enters Stasis(app, args…): resolves once StasisStart has been sent.
   * Rejects, as Asterisk's Stasis() fails, when the application has no WebSocket.
   */
  async placeCall(options: PlaceCallOptions): Promise<FakeChannel> {
    let app = options.app;
    if (app === undefined) {
      const active = this.stasis.applications.activeApps();
      if (active.length !== 1) throw new Error(`placeCall: say which app (connected: ${active.join(', ') || 'none'})`);
      app = active[0] as string;
    }
    const view = this.stasis.channels.placeCall({
      from: options.from,
      did: options.did,
      app,
      args: options.args ?? [options.did],
      ...(options.fromName !== undefined ? { fromName: options.fromName } : {}),
      ...(options.channelName !== undefined ? { channelName: options.channelName } : {}),
      ...(options.channelId !== undefined ? { channelId: options.channelId } : {}),
      ...(options.variables !== undefined ? { variables: options.variables } : {}),
      ...(options.language !== undefined ? { language: options.language } : {}),
      ...(options.context !== undefined ? { context: options.context } : {}),
    });
    await this.stasis.events.flushed();
    return new FakeChannel(this, view.id);
  }

  /** The caller presses keys (0-9, A-D, *, #): one ChannelDtmfReceived per digit, `gapMs` apart. */
  async pressDigits(channelId: string, digits: string, options: { gapMs?: number; durationMs?: number } = {}): Promise<void> {
    for (const digit of digits) {
      if (!/^[0-9A-D*#]$/.test(digit)) throw new Error(`not a DTMF digit: ${JSON.stringify(digit)}`);
    }
    let first = true;
    for (const digit of digits) {
      if (!first) {
        if (options.gapMs && options.gapMs > 0) await this.stasis.timers.sleep(options.gapMs);
        else await nextTurn();
      }
      first = false;
      this.stasis.channels.dtmfFromCaller(channelId, digit, options.durationMs ?? this.stasis.config.dtmfDurationMs);
      await this.stasis.events.flushed();
    }
  }

  /** The caller hangs up with a Q.850 cause; resolves once ChannelDestroyed has been sent. */
  callerHangup(channelId: string, cause: number = CAUSE.NORMAL_CLEARING): Promise<void> {
    return this.stasis.channels.remoteHangup(channelId, cause);
  }

  /**
   * The caller starts (true) or stops (false) making sound. A fake caller is silent, so a
   * recording with maxSilenceSeconds ends after that much silence unless the caller talks.
   */
  setCallerTalking(channelId: string, talking: boolean): void {
    this.stasis.channels.setTalking(channelId, talking);
  }

  /** The far end of a ringing outbound channel answers (OutboundPlan 'wait'). */
  remoteAnswer(channelId: string): void {
    this.stasis.outbound.remoteAnswer(channelId);
  }

  /** The far end of a ringing outbound channel refuses it (OutboundPlan 'wait'). */
  remoteReject(channelId: string, outcome: 'busy' | 'congestion' | 'noanswer' | 'unavailable', cause?: number): void {
    this.stasis.outbound.remoteReject(channelId, outcome, cause);
  }

  // ---- looking at state ------------------------------------------------------------------

  /** A handle on a channel the fake knows (destroyed ones included), or undefined. */
  channel(id: string): FakeChannel | undefined {
    return this.stasis.channels.channelView(id) ? new FakeChannel(this, id) : undefined;
  }

  /** The live channels. */
  channels(): FakeChannel[] {
    return this.stasis.channels.liveChannelViews().map((v) => new FakeChannel(this, v.id));
  }

  channelView(id: string): ChannelView | undefined {
    return this.stasis.channels.channelView(id);
  }

  /** Playbacks queued or playing. */
  playbacks(): PlaybackJson[] {
    return this.stasis.playbacks.playbackViews();
  }

  bridges(): BridgeJson[] {
    return this.stasis.bridges.listBridges();
  }

  storedRecordings(): StoredRecordingJson[] {
    return [...this.stasis.recordings.stored.values()];
  }

  /** A recording file already on the Asterisk box (for `recording:` media, ifExists…). */
  addStoredRecording(name: string, format = 'wav'): void {
    this.stasis.recordings.stored.set(name, { name, format });
  }

  /** Applications with a connected WebSocket. */
  applications(): string[] {
    return this.stasis.applications.activeApps();
  }

  /** Resolves once `app` has a connected WebSocket. */
  async waitForApplication(app: string, timeoutMs = 2000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.stasis.applications.isActive(app)) {
      if (Date.now() > deadline) throw new Error(`application ${app} did not connect within ${timeoutMs} ms`);
      await this.waitForRequest((r) => r.path === '/ari/events' && r.status === 101, Math.max(1, deadline - Date.now()), this.requests.length).catch(() => undefined);
    }
  }

  /**
   * The first event sent (from index `fromIndex` of `events`, so already sent ones count
   * by default) that matches; rejects after `timeoutMs`.
   */
  waitForEvent(predicate: (e: AriEvent) => boolean, timeoutMs = 2000, fromIndex = 0): Promise<AriEvent> {
    const found = this.stasis.events.delivered.slice(fromIndex).find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        stop();
        const recent = this.stasis.events.delivered.slice(-8).map((e) => e.type);
        reject(new Error(`no matching ARI event within ${timeoutMs} ms (last sent: ${recent.join(', ') || 'none'})`));
      }, timeoutMs);
      const stop = this.stasis.events.onDelivered((e) => {
        if (!predicate(e)) return;
        clearTimeout(timer);
        stop();
        resolve(e);
      });
    });
  }

  /** Calls `listener` with every event sent from now on; returns a function that stops it. */
  onEvent(listener: (e: AriEvent) => void): () => void {
    return this.stasis.events.onDelivered(listener);
  }

  /** Calls `listener` when a channel is destroyed (the far end's view: see Channels.onDestroyed). */
  onChannelDestroyed(listener: (channel: ChannelJson, cause: number) => void): () => void {
    return this.stasis.channels.onDestroyed(listener);
  }

  /** Like waitForEvent, for the requests answered. */
  waitForRequest(predicate: (r: RecordedAriRequest) => boolean, timeoutMs = 2000, fromIndex = 0): Promise<RecordedAriRequest> {
    const found = this.requests.slice(fromIndex).find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const listener = (r: RecordedAriRequest): void => {
        if (!predicate(r)) return;
        clearTimeout(timer);
        this.requestListeners.delete(listener);
        resolve(r);
      };
      const timer = setTimeout(() => {
        this.requestListeners.delete(listener);
        reject(new Error(`no matching ARI request within ${timeoutMs} ms`));
      }, timeoutMs);
      this.requestListeners.add(listener);
    });
  }

  /**
   * Resolves when a matching request has arrived (past ones included), before any delay
   * rule holds it: e.g. to know a delayed request is in flight on the client's side.
   */
  waitForArrival(predicate: (r: ArrivedAriRequest) => boolean, timeoutMs = 2000): Promise<ArrivedAriRequest> {
    const found = this.arrivals.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const listener = (r: ArrivedAriRequest): void => {
        if (!predicate(r)) return;
        clearTimeout(timer);
        this.arrivalListeners.delete(listener);
        resolve(r);
      };
      const timer = setTimeout(() => {
        this.arrivalListeners.delete(listener);
        reject(new Error(`no matching ARI request arrived within ${timeoutMs} ms`));
      }, timeoutMs);
      this.arrivalListeners.add(listener);
    });
  }

  // ---- faults --------------------------------------------------------------------------------

  /**
   * The next `times` (default 1) matching requests answer `status` with
   * `{"message": message}` and do nothing else. Applies after authentication, to REST
   * calls, api-docs and the events WebSocket upgrade alike.
   */
  failNext(match: RequestMatch, failure: { status: number; message: string; times?: number }): void {
    this.rules.push({ match, kind: 'fail', status: failure.status, message: failure.message, ms: 0, remaining: failure.times ?? 1 });
  }

  /** The next `times` (default 1) matching requests wait `ms` before being handled. */
  delayNext(match: RequestMatch, ms: number, times = 1): void {
    this.rules.push({ match, kind: 'delay', status: 0, message: '', ms, remaining: times });
  }

  private takeRules(method: string, path: string): { fail?: Rule; delayMs: number } {
    const applies = (rule: Rule): boolean => {
      if (rule.remaining <= 0) return false;
      if (rule.match.method && rule.match.method.toUpperCase() !== method) return false;
      const p = rule.match.path;
      if (p instanceof RegExp) return p.test(path);
      return p === path || `/ari${p}` === path;
    };
    let delayMs = 0;
    for (const rule of this.rules.filter((r) => r.kind === 'delay' && applies(r))) {
      rule.remaining -= 1;
      delayMs += rule.ms;
    }
    const fail = this.rules.find((r) => r.kind === 'fail' && applies(r));
    if (fail) fail.remaining -= 1;
    this.rules = this.rules.filter((r) => r.remaining > 0);
    return fail ? { fail, delayMs } : { delayMs };
  }

  // ---- connection faults and lifecycle ---------------------------------------------------

  /**
   * Every events WebSocket is cut abruptly (no close frame), as when the application's
   * connection drops. Asterisk keeps the channels in Stasis and hangs up nothing; events
   * for the applications are lost until they reconnect (under the same name they get the
   * later events of those channels, and no new StasisStart).
   */
  async dropWebSockets(): Promise<void> {
    const closing = [...this.sessions].map((s) => this.dropSession(s));
    await Promise.all(closing);
  }

  private dropSession(session: Session): Promise<void> {
    this.sessions.delete(session);
    session.closed = true;
    this.stasis.applications.unregisterSession(session);
    return new Promise((resolve) => {
      session.ws.once('close', () => resolve());
      session.ws.terminate();
    });
  }

  /** Asterisk goes away: the HTTP server closes and every connection drops. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await this.dropWebSockets();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /**
   * Asterisk comes back on the same port. A restarted Asterisk has no calls: by default
   * every channel, bridge, playback and live recording is gone, with no event (nobody was
   * connected to hear one), and the applications must connect again; stored recordings
   * stay (they are files). `keepChannels: true` instead models a network cut while
   * Asterisk kept running: everything stays, as after dropWebSockets().
   */
  async restart(options: { keepChannels?: boolean } = {}): Promise<void> {
    await this.stop();
    if (!options.keepChannels) this.stasis.wipe();
    await this.listen(this.portNumber);
  }

  /** Shuts everything down: server, sockets, timers, calls. */
  async close(): Promise<void> {
    await this.stop();
    this.stasis.wipe();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private async listen(port: number): Promise<void> {
    const server = http.createServer((req, res) => {
      this.onRequest(req, res).catch((error: unknown) => {
        if (!res.headersSent) {
          this.send(res, { status: 500, reason: 'Internal Server Error', body: { message: String(error) } });
        } else {
          res.destroy();
        }
      });
    });
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      this.onUpgrade(req, socket, head).catch(() => socket.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host: '127.0.0.1' }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.portNumber = (server.address() as AddressInfo).port;
  }

  // ---- HTTP ----------------------------------------------------------------------------------

  private authorized(req: http.IncomingMessage, url: URL): boolean {
    const check = (credentials: string): boolean => {
      const colon = credentials.indexOf(':');
      return colon >= 0 && credentials.slice(0, colon) === this.username && credentials.slice(colon + 1) === this.password;
    };
    const header = req.headers.authorization;
    if (header?.startsWith('Basic ')) {
      const decoded = Buffer.from(header.slice('Basic '.length), 'base64').toString('utf8');
      if (check(decoded)) return true;
    }
    const apiKey = url.searchParams.get('api_key');
    return apiKey !== null && check(apiKey);
  }

  private record(entry: RecordedAriRequest): void {
    this.requests.push(entry);
    for (const listener of [...this.requestListeners]) listener(entry);
  }

  private send(res: http.ServerResponse, r: RestResponse): void {
    const headers: Record<string, string | number> = { Server: SERVER_HEADER, 'Cache-Control': 'no-cache, no-store', ...r.headers };
    let payload: string | Buffer = '';
    if (r.raw !== undefined) {
      payload = r.raw.data;
      headers['Content-Type'] = r.raw.contentType;
      headers['Content-Length'] = r.raw.data.length;
    } else if (r.body !== undefined) {
      payload = JSON.stringify(r.body);
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = Buffer.byteLength(payload);
    } else if (r.status !== 204) {
      headers['Content-Length'] = 0;
    }
    res.writeHead(r.status, r.reason, headers);
    res.end(payload);
  }

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const time = Date.now();
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const arrived = { method, path: url.pathname };
    this.arrivals.push(arrived);
    for (const listener of [...this.arrivalListeners]) listener(arrived);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) query[k] = v;
    let body: unknown = raw === '' ? undefined : raw;
    const isJson = (req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json');
    let badBody = false;
    if (isJson && raw.trim() !== '') {
      try {
        body = JSON.parse(raw) as unknown;
      } catch {
        badBody = true;
      }
    }
    const respond = (r: RestResponse): void => {
      this.send(res, r);
      this.record({ method, path: url.pathname, query, body, status: r.status, time, durationMs: Date.now() - time });
    };

    if (url.pathname !== '/ari' && !url.pathname.startsWith('/ari/')) {
      respond({ status: 404, reason: 'Not Found', body: { message: 'Not Found' } });
      return;
    }
    if (!this.authorized(req, url)) {
      respond({
        status: 401,
        reason: 'Unauthorized',
        body: { message: 'Authentication required' },
        headers: { 'WWW-Authenticate': 'Basic realm="Asterisk REST Interface"' },
      });
      return;
    }
    const { fail, delayMs } = this.takeRules(method, url.pathname);
    if (delayMs > 0) await this.stasis.timers.sleep(delayMs);
    if (fail) {
      respond({ status: fail.status, reason: http.STATUS_CODES[fail.status] ?? 'Error', body: { message: fail.message } });
      return;
    }
    const path = url.pathname.slice('/ari'.length);
    if (path.startsWith('/api-docs/')) {
      respond(this.apiDocs(method, path.slice('/api-docs/'.length), req));
      return;
    }
    if (path === '/events') {
      // res_http_websocket answers a plain GET on a WebSocket URI with 426.
      respond({ status: 426, reason: 'Upgrade Required', body: { message: 'Upgrade Required' } });
      return;
    }
    if (badBody) {
      respond({ status: 400, reason: 'Bad Request', body: { message: 'Error parsing request body' } });
      return;
    }
    const params: Record<string, string> = { ...query };
    // res_ari.c: form-encoded POST variables join the query parameters.
    if ((req.headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded')) {
      for (const [k, v] of new URLSearchParams(raw)) params[k] = v;
    }
    let variables: Record<string, string> | undefined;
    if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
      for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
        if (k === 'variables' && v !== null && typeof v === 'object') {
          variables = {};
          for (const [vk, vv] of Object.entries(v as Record<string, unknown>)) variables[vk] = String(vv);
        } else if (Array.isArray(v)) {
          params[k] = v.map(String).join(',');
        } else if (v !== null && typeof v !== 'object') {
          params[k] = String(v);
        }
      }
    }
    respond(await handleRest(this.stasis, { method, path, params, variables }));
  }

  /** res_ari.c ast_ari_get_docs: the listings, with basePath pointing at this server. */
  private apiDocs(method: string, file: string, req: http.IncomingMessage): RestResponse {
    if (method !== 'GET') return { status: 405, reason: 'Method Not Allowed', body: { message: 'Unsupported method' } };
    const basePath = `http://${req.headers.host ?? `127.0.0.1:${this.portNumber}`}/ari`;
    if (file === 'resources.json') return { status: 200, reason: 'OK', body: resourceListing(basePath, this.options.swaggerVersion) };
    const name = file.endsWith('.json') ? file.slice(0, -'.json'.length) : '';
    const decl = name ? apiDeclaration(name, basePath) : undefined;
    if (!decl) return { status: 404, reason: 'Not Found', body: { message: `Cannot find api-docs/${file}` } };
    return { status: 200, reason: 'OK', body: decl };
  }

  // ---- the events WebSocket --------------------------------------------------------------

  private rejectUpgrade(socket: Duplex, status: number, reason: string, body: string, contentType: string, extra: Record<string, string> = {}): void {
    const headers = [
      `HTTP/1.1 ${status} ${reason}`,
      `Server: ${SERVER_HEADER}`,
      `Content-Type: ${contentType}`,
      `Content-Length: ${Buffer.byteLength(body)}`,
      ...Object.entries(extra).map(([k, v]) => `${k}: ${v}`),
      'Connection: close',
      '',
      '',
    ].join('\r\n');
    socket.end(headers + body);
  }

  /** ast_http_error's page, which the WebSocket upgrade errors use. */
  private static httpErrorPage(status: number, title: string, text: string): string {
    return (
      `<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\r\n<html><head>\r\n<title>${status} ${title}</title>\r\n</head><body>\r\n` +
      `<h1>${title}</h1>\r\n<p>${text}</p>\r\n<hr />\r\n<address>Asterisk Server</address>\r\n</body></html>\r\n`
    );
  }

  private async onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const time = Date.now();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) query[k] = v;
    const done = (status: number): void =>
      this.record({ method: 'GET', path: url.pathname, query, body: undefined, status, time, durationMs: Date.now() - time });
    const reject = (status: number, reason: string, message: string, json: boolean, extra: Record<string, string> = {}): void => {
      if (json) this.rejectUpgrade(socket, status, reason, JSON.stringify({ message }), 'application/json', extra);
      else this.rejectUpgrade(socket, status, reason, FakeAri.httpErrorPage(status, reason, message), 'text/html', extra);
      done(status);
    };

    if (url.pathname !== '/ari/events') {
      reject(404, 'Not Found', 'Resource not found', true);
      return;
    }
    if (!this.authorized(req, url)) {
      reject(401, 'Unauthorized', 'Authentication required', true, { 'WWW-Authenticate': 'Basic realm="Asterisk REST Interface"' });
      return;
    }
    const { fail, delayMs } = this.takeRules('GET', url.pathname);
    if (delayMs > 0) await this.stasis.timers.sleep(delayMs);
    if (fail) {
      reject(fail.status, http.STATUS_CODES[fail.status] ?? 'Error', fail.message, true);
      return;
    }
    if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
      reject(426, 'Upgrade Required', 'Upgrade Required', false);
      return;
    }
    const apps = (url.searchParams.get('app') ?? '').split(',').map((a) => a.trim());
    if (apps.every((a) => a === '')) {
      reject(400, 'Bad Request', 'HTTP request is missing param: [app]', false);
      return;
    }
    if (apps.some((a) => a === '')) {
      reject(400, 'Bad Request', 'Invalid application provided in param [app].', false);
      return;
    }
    const subscribeAll = ['yes', 'true', 'y', 't', '1', 'on'].includes((url.searchParams.get('subscribeAll') ?? '').toLowerCase());
    if (!this.server) {
      socket.destroy();
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const session: Session = {
        id: ++this.sessionCounter,
        ws,
        closed: false,
        get open(): boolean {
          return !this.closed && ws.readyState === WS_OPEN;
        },
        send: (text: string) => ws.send(text),
      };
      this.sessions.add(session);
      ws.on('error', () => undefined);
      ws.on('close', () => {
        if (this.sessions.delete(session)) {
          session.closed = true;
          this.stasis.applications.unregisterSession(session);
        }
      });
      this.stasis.applications.registerSession(session, apps, subscribeAll);
      done(101);
    });
  }
}
