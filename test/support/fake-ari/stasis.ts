// The Asterisk side of the fake: channels in Stasis, their command queues, playbacks,
// recordings, bridges, Stasis applications and the events they send. No HTTP here; the
// REST layer (rest.ts) and the control API (fake-ari.ts) call into this.
//
// Behaviour is modelled on Asterisk 22 as its documentation and sources describe it
// (res/ari/resource_channels.c, res/res_stasis_playback.c, res/res_stasis_recording.c,
// res/ari/ari_websockets.c, main/channel.c). Points worth knowing:
//
// * Every channel in Stasis has ONE command queue, run in order, like the stasis control
//   queue on the channel's thread: answer, play, record, add/remove bridge, continue.
//   Answer and bridge add/remove are synchronous in Asterisk (the HTTP answer waits for
//   its turn); play and record answer 201 at once and run when their turn comes. A play
//   sent while another playback runs is queued behind it.
// * Events are published in order and delivered on a later turn of the event loop, as
//   Stasis messages are, so an HTTP response usually leaves before the event it caused
//   (answer → 204, then ChannelStateChange). On a real Asterisk both travel separately
//   and may arrive in either order.
// * Hang-up (the caller's, or DELETE /channels/{id}): ChannelHangupRequest at once; the
//   running operation ends (a playback finishes with PlaybackFinished state "failed",
//   see playMedia); queued commands are dropped without events; ChannelLeftBridge if
//   bridged; StasisEnd; ChannelDestroyed {cause, cause_txt}. From then on the channel is
//   unknown: every operation answers 404 "Channel not found".
import { BEEP_MS, RecordingFiles, recordingWav } from './recordings.js';
import { asteriskTime, AST_SOFTHANGUP_EXPLICIT, CAUSE, causeText, uuid } from './asterisk-values.js';
import type {
  AriEvent,
  ApplicationJson,
  BridgeJson,
  CallerIdJson,
  ChannelJson,
  ChannelState,
  DialplanCepJson,
  LiveRecordingJson,
  PlaybackJson,
  PlaybackState,
  RecordingState,
  StoredRecordingJson,
} from './models.js';
import { nextTurn, Signals, Timers } from './waiter.js';

// ---- configuration -----------------------------------------------------------------------

/** An outbound call the fake is asked to place (originate, or dial of a created channel). */
export interface OutboundCall {
  readonly channelId: string;
  /** As given, e.g. `PJSIP/15551234567@trunk`. */
  readonly endpoint: string;
  readonly callerId: string;
  readonly app: string | undefined;
  readonly appArgs: readonly string[];
  readonly via: 'originate' | 'dial';
}

/**
 * What the far end of an outbound call does. `afterMs` (default 10) is when it happens;
 * ringing starts at once. 'wait' rings until `FakeAri.remoteAnswer()` /
 * `remoteReject()`, or until the originate `timeout` (scaled by `secondMs`) runs out.
 */
export interface OutboundPlan {
  readonly outcome: 'answer' | 'busy' | 'congestion' | 'noanswer' | 'unavailable' | 'wait';
  readonly afterMs?: number;
  /**
   * Cause of the failing outcomes. Defaults as Asterisk 22.10.1 gives them: an originated
   * channel that is busy or congested is destroyed with cause 0 (only the `Dial` event's
   * dialstatus says which); no answer 19; unavailable 3; a dialled (created) channel 17/34.
   */
  readonly cause?: number;
  /** After answering, the far end hangs up this many ms later (cause 16). */
  readonly hangupAfterMs?: number;
}

export interface StasisConfig {
  asteriskId: string;
  /** How long a media URI plays, in ms (Infinity: until stopped). */
  playbackMs: (media: string) => number;
  /** Whether a media URI can be played (false: PlaybackFinished with state "failed"). */
  mediaExists: (media: string) => boolean | Promise<boolean>;
  dtmfDurationMs: number;
  /** Wall-clock ms per Asterisk second (recording limits, originate timeout). */
  secondMs: number;
  /** ari.conf `channelvars`: variables shown in every Channel JSON under `channelvars`. */
  channelVars: readonly string[];
  outbound: (call: OutboundCall) => OutboundPlan;
  language: string;
  context: string;
}

/** A connected events WebSocket, as the server layer sees it. */
export interface EventSession {
  readonly id: number;
  readonly open: boolean;
  send(text: string): void;
}

/** Thrown by operations that answer an ARI error. */
export class AriError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

// ---- internal model ----------------------------------------------------------------------

/** AST_CONTROL_STREAM_STOP: what ast_control_streamfile returns when a playback is stopped. */
const STREAM_STOP = 1000;

interface Command {
  readonly name: string;
  run(): Promise<number>;
  /** Dropped from the queue without running (channel hung up): complete with -1, no events. */
  cancel(): void;
}

type PlaybackInternalState = 'queued' | 'playing' | 'paused' | 'continuing' | 'complete' | 'failed' | 'stopped' | 'canceled';
type PlaybackSignal = 'stop' | 'hangup' | 'pause' | 'unpause' | 'restart' | 'forward' | 'reverse';
type RecordingSignal = 'stop' | 'cancel' | 'hangup' | 'terminate' | 'talk' | 'silent';

class PlaybackModel {
  state: PlaybackInternalState = 'queued';
  index = 0;
  controllable = false;
  readonly signals: Signals<PlaybackSignal>;

  constructor(
    readonly id: string,
    readonly channel: ChannelModel,
    readonly medias: readonly string[],
    readonly language: string,
    readonly skipms: number,
    timers: Timers,
  ) {
    this.signals = new Signals(timers);
  }

  get media(): string {
    return this.medias[this.index] ?? '';
  }

  /** stasis_app_playback_to_json: STOPPED, COMPLETE and CANCELED all read "done". */
  publicState(): PlaybackState {
    switch (this.state) {
      case 'stopped':
      case 'complete':
      case 'canceled':
        return 'done';
      default:
        return this.state;
    }
  }

  json(): PlaybackJson {
    const next = this.medias[this.index + 1];
    return {
      id: this.id,
      media_uri: this.media,
      ...(next !== undefined ? { next_media_uri: next } : {}),
      target_uri: `channel:${this.channel.id}`,
      language: this.language,
      state: this.publicState(),
    };
  }
}

class RecordingModel {
  state: RecordingState = 'queued';
  durationSeconds: number | undefined;
  /** Seconds of the recording with sound in it (only reported with maxSilenceSeconds, as Asterisk does). */
  talkingSeconds: number | undefined;
  readonly signals: Signals<RecordingSignal>;

  constructor(
    readonly name: string,
    readonly format: string,
    readonly channel: ChannelModel,
    readonly maxDurationSeconds: number,
    readonly maxSilenceSeconds: number,
    readonly terminateOn: string,
    timers: Timers,
    readonly beep = false,
  ) {
    this.signals = new Signals(timers);
  }

  json(cause?: string): LiveRecordingJson {
    return {
      name: this.name,
      format: this.format,
      state: this.state,
      target_uri: `channel:${this.channel.id}`,
      ...(this.durationSeconds !== undefined ? { duration: this.durationSeconds } : {}),
      ...(this.durationSeconds !== undefined && this.talkingSeconds !== undefined && this.maxSilenceSeconds > 0
        ? { talking_duration: this.talkingSeconds, silence_duration: this.durationSeconds - this.talkingSeconds }
        : {}),
      ...(cause !== undefined ? { cause } : {}),
    };
  }
}

class BridgeModel {
  readonly channels: ChannelModel[] = [];
  readonly subscribers = new Set<string>();
  readonly creationtime = new Date();

  constructor(
    readonly id: string,
    readonly name: string,
    readonly type: 'mixing' | 'holding',
  ) {}

  json(): BridgeJson {
    return {
      id: this.id,
      technology: this.type === 'holding' ? 'holding_bridge' : this.channels.length > 2 ? 'softmix' : 'simple_bridge',
      bridge_type: this.type,
      bridge_class: 'stasis',
      creator: 'Stasis',
      name: this.name,
      channels: this.channels.map((c) => c.id),
      creationtime: asteriskTime(this.creationtime),
      video_mode: this.type === 'holding' ? 'none' : 'talker',
    };
  }
}

interface PendingOutbound {
  settle(outcome: 'answer' | 'busy' | 'congestion' | 'noanswer' | 'unavailable', cause?: number): void;
}

export type ChannelOrigin = 'inbound' | 'originate' | 'create';

class ChannelModel {
  state: ChannelState;
  readonly variables = new Map<string, string>();
  readonly subscribers = new Set<string>();
  stasisApp: string | undefined;
  stasisArgs: string[] = [];
  dialplan: DialplanCepJson;
  hangupRequested = false;
  hangupCause: number = CAUSE.NORMAL_CLEARING;
  destroyed = false;
  /** Asterisk restarted under it: it vanishes without events. */
  killed = false;
  readonly queue: Command[] = [];
  pump: Promise<void> | undefined;
  playback: PlaybackModel | undefined;
  recording: RecordingModel | undefined;
  bridge: BridgeModel | undefined;
  outbound: PendingOutbound | undefined;
  /** Applications subscribed by an originate: their subscription outlives StasisEnd (ChannelDestroyed reaches them). */
  readonly originators = new Set<string>();
  /** Whether the far end is making sound (for recording silence detection); a fake caller is silent. */
  talking = false;
  /** Set by /channels/create: what /dial will call (the resource part of the endpoint). */
  dialstring: string | undefined;
  readonly creationtime = new Date();

  constructor(
    readonly id: string,
    readonly name: string,
    readonly origin: ChannelOrigin,
    readonly endpoint: string,
    readonly protocolId: string,
    public caller: CallerIdJson,
    public connected: CallerIdJson,
    readonly language: string,
    state: ChannelState,
    dialplan: DialplanCepJson,
    private readonly channelVars: readonly string[],
  ) {
    this.state = state;
    this.dialplan = dialplan;
  }

  json(): ChannelJson {
    const json: ChannelJson = {
      id: this.id,
      name: this.name,
      state: this.state,
      protocol_id: this.protocolId,
      caller: { ...this.caller },
      connected: { ...this.connected },
      accountcode: '',
      dialplan: { ...this.dialplan },
      creationtime: asteriskTime(this.creationtime),
      language: this.language,
    };
    if (this.channelVars.length > 0) {
      json.channelvars = Object.fromEntries(this.channelVars.map((name) => [name, this.variables.get(name) ?? '']));
    }
    return json;
  }
}

interface AppRecord {
  readonly name: string;
  session: EventSession | undefined;
  subscribeAll: boolean;
}

/** What a channel looks like from the control API. */
export interface ChannelView {
  readonly id: string;
  readonly name: string;
  readonly origin: ChannelOrigin;
  readonly state: ChannelState;
  readonly json: ChannelJson;
  /** The Stasis application the channel is in, if any. */
  readonly app: string | undefined;
  readonly args: readonly string[];
  readonly hangupRequested: boolean;
  readonly destroyed: boolean;
  readonly hangupCause: number;
  readonly variables: ReadonlyMap<string, string>;
  readonly bridgeId: string | undefined;
  readonly playbackId: string | undefined;
  readonly recordingName: string | undefined;
}

export interface InboundCall {
  from: string;
  fromName?: string;
  did: string;
  app: string;
  args: readonly string[];
  channelName?: string;
  channelId?: string;
  variables?: Readonly<Record<string, string>>;
  language?: string;
  context?: string;
}

// ---- the Asterisk model ---------------------------------------------------------------

export class Stasis {
  readonly timers = new Timers();
  private readonly channels = new Map<string, ChannelModel>();
  /** Every channel ever seen, destroyed ones included, for the control API. */
  private readonly history = new Map<string, ChannelModel>();
  private readonly playbacks = new Map<string, PlaybackModel>();
  private readonly liveRecordings = new Map<string, RecordingModel>();
  readonly storedRecordings = new Map<string, StoredRecordingJson>();
  /** The files of the stored recordings (GET /recordings/stored/{name}/file). */
  readonly recordingFiles = new RecordingFiles();
  private readonly bridges = new Map<string, BridgeModel>();
  private readonly apps = new Map<string, AppRecord>();
  private uniqueCounter = 0;
  private nameCounter = 0;
  private outbox: AriEvent[] = [];
  private flushScheduled = false;
  private flushWaiters: (() => void)[] = [];
  /** Events written to an application's WebSocket, in order. */
  readonly delivered: AriEvent[] = [];
  /** Events for an application that had no WebSocket at the time: lost, as on Asterisk. */
  readonly dropped: AriEvent[] = [];
  private readonly eventListeners = new Set<(e: AriEvent) => void>();
  private readonly destroyListeners = new Set<(channel: ChannelJson, cause: number) => void>();
  startedAt = new Date();

  constructor(readonly config: StasisConfig) {}

  // ---- events ----------------------------------------------------------------------------

  onDelivered(listener: (e: AriEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /**
   * Calls `listener` when a channel is destroyed, whoever gets its events: what the far
   * end of the line learns (a phone gets the BYE), even when the channel's application
   * gets no ChannelDestroyed after its StasisEnd, as on Asterisk.
   */
  onDestroyed(listener: (channel: ChannelJson, cause: number) => void): () => void {
    this.destroyListeners.add(listener);
    return () => this.destroyListeners.delete(listener);
  }

  /** Resolves once everything published so far has been delivered (or dropped). */
  flushed(): Promise<void> {
    if (this.outbox.length === 0 && !this.flushScheduled) return Promise.resolve();
    return new Promise((resolve) => this.flushWaiters.push(resolve));
  }

  private publish(apps: Iterable<string>, type: string, fields: Omit<AriEvent, 'type' | 'timestamp' | 'application' | 'asterisk_id'>): void {
    const timestamp = asteriskTime();
    for (const app of new Set(apps)) {
      this.outbox.push({ type, timestamp, ...fields, asterisk_id: this.config.asteriskId, application: app });
    }
    if (!this.flushScheduled && this.outbox.length > 0) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.outbox;
    this.outbox = [];
    for (const event of batch) {
      const app = this.apps.get(event.application);
      const session = app?.session;
      if (session && session.open) {
        session.send(JSON.stringify(event));
        this.delivered.push(event);
        for (const listener of [...this.eventListeners]) listener(event);
      } else {
        this.dropped.push(event);
      }
    }
    const waiters = this.flushWaiters;
    this.flushWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private subscribeAllApps(): string[] {
    return [...this.apps.values()].filter((a) => a.subscribeAll && a.session).map((a) => a.name);
  }

  private channelTargets(ch: ChannelModel, extra: Iterable<string> = []): string[] {
    return [...ch.subscribers, ...extra, ...this.subscribeAllApps()];
  }

  private publishChannel(ch: ChannelModel, type: string, fields: Omit<AriEvent, 'type' | 'timestamp' | 'application' | 'asterisk_id' | 'channel'> = {}): void {
    if (ch.killed) return;
    this.publish(this.channelTargets(ch), type, { ...fields, channel: ch.json() });
  }

  private setState(ch: ChannelModel, state: ChannelState): void {
    if (ch.state === state) return;
    ch.state = state;
    this.publishChannel(ch, 'ChannelStateChange');
  }

  // ---- applications ------------------------------------------------------------------------

  /**
   * A WebSocket connected for `names`. An application already served by another socket
   * moves to this one and the old socket gets ApplicationReplaced (ari_websockets.c).
   * Channels already in Stasis for the application stay; they get no new StasisStart.
   */
  registerSession(session: EventSession, names: readonly string[], subscribeAll: boolean): void {
    for (const name of names) {
      const existing = this.apps.get(name);
      if (existing) {
        const old = existing.session;
        if (old && old !== session && old.open) {
          old.send(
            JSON.stringify({ type: 'ApplicationReplaced', timestamp: asteriskTime(), asterisk_id: this.config.asteriskId, application: name }),
          );
        }
        existing.session = session;
        existing.subscribeAll = subscribeAll;
      } else {
        this.apps.set(name, { name, session, subscribeAll });
      }
    }
  }

  /** The WebSocket went away: its applications become inactive; their channels stay in Stasis. */
  unregisterSession(session: EventSession): void {
    for (const app of [...this.apps.values()]) {
      if (app.session === session) {
        app.session = undefined;
        this.forgetAppIfFinished(app.name);
      }
    }
  }

  /** stasis app cleanup: an inactive application with nothing subscribed leaves the registry. */
  private forgetAppIfFinished(name: string): void {
    const app = this.apps.get(name);
    if (!app || app.session) return;
    const hasChannels = [...this.channels.values()].some((c) => c.subscribers.has(name));
    const hasBridges = [...this.bridges.values()].some((b) => b.subscribers.has(name));
    if (!hasChannels && !hasBridges) this.apps.delete(name);
  }

  isActive(app: string): boolean {
    return Boolean(this.apps.get(app)?.session?.open);
  }

  activeApps(): string[] {
    return [...this.apps.values()].filter((a) => a.session?.open).map((a) => a.name);
  }

  applicationJson(name: string): ApplicationJson | undefined {
    if (!this.apps.has(name)) return undefined;
    return {
      name,
      channel_ids: [...this.channels.values()].filter((c) => c.subscribers.has(name)).map((c) => c.id),
      bridge_ids: [...this.bridges.values()].filter((b) => b.subscribers.has(name)).map((b) => b.id),
      endpoint_ids: [],
      device_names: [],
      events_allowed: [],
      events_disallowed: [],
    };
  }

  applicationsJson(): ApplicationJson[] {
    return [...this.apps.keys()].map((name) => this.applicationJson(name)).filter((a): a is ApplicationJson => a !== undefined);
  }

  // ---- channels ----------------------------------------------------------------------------

  private nextUniqueId(): string {
    return `${Math.floor(Date.now() / 1000)}.${this.uniqueCounter++}`;
  }

  private nextChannelName(endpoint: string): string {
    const suffix = (this.nameCounter++).toString(16).padStart(8, '0');
    const slash = endpoint.indexOf('/');
    const tech = slash > 0 ? endpoint.slice(0, slash) : 'PJSIP';
    const resource = slash > 0 ? endpoint.slice(slash + 1) : endpoint;
    // PJSIP/<number>@<endpoint> is named after the endpoint, as chan_pjsip names it.
    const at = resource.lastIndexOf('@');
    const device = tech.toUpperCase() === 'PJSIP' && at >= 0 ? resource.slice(at + 1) : resource;
    return tech === 'Local' ? `Local/${device}-${suffix};1` : `${tech}/${device}-${suffix}`;
  }

  private addChannel(ch: ChannelModel): void {
    this.channels.set(ch.id, ch);
    this.history.set(ch.id, ch);
  }

  private idInUse(id: string): boolean {
    return this.channels.has(id);
  }

  /**
   * A call comes in from the trunk and the dialplan runs Stasis(app, args): StasisStart
   * with the arguments and the channel in state Ring. Asterisk refuses the Stasis() call
   * when the application is not registered or not active (no WebSocket); the fake throws.
   */
  placeCall(call: InboundCall): ChannelView {
    if (!this.apps.has(call.app)) throw new Error(`Stasis app '${call.app}' not registered`);
    if (!this.isActive(call.app)) throw new Error(`Stasis app '${call.app}' not active`);
    const id = call.channelId ?? this.nextUniqueId();
    if (this.idInUse(id)) throw new Error(`channel ${id} already exists`);
    const name = call.channelName ?? this.nextChannelName('PJSIP/trunk');
    const ch = new ChannelModel(
      id,
      name,
      'inbound',
      name.replace(/-[0-9a-f]{8}$/, ''),
      `${uuid()}@10.0.0.1`,
      { name: call.fromName ?? '', number: call.from },
      { name: '', number: '' },
      call.language ?? this.config.language,
      'Ring',
      { context: call.context ?? this.config.context, exten: call.did, priority: 1, app_name: 'Stasis', app_data: [call.app, ...call.args].join(',') },
      this.config.channelVars,
    );
    for (const [k, v] of Object.entries(call.variables ?? {})) ch.variables.set(k, v);
    this.addChannel(ch);
    this.enterStasis(ch, call.app, [...call.args]);
    return this.view(ch);
  }

  /** StasisStart and StasisEnd go to that application only (app_send), not to subscribeAll listeners. */
  private enterStasis(ch: ChannelModel, app: string, args: string[]): void {
    ch.stasisApp = app;
    ch.stasisArgs = args;
    ch.subscribers.add(app);
    ch.dialplan = { ...ch.dialplan, app_name: 'Stasis', app_data: [app, ...args].join(',') };
    if (!ch.killed) this.publish([app], 'StasisStart', { args, channel: ch.json() });
  }

  /**
   * StasisEnd, then the application's implicit subscription to the channel ends
   * (res_stasis.c stasis_app_exec: app_send_end_msg, then app_unsubscribe_channel): the
   * events that follow, ChannelDestroyed included, no longer reach it. Seen on Asterisk
   * 22.10.1: the owner of a hung-up channel gets ChannelHangupRequest and StasisEnd only.
   */
  private leaveStasis(ch: ChannelModel): void {
    const app = ch.stasisApp;
    if (!app) return;
    if (!ch.killed) this.publish([app], 'StasisEnd', { channel: ch.json() });
    ch.stasisApp = undefined;
    if (!ch.originators.has(app)) ch.subscribers.delete(app);
  }

  view(ch: ChannelModel): ChannelView {
    return {
      id: ch.id,
      name: ch.name,
      origin: ch.origin,
      state: ch.state,
      json: ch.json(),
      app: ch.stasisApp,
      args: [...ch.stasisArgs],
      hangupRequested: ch.hangupRequested,
      destroyed: ch.destroyed,
      hangupCause: ch.hangupCause,
      variables: new Map(ch.variables),
      bridgeId: ch.bridge?.id,
      playbackId: ch.playback?.id,
      recordingName: ch.recording?.name,
    };
  }

  channelView(id: string): ChannelView | undefined {
    const ch = this.history.get(id);
    return ch ? this.view(ch) : undefined;
  }

  liveChannelViews(): ChannelView[] {
    return [...this.channels.values()].map((c) => this.view(c));
  }

  /** GET /channels/{id}: the channel while it exists. */
  getChannel(id: string): ChannelJson {
    const ch = this.channels.get(id);
    if (!ch) throw new AriError(404, 'Not Found', 'Channel not found');
    return ch.json();
  }

  listChannels(): ChannelJson[] {
    return [...this.channels.values()].map((c) => c.json());
  }

  /** find_control(): 404 when the channel is gone, 409 when it is not in Stasis. */
  private control(id: string): ChannelModel {
    const ch = this.channels.get(id);
    if (!ch) throw new AriError(404, 'Not Found', 'Channel not found');
    if (!ch.stasisApp) throw new AriError(409, 'Conflict', 'Channel not in Stasis application');
    return ch;
  }

  /** channel_state_invalid(): outbound channels not yet answered cannot be operated on. */
  private requireValidState(ch: ChannelModel): void {
    if (ch.state === 'Down' || ch.state === 'Rsrved' || ch.state === 'Ringing') {
      throw new AriError(412, 'Precondition Failed', 'Channel in invalid state');
    }
  }

  // ---- the command queue ----------------------------------------------------------------

  /** Queues a command on the channel's thread; resolves with its result (-1 if dropped). */
  private enqueue(ch: ChannelModel, name: string, run: () => Promise<number>, onCancel: () => void = () => undefined): Promise<number> {
    return new Promise((resolve) => {
      ch.queue.push({
        name,
        run: async () => {
          const res = await run();
          resolve(res);
          return res;
        },
        cancel: () => {
          onCancel();
          resolve(-1);
        },
      });
      if (!ch.pump) ch.pump = this.runQueue(ch);
    });
  }

  private async runQueue(ch: ChannelModel): Promise<void> {
    await nextTurn();
    while (ch.queue.length > 0 && !ch.hangupRequested && !ch.killed && ch.stasisApp) {
      const command = ch.queue.shift() as Command;
      await command.run();
    }
    ch.pump = undefined;
    // Left over after a continue: Asterisk drops them when the channel leaves Stasis.
    if (!ch.stasisApp && !ch.hangupRequested) this.flushQueue(ch);
  }

  private flushQueue(ch: ChannelModel): void {
    for (const command of ch.queue.splice(0)) command.cancel();
  }

  // ---- answer, ring, continue, variables ---------------------------------------------------

  async answer(id: string): Promise<void> {
    const ch = this.control(id);
    this.requireValidState(ch);
    const res = await this.enqueue(ch, 'answer', async () => {
      this.setState(ch, 'Up');
      return 0;
    });
    if (res !== 0) throw new AriError(500, 'Internal Server Error', 'Failed to answer channel');
  }

  ring(id: string, on: boolean): void {
    const ch = this.control(id);
    this.requireValidState(ch);
    void this.enqueue(ch, on ? 'ring' : 'ring_stop', async () => 0);
  }

  continueInDialplan(id: string, where: { context?: string; extension?: string; priority?: number }): void {
    const ch = this.control(id);
    this.requireValidState(ch);
    void this.enqueue(ch, 'continue', async () => {
      const context = where.context || ch.dialplan.context;
      const exten = where.extension || (where.context ? 's' : ch.dialplan.exten);
      const priority = where.priority ?? (where.context || where.extension ? 1 : ch.dialplan.priority + 1);
      this.leaveStasis(ch);
      ch.dialplan = { context, exten, priority, app_name: '', app_data: '' };
      return 0;
    });
  }

  sendDtmf(id: string, dtmf: string | undefined): void {
    const ch = this.control(id);
    this.requireValidState(ch);
    if (!dtmf) throw new AriError(400, 'Bad Request', 'DTMF is required');
    void this.enqueue(ch, 'dtmf', async () => 0);
  }

  getVariable(id: string, variable: string | undefined): string {
    if (!variable) throw new AriError(400, 'Bad Request', 'Variable name is required');
    const ch = this.channels.get(id);
    if (!ch) throw new AriError(404, 'Channel Not Found', 'Provided channel was not found');
    if (variable.endsWith(')')) {
      const fn = /^([A-Z_]+)\((.*)\)$/i.exec(variable);
      const name = fn?.[1]?.toUpperCase();
      const arg = fn?.[2]?.toLowerCase();
      if (name === 'CALLERID' && (arg === 'num' || arg === 'number')) return ch.caller.number;
      if (name === 'CALLERID' && arg === 'name') return ch.caller.name;
      if (name === 'CHANNEL' && arg === 'name') return ch.name;
      if (name === 'CHANNEL' && arg === 'language') return ch.language;
      throw new AriError(500, 'Error With Function', 'Unable to read provided function');
    }
    const value = ch.variables.get(variable);
    if (value === undefined) throw new AriError(404, 'Variable Not Found', 'Provided variable was not found');
    return value;
  }

  /** Set at once (Asterisk runs it through the control queue); ChannelVarset follows. */
  setVariable(id: string, variable: string | undefined, value: string | undefined): void {
    if (!variable) throw new AriError(400, 'Bad Request', 'Variable name is required');
    const ch = this.control(id);
    ch.variables.set(variable, value ?? '');
    this.publishChannel(ch, 'ChannelVarset', { variable, value: value ?? '' });
  }

  // ---- hang-up -----------------------------------------------------------------------------

  /**
   * DELETE /channels/{id}: 204 at once; the hang-up runs after (see hangup()).
   * resource_channels.c ast_ari_channels_hangup sets the channel's hangupcause from
   * reason_code (any number) or reason (the listed names; default 16) and calls
   * ast_softhangup(chan, AST_SOFTHANGUP_EXPLICIT); main/channel.c ast_softhangup publishes
   * ChannelHangupRequest {"cause": 32 (the soft-hangup flag, not a Q.850 cause), "soft":
   * true}. The Stasis loop then ends like for any hang-up: StasisEnd, then ChannelDestroyed
   * whose cause is the hangupcause chosen here.
   */
  deleteChannel(id: string, reasonCode: string | undefined, reason: string | undefined, reasonToCause: (r: string) => number | undefined): void {
    const ch = this.channels.get(id);
    if (!ch) throw new AriError(404, 'Not Found', 'Channel not found');
    if (reason && reasonCode) throw new AriError(400, 'Bad Request', "The reason and reason_code can't both be specified");
    let cause: number = CAUSE.NORMAL_CLEARING;
    if (reasonCode) {
      const parsed = /^\s*[+-]?\d+/.exec(reasonCode);
      if (!parsed) throw new AriError(400, 'Invalid Reason Code', 'Invalid reason for hangup reason code provided');
      cause = Number.parseInt(parsed[0], 10);
    } else if (reason) {
      const mapped = reasonToCause(reason);
      if (mapped === undefined) throw new AriError(400, 'Invalid Reason', 'Invalid reason for hangup reason provided');
      cause = mapped;
    }
    void this.hangup(ch, cause, true);
  }

  /**
   * The far end hangs up (BYE): chan_pjsip queues the hang-up with ast_queue_hangup_with_cause,
   * which publishes ChannelHangupRequest {"cause": <Q.850 cause>} (no "soft").
   */
  remoteHangup(id: string, cause: number): Promise<void> {
    const ch = this.channels.get(id);
    if (!ch) return Promise.reject(new Error(`no live channel ${id}`));
    return this.hangup(ch, cause, false);
  }

  private async hangup(ch: ChannelModel, cause: number, soft: boolean): Promise<void> {
    if (ch.destroyed) return;
    if (ch.hangupRequested) {
      // A second request: Asterisk publishes another ChannelHangupRequest; nothing else changes.
      this.publishChannel(ch, 'ChannelHangupRequest', soft ? { cause: AST_SOFTHANGUP_EXPLICIT, soft: true } : { cause });
      return;
    }
    ch.hangupRequested = true;
    ch.hangupCause = cause;
    this.publishChannel(ch, 'ChannelHangupRequest', soft ? { cause: AST_SOFTHANGUP_EXPLICIT, soft: true } : { cause });
    ch.playback?.signals.post('hangup');
    ch.recording?.signals.post('hangup');
    ch.outbound?.settle('unavailable', cause);
    await nextTurn();
    if (ch.pump) await ch.pump;
    await this.destroy(ch);
  }

  /** The end of a hung-up channel: queue dropped, bridge left, StasisEnd, ChannelDestroyed. */
  private async destroy(ch: ChannelModel): Promise<void> {
    if (ch.destroyed) return;
    this.flushQueue(ch);
    if (ch.bridge) this.leaveBridge(ch, ch.bridge);
    this.leaveStasis(ch);
    await nextTurn();
    ch.destroyed = true;
    this.publishChannel(ch, 'ChannelDestroyed', { cause: ch.hangupCause, cause_txt: causeText(ch.hangupCause) });
    for (const listener of this.destroyListeners) listener(ch.json(), ch.hangupCause);
    this.channels.delete(ch.id);
    for (const app of ch.subscribers) this.forgetAppIfFinished(app);
    await this.flushed();
  }

  // ---- DTMF from the caller ----------------------------------------------------------------

  /** The caller presses a key: ChannelDtmfReceived (sent when the digit ends). */
  dtmfFromCaller(id: string, digit: string, durationMs: number): void {
    const ch = this.channels.get(id);
    if (!ch) throw new Error(`no live channel ${id}`);
    if (ch.hangupRequested) return;
    this.publishChannel(ch, 'ChannelDtmfReceived', { digit, duration_ms: durationMs });
    const rec = ch.recording;
    if (rec && rec.state === 'recording') {
      const t = rec.terminateOn;
      if (t === 'any' || t === digit) rec.signals.post('terminate');
    }
  }

  /** The far end starts or stops making sound (what a recording's silence detection hears). */
  setTalking(id: string, talking: boolean): void {
    const ch = this.channels.get(id);
    if (!ch) throw new Error(`no live channel ${id}`);
    ch.talking = talking;
    ch.recording?.signals.post(talking ? 'talk' : 'silent');
  }

  // ---- playbacks ---------------------------------------------------------------------------

  play(channelId: string, medias: readonly string[], opts: { lang?: string; offsetms?: number; skipms?: number; playbackId?: string }): PlaybackJson {
    const ch = this.control(channelId);
    this.requireValidState(ch);
    if ((opts.skipms ?? 0) < 0) throw new AriError(400, 'Bad Request', 'skipms cannot be negative');
    if ((opts.offsetms ?? 0) < 0) throw new AriError(400, 'Bad Request', 'offsetms cannot be negative');
    if (medias.length === 0 || medias.some((m) => m === '')) {
      // stasis_app_control_play_uri refuses an empty media list or URI.
      throw new AriError(500, 'Internal Server Error', 'Failed to queue media for playback');
    }
    const id = opts.playbackId || uuid();
    const pb = new PlaybackModel(id, ch, medias, opts.lang || ch.language, opts.skipms || 3000, this.timers);
    this.playbacks.set(id, pb);
    void this.enqueue(
      ch,
      'play',
      async () => {
        await this.runPlayback(ch, pb);
        this.playbacks.delete(pb.id);
        return 0;
      },
      () => this.playbacks.delete(pb.id),
    );
    return pb.json();
  }

  getPlayback(id: string): PlaybackJson {
    const pb = this.playbacks.get(id);
    if (!pb) throw new AriError(404, 'Not Found', 'Playback not found');
    return pb.json();
  }

  playbackViews(): PlaybackJson[] {
    return [...this.playbacks.values()].map((p) => p.json());
  }

  /** DELETE /playbacks/{id} (stasis_app_playback_operation STOP). */
  stopPlayback(id: string): void {
    const pb = this.playbacks.get(id);
    if (!pb) throw new AriError(404, 'Not Found', 'Playback not found');
    switch (pb.state) {
      case 'queued':
        pb.state = 'canceled';
        return;
      case 'playing':
      case 'continuing':
      case 'paused':
        if (!pb.controllable) throw new AriError(500, 'Internal Server Error', 'Could not stop playback');
        pb.state = 'stopped';
        pb.signals.post('stop');
        return;
      default:
        return;
    }
  }

  /** POST /playbacks/{id}/control. */
  controlPlayback(id: string, operation: string | undefined): void {
    if (!operation) throw new AriError(400, 'Bad Request', 'Missing operation');
    const ops = ['unpause', 'pause', 'restart', 'reverse', 'forward'] as const;
    const op = ops.find((o) => o === operation);
    if (!op) throw new AriError(400, 'Bad Request', `Invalid operation ${operation}`);
    const pb = this.playbacks.get(id);
    if (!pb) throw new AriError(404, 'Not Found', 'Playback not found');
    const allowed: Record<string, readonly string[]> = {
      queued: ['restart'],
      playing: ops,
      continuing: ops,
      paused: ['pause', 'unpause'],
    };
    if (!(allowed[pb.state] ?? []).includes(op)) {
      if (pb.state !== 'playing') throw new AriError(409, 'Conflict', `Can only ${op} while media is playing`);
      throw new AriError(500, 'Internal Server Error', `Could not ${op} playback`);
    }
    if (pb.state === 'queued') return; // restart of a queued playback: nothing to do
    const noop = (pb.state === 'paused' && op === 'pause') || (pb.state !== 'paused' && op === 'unpause');
    if (noop) return;
    if (!pb.controllable) throw new AriError(500, 'Internal Server Error', `Could not ${op} playback`);
    if (op === 'pause') {
      pb.state = 'paused'; // published, but "paused" maps to no event type
    } else if (op === 'unpause') {
      pb.state = 'playing';
      this.publishPlayback(pb); // PlaybackStarted again
    }
    pb.signals.post(op);
  }

  private publishPlayback(pb: PlaybackModel): void {
    const ch = pb.channel;
    if (ch.killed) return;
    const type = { playing: 'PlaybackStarted', continuing: 'PlaybackContinuing', done: 'PlaybackFinished', failed: 'PlaybackFinished' }[
      pb.publicState() as 'playing' | 'continuing' | 'done' | 'failed'
    ];
    // "queued" and "paused" are published by Asterisk but turn into no event.
    if (!type) return;
    this.publish(this.channelTargets(ch), type, { playback: pb.json() });
  }

  /** play_on_channel(): one media after the other, first/final updates around each. */
  private async runPlayback(ch: ChannelModel, pb: PlaybackModel): Promise<void> {
    ch.playback = pb;
    try {
      for (let index = 0; index < pb.medias.length; index++) {
        pb.index = index;
        // playback_first_update: a playback stopped while queued finishes without starting.
        if (pb.state === 'canceled') {
          this.publishPlayback(pb);
          return;
        }
        pb.state = 'playing';
        this.publishPlayback(pb);
        const res = await this.playMedia(ch, pb);
        if (res === 'skip') continue;
        const hangup = ch.hangupRequested;
        const last = index === pb.medias.length - 1;
        // playback_final_update
        if (res === 0) {
          pb.state = last || hangup ? 'complete' : 'continuing';
        } else if ((pb.state as PlaybackInternalState) !== 'stopped') {
          pb.state = last || hangup ? 'failed' : 'continuing';
        }
        this.publishPlayback(pb);
        if (hangup || res === STREAM_STOP) return;
      }
    } finally {
      ch.playback = undefined;
    }
  }

  /**
   * Plays one media URI: 0 when it played to its end, -1 on failure or hang-up (the
   * stream read fails when the channel hangs up, so a hang-up mid-playback gives
   * PlaybackFinished with state "failed"), STREAM_STOP when stopped, 'skip' when Asterisk
   * gives up on the URI without a final update (unknown scheme, missing recording,
   * unparsable number: it logs an error and moves on, and no PlaybackFinished follows for
   * that URI).
   */
  private async playMedia(ch: ChannelModel, pb: PlaybackModel): Promise<number | 'skip'> {
    const media = pb.media;
    const colon = media.indexOf(':');
    const scheme = colon > 0 ? media.slice(0, colon) : '';
    const target = media.slice(colon + 1);
    let exists = true;
    switch (scheme) {
      case 'sound':
        pb.controllable = true;
        exists = await this.config.mediaExists(media);
        break;
      case 'recording':
        if (!this.storedRecordings.has(target)) return 'skip';
        pb.controllable = true;
        break;
      case 'number':
        if (!/^\s*[+-]?\d+/.test(target)) return 'skip';
        break;
      case 'digits':
      case 'characters':
        break;
      case 'tone':
        pb.controllable = true;
        break;
      default:
        return 'skip';
    }
    if (ch.hangupRequested || ch.killed) return -1;
    if (!exists) return -1;
    return this.timedPlay(pb, this.config.playbackMs(media), scheme === 'tone');
  }

  /** Waits out a media of `durationMs`, obeying stop, hang-up and the control operations. */
  private async timedPlay(pb: PlaybackModel, durationMs: number, tone: boolean): Promise<number> {
    let position = 0;
    let paused = false;
    for (;;) {
      const started = Date.now();
      const signal = await pb.signals.next(paused ? Infinity : Math.max(0, durationMs - position));
      if (!paused) position += Date.now() - started;
      switch (signal) {
        case 'timeout':
          return 0;
        case 'hangup':
          return -1;
        case 'stop':
          // ast_control_tone answers a stop with 0; a stream answers AST_CONTROL_STREAM_STOP.
          return tone ? 0 : STREAM_STOP;
        case 'pause':
          paused = true;
          break;
        case 'unpause':
          paused = false;
          break;
        case 'restart':
          position = 0;
          break;
        case 'forward':
          position = Math.min(durationMs, position + pb.skipms);
          break;
        case 'reverse':
          position = Math.max(0, position - pb.skipms);
          break;
      }
    }
  }

  // ---- recordings --------------------------------------------------------------------------

  record(
    channelId: string,
    args: { name?: string; format?: string; maxDurationSeconds?: number; maxSilenceSeconds?: number; ifExists?: string; beep?: boolean; terminateOn?: string },
  ): LiveRecordingJson {
    const maxDuration = args.maxDurationSeconds ?? 0;
    const maxSilence = args.maxSilenceSeconds ?? 0;
    if (maxDuration < 0) throw new AriError(400, 'Bad Request', 'max_duration_seconds cannot be negative');
    if (maxSilence < 0) throw new AriError(400, 'Bad Request', 'max_silence_seconds cannot be negative');
    const ch = this.control(channelId);
    const terminateOn = (args.terminateOn ?? 'none').toLowerCase();
    if (!['none', 'any', '#', '*'].includes(terminateOn)) throw new AriError(400, 'Bad Request', 'terminateOn invalid');
    const ifExists = (args.ifExists ?? 'fail').toLowerCase();
    if (!['fail', 'overwrite', 'append'].includes(ifExists)) throw new AriError(400, 'Bad Request', 'ifExists invalid');
    const format = args.format ?? '';
    if (!KNOWN_FORMATS.has(format)) throw new AriError(422, 'Unprocessable Entity', 'specified format is unknown on this system');
    const name = args.name ?? '';
    if (!name) throw new AriError(500, 'Internal Server Error', 'Error parsing request');
    if (name.split('/').includes('..')) throw new AriError(400, 'Bad Request', 'Recording name invalid');
    if ((ifExists === 'fail' && this.storedRecordings.has(name)) || this.liveRecordings.has(name)) {
      throw new AriError(409, 'Conflict', `Recording '${name}' already exists and can not be overwritten`);
    }
    const rec = new RecordingModel(name, format, ch, maxDuration, maxSilence, terminateOn, this.timers, args.beep === true);
    this.liveRecordings.set(name, rec);
    void this.enqueue(
      ch,
      'record',
      async () => {
        await this.runRecording(ch, rec);
        this.liveRecordings.delete(name);
        return 0;
      },
      () => this.liveRecordings.delete(name),
    );
    return rec.json();
  }

  private publishRecording(rec: RecordingModel, cause?: string): void {
    const ch = rec.channel;
    if (ch.killed) return;
    const type = { recording: 'RecordingStarted', done: 'RecordingFinished', canceled: 'RecordingFinished', failed: 'RecordingFailed' }[
      rec.state as 'recording' | 'done' | 'canceled' | 'failed'
    ];
    if (!type) return;
    this.publish(this.channelTargets(ch), type, { recording: rec.json(cause) });
  }

  /** record_file(): answer if needed, RecordingStarted, record until an end, RecordingFinished. */
  private async runRecording(ch: ChannelModel, rec: RecordingModel): Promise<void> {
    if (ch.bridge) {
      rec.state = 'failed';
      this.publishRecording(rec, 'Cannot record channel while in bridge');
      return;
    }
    if (ch.state !== 'Up') this.setState(ch, 'Up'); // ast_auto_answer
    if (rec.beep) {
      // Asterisk 22 plays its `beep` sound first; without that file (an image with no
      // sounds) the recording ends at once: RecordingStarted, RecordingFinished without a
      // duration, nothing stored.
      if (!(await this.config.mediaExists('sound:beep'))) {
        rec.state = 'recording';
        this.publishRecording(rec);
        rec.state = 'done';
        this.publishRecording(rec);
        return;
      }
      const beep = await rec.signals.next((BEEP_MS * this.config.secondMs) / 1000);
      if (beep === 'hangup') return;
    }
    ch.recording = rec;
    rec.state = 'recording';
    this.publishRecording(rec);
    // ast_play_and_record_full ends on maxDuration, on maxSilence seconds of silence (the
    // fake caller is silent unless setCallerTalking() says otherwise), on a terminating
    // DTMF, on stop/cancel, or when the channel hangs up.
    const secondMs = this.config.secondMs;
    const started = Date.now();
    const deadline = rec.maxDurationSeconds > 0 ? started + rec.maxDurationSeconds * secondMs : Infinity;
    const silenceLimit = rec.maxSilenceSeconds > 0 ? rec.maxSilenceSeconds * secondMs : Infinity;
    let talking = ch.talking;
    let quietSince = started;
    let talkedMs = 0;
    let signal: RecordingSignal | 'timeout';
    let limitAt = Infinity;
    for (;;) {
      const now = Date.now();
      const silenceEnd = talking ? Infinity : quietSince + silenceLimit;
      limitAt = Math.min(deadline, silenceEnd);
      signal = await rec.signals.next(Math.max(0, limitAt - now));
      if (signal === 'talk' || signal === 'silent') {
        const at = Date.now();
        if (signal === 'talk' && !talking) {
          talking = true;
          quietSince = at;
        } else if (signal === 'silent' && talking) {
          talking = false;
          talkedMs += at - quietSince;
          quietSince = at;
        }
        continue;
      }
      break;
    }
    // A timer may fire a millisecond before its time: a limit that was reached was reached in full.
    const ended = signal === 'timeout' ? Math.max(Date.now(), limitAt) : Date.now();
    if (talking) talkedMs += ended - quietSince;
    ch.recording = undefined;
    // A fake caller stands for a phone, which sends audio all the time (silence included):
    // the duration is the time recorded. (A Local channel whose other half sends nothing
    // records 0 s and a header-only file on Asterisk: see README.md.)
    rec.durationSeconds = Math.floor((ended - started) / secondMs);
    rec.talkingSeconds = Math.min(rec.durationSeconds, Math.floor(talkedMs / secondMs));
    if (signal === 'cancel') {
      // recording_cancel deletes the file too.
      rec.state = 'canceled';
      this.storedRecordings.delete(rec.name);
      this.recordingFiles.delete(rec.name);
    } else {
      rec.state = 'done';
      this.storedRecordings.set(rec.name, { name: rec.name, format: rec.format });
      this.recordingFiles.set(rec.name, recordingWav(((ended - started) * 1000) / secondMs, (talkedMs * 1000) / secondMs));
    }
    this.publishRecording(rec);
  }

  getLiveRecording(name: string): LiveRecordingJson {
    const rec = this.liveRecordings.get(name);
    if (!rec) throw new AriError(404, 'Not Found', 'Recording not found');
    return rec.json();
  }

  /** POST /recordings/live/{name}/stop and DELETE /recordings/live/{name}. */
  controlRecording(name: string, operation: 'stop' | 'cancel'): void {
    const rec = this.liveRecordings.get(name);
    if (!rec) throw new AriError(404, 'Not Found', 'Recording not found');
    if (rec.state === 'queued') {
      // recording_disregard: it will not run.
      rec.state = 'canceled';
      const ch = rec.channel;
      const index = ch.queue.findIndex((c) => c.name === 'record');
      if (index >= 0) ch.queue.splice(index, 1)[0]?.cancel();
      return;
    }
    if (rec.state !== 'recording' && rec.state !== 'paused') throw new AriError(409, 'Conflict', 'Recording not in session');
    rec.signals.post(operation);
  }

  getStoredRecording(name: string): StoredRecordingJson {
    const rec = this.storedRecordings.get(name);
    if (!rec) throw new AriError(404, 'Not Found', 'Recording not found');
    return { ...rec };
  }

  /** GET /recordings/stored/{name}/file: the WAV (a recording added by hand has an empty one). */
  storedRecordingFile(name: string): Buffer {
    if (!this.storedRecordings.has(name)) throw new AriError(404, 'Not Found', 'Recording not found');
    return this.recordingFiles.get(name) ?? recordingWav(0);
  }

  deleteStoredRecording(name: string): void {
    this.recordingFiles.delete(name);
    if (!this.storedRecordings.delete(name)) throw new AriError(404, 'Not Found', 'Recording not found');
  }

  // ---- bridges -----------------------------------------------------------------------------

  createBridge(args: { type?: string; bridgeId?: string; name?: string }): BridgeJson {
    const id = args.bridgeId || uuid();
    if (this.bridges.has(id)) throw new AriError(409, 'Conflict', `Bridge with id '${id}' already exists`);
    const types = (args.type ?? '').split(',').map((t) => t.trim());
    const bridge = new BridgeModel(id, args.name ?? '', types.includes('holding') ? 'holding' : 'mixing');
    this.bridges.set(id, bridge);
    return bridge.json();
  }

  private findBridge(id: string): BridgeModel {
    const bridge = this.bridges.get(id);
    if (!bridge) throw new AriError(404, 'Not found', 'Bridge not found');
    return bridge;
  }

  getBridge(id: string): BridgeJson {
    return this.findBridge(id).json();
  }

  listBridges(): BridgeJson[] {
    return [...this.bridges.values()].map((b) => b.json());
  }

  /** find_channel_control() of resource_bridges.c: 400 and 422 instead of 404 and 409. */
  private bridgeChannelControls(ids: readonly string[]): ChannelModel[] {
    const wanted = ids.filter((id) => id !== '');
    if (wanted.length === 0) throw new AriError(400, 'Bad Request', 'Missing parameter channel');
    return wanted.map((id) => {
      const ch = this.channels.get(id);
      if (!ch) throw new AriError(400, 'Bad Request', 'Channel not found');
      if (!ch.stasisApp) throw new AriError(422, 'Unprocessable Entity', 'Channel not in Stasis application');
      return ch;
    });
  }

  async addToBridge(bridgeId: string, channelIds: readonly string[]): Promise<void> {
    const bridge = this.findBridge(bridgeId);
    const controls = this.bridgeChannelControls(channelIds);
    for (const ch of controls) {
      if (ch.recording || [...ch.queue].some((c) => c.name === 'record')) {
        throw new AriError(409, 'Conflict', `Channel ${ch.id} currently recording`);
      }
      await this.enqueue(ch, 'add_to_bridge', async () => {
        if (this.bridges.get(bridge.id) !== bridge) return -1;
        if (ch.bridge === bridge) return 0;
        if (ch.bridge) this.leaveBridge(ch, ch.bridge);
        bridge.channels.push(ch);
        ch.bridge = bridge;
        if (ch.stasisApp) bridge.subscribers.add(ch.stasisApp);
        this.publishBridgeChannel(ch, bridge, 'ChannelEnteredBridge');
        return 0;
      });
    }
  }

  async removeFromBridge(bridgeId: string, channelIds: readonly string[]): Promise<void> {
    const bridge = this.findBridge(bridgeId);
    const controls = this.bridgeChannelControls(channelIds);
    for (const ch of controls) {
      if (ch.bridge !== bridge) throw new AriError(422, 'Unprocessable Entity', 'Channel not in this bridge');
    }
    for (const ch of controls) {
      await this.enqueue(ch, 'remove_from_bridge', async () => {
        if (ch.bridge === bridge) this.leaveBridge(ch, bridge);
        return 0;
      });
    }
  }

  destroyBridge(bridgeId: string): void {
    const bridge = this.findBridge(bridgeId);
    const subscribers = [...bridge.subscribers];
    for (const ch of [...bridge.channels]) this.leaveBridge(ch, bridge);
    this.bridges.delete(bridge.id);
    if (subscribers.length > 0) this.publish(subscribers, 'BridgeDestroyed', { bridge: bridge.json() });
    for (const app of subscribers) this.forgetAppIfFinished(app);
  }

  private leaveBridge(ch: ChannelModel, bridge: BridgeModel): void {
    const index = bridge.channels.indexOf(ch);
    if (index >= 0) bridge.channels.splice(index, 1);
    ch.bridge = undefined;
    // The application stays subscribed to the bridge (BridgeDestroyed reaches it) until the bridge goes.
    this.publishBridgeChannel(ch, bridge, 'ChannelLeftBridge');
  }

  private publishBridgeChannel(ch: ChannelModel, bridge: BridgeModel, type: 'ChannelEnteredBridge' | 'ChannelLeftBridge'): void {
    if (ch.killed) return;
    this.publish(this.channelTargets(ch, bridge.subscribers), type, { bridge: bridge.json(), channel: ch.json() });
  }

  // ---- outbound ----------------------------------------------------------------------------

  /**
   * POST /channels (originate): the channel exists at once (200, state Down) and the app is
   * subscribed to it; the dial runs after. On answer it enters Stasis(app, appArgs).
   */
  originate(args: {
    endpoint?: string;
    app?: string;
    appArgs?: string;
    extension?: string;
    callerId?: string;
    timeout?: number;
    channelId?: string;
    otherChannelId?: string;
    originator?: string;
    formats?: string;
    variables?: Record<string, string>;
  }): ChannelJson {
    if ((args.channelId && args.channelId.length > 127) || (args.otherChannelId && args.otherChannelId.length > 127)) {
      throw new AriError(400, 'Bad Request', 'Uniqueid length exceeds maximum of 127');
    }
    if (!args.endpoint) throw new AriError(400, 'Bad Request', 'Endpoint must be specified');
    if (args.originator && args.formats) throw new AriError(400, 'Bad Request', "Originator and formats can't both be specified");
    const slash = args.endpoint.indexOf('/');
    if (slash <= 0 || slash === args.endpoint.length - 1) throw new AriError(400, 'Bad Request', 'Invalid endpoint specified');
    if (!args.app && !args.extension) throw new AriError(400, 'Bad Request', 'Application or extension must be specified');
    if (args.channelId && this.idInUse(args.channelId)) throw new AriError(409, 'Conflict', 'Channel with given unique ID already exists');
    const ch = this.newOutboundChannel('originate', args.endpoint, args.channelId, args.callerId, args.variables);
    if (args.app) {
      ch.subscribers.add(args.app);
      ch.originators.add(args.app);
    }
    const appArgs = splitArgs(args.appArgs);
    this.startOutbound(ch, {
      channelId: ch.id,
      endpoint: args.endpoint,
      callerId: args.callerId ?? '',
      app: args.app,
      appArgs,
      via: 'originate',
    }, args.timeout ?? 30);
    return ch.json();
  }

  /** POST /channels/create: the channel enters Stasis at once, state Down, not dialled. */
  create(args: {
    endpoint?: string;
    app?: string;
    appArgs?: string;
    channelId?: string;
    otherChannelId?: string;
    originator?: string;
    formats?: string;
    variables?: Record<string, string>;
  }): ChannelJson {
    if (args.originator && args.formats) throw new AriError(400, 'Bad Request', "Originator and formats can't both be specified");
    if (!args.endpoint) throw new AriError(400, 'Bad Request', 'Endpoint must be specified');
    const slash = args.endpoint.indexOf('/');
    if (slash <= 0 || slash === args.endpoint.length - 1) throw new AriError(400, 'Bad Request', 'Invalid endpoint specified');
    if (!args.app) throw new AriError(400, 'Bad Request', 'Stasis application must be specified');
    if (args.channelId && this.idInUse(args.channelId)) throw new AriError(409, 'Conflict', 'Channel with given unique ID already exists');
    const ch = this.newOutboundChannel('create', args.endpoint, args.channelId, undefined, args.variables);
    ch.dialstring = args.endpoint.slice(slash + 1);
    const json = ch.json();
    this.enterStasis(ch, args.app, splitArgs(args.appArgs));
    return json;
  }

  /** POST /channels/{id}/dial on a created channel. */
  dial(channelId: string, args: { caller?: string; timeout?: number }): void {
    const ch = this.control(channelId);
    if (ch.state !== 'Down' && ch.state !== 'Rsrved') throw new AriError(409, 'Conflict', "Channel is not in the 'Down' state");
    if (ch.dialstring === undefined) throw new AriError(409, 'Conflict', 'Dialing a channel not created by ARI');
    const caller = args.caller ? this.channels.get(args.caller) : undefined;
    if (caller) ch.connected = { ...caller.caller };
    this.startOutbound(
      ch,
      { channelId: ch.id, endpoint: ch.endpoint, callerId: '', app: ch.stasisApp, appArgs: ch.stasisArgs, via: 'dial' },
      args.timeout && args.timeout > 0 ? args.timeout : Infinity,
    );
  }

  private newOutboundChannel(origin: ChannelOrigin, endpoint: string, channelId: string | undefined, callerId: string | undefined, variables?: Record<string, string>): ChannelModel {
    const id = channelId || this.nextUniqueId();
    const cid = parseCallerId(callerId);
    const ch = new ChannelModel(
      id,
      this.nextChannelName(endpoint),
      origin,
      endpoint,
      '',
      cid,
      { ...cid },
      this.config.language,
      'Down',
      { context: 'default', exten: 's', priority: 1, app_name: '', app_data: '' },
      this.config.channelVars,
    );
    for (const [k, v] of Object.entries(variables ?? {})) ch.variables.set(k, v);
    this.addChannel(ch);
    return ch;
  }

  private startOutbound(ch: ChannelModel, call: OutboundCall, timeoutSeconds: number): void {
    const plan = this.config.outbound(call);
    const dialstring = call.endpoint.slice(call.endpoint.indexOf('/') + 1);
    const dialEvent = (status: string): void => {
      if (!ch.killed) this.publish(this.channelTargets(ch), 'Dial', { peer: ch.json(), dialstring, dialstatus: status });
    };
    let settled = false;
    const cancelTimers: (() => void)[] = [];
    const settle = (outcome: 'answer' | 'busy' | 'congestion' | 'noanswer' | 'unavailable', cause?: number): void => {
      if (settled) return;
      settled = true;
      ch.outbound = undefined;
      for (const cancel of cancelTimers) cancel();
      if (ch.killed) return;
      if (outcome === 'answer') {
        this.setState(ch, 'Up');
        dialEvent('ANSWER');
        if (call.via === 'originate' && call.app) this.enterStasis(ch, call.app, [...call.appArgs]);
        if (plan.hangupAfterMs !== undefined) this.timers.after(plan.hangupAfterMs, () => void this.remoteHangup(ch.id, CAUSE.NORMAL_CLEARING).catch(() => undefined));
        return;
      }
      // Hung up by the app while ringing (seen on 22.10.1 for an originate): Dial NOANSWER; hangup() finishes it.
      if (ch.hangupRequested) {
        if (call.via === 'originate' && outcome === 'unavailable') dialEvent('NOANSWER');
        return;
      }
      const status = { busy: 'BUSY', congestion: 'CONGESTION', noanswer: 'NOANSWER', unavailable: 'CHANUNAVAIL' }[outcome];
      if (call.via === 'originate' && outcome !== 'unavailable') {
        // Seen on 22.10.1: busy/congestion → Dial BUSY/CONGESTION, then ChannelDestroyed cause 0;
        // no answer by the timeout → ChannelDestroyed 19 without a Dial NOANSWER; no
        // ChannelHangupRequest on the channel in either case.
        if (outcome !== 'noanswer') dialEvent(status);
        ch.hangupRequested = true;
        ch.hangupCause = cause ?? plan.cause ?? (outcome === 'noanswer' ? CAUSE.NO_ANSWER : 0);
        void this.destroy(ch);
        return;
      }
      dialEvent(status);
      if (call.via === 'dial' && (outcome === 'busy' || outcome === 'congestion')) {
        // Seen on 22.10.1: a dialled (created) channel stays up after Dial BUSY/CONGESTION until the dial timeout (then 19).
        if (Number.isFinite(timeoutSeconds) && timeoutSeconds > 0) {
          this.timers.after(timeoutSeconds * this.config.secondMs, () => void this.hangup(ch, cause ?? plan.cause ?? CAUSE.NO_ANSWER, false));
        }
        return;
      }
      const defaultCause = { busy: CAUSE.USER_BUSY, congestion: CAUSE.CONGESTION, noanswer: CAUSE.NO_ANSWER, unavailable: 3 }[outcome];
      void this.hangup(ch, cause ?? plan.cause ?? defaultCause, false);
    };
    ch.outbound = { settle };
    void nextTurn().then(() => {
      if (settled || ch.killed) return;
      dialEvent('');
      // A target that is busy or congested at once never rings (Busy(), Congestion() on 22.10.1).
      if (plan.outcome !== 'busy' && plan.outcome !== 'congestion') {
        this.setState(ch, 'Ringing');
        dialEvent('RINGING');
      }
      if (plan.outcome !== 'wait') {
        cancelTimers.push(this.timers.after(plan.afterMs ?? 10, () => settle(plan.outcome as 'answer')));
      } else if (Number.isFinite(timeoutSeconds) && timeoutSeconds > 0) {
        cancelTimers.push(this.timers.after(timeoutSeconds * this.config.secondMs, () => settle('noanswer')));
      }
    });
  }

  /** The far end of an outbound channel answers (plan 'wait'). */
  remoteAnswer(id: string): void {
    const ch = this.channels.get(id);
    if (!ch?.outbound) throw new Error(`channel ${id} is not ringing out`);
    ch.outbound.settle('answer');
  }

  /** The far end of an outbound channel refuses it (plan 'wait'). */
  remoteReject(id: string, outcome: 'busy' | 'congestion' | 'noanswer' | 'unavailable', cause?: number): void {
    const ch = this.channels.get(id);
    if (!ch?.outbound) throw new Error(`channel ${id} is not ringing out`);
    ch.outbound.settle(outcome, cause);
  }

  // ---- restart -------------------------------------------------------------------------------

  /** Asterisk restarts: every call is gone without a word, as are apps, bridges, playbacks. */
  wipe(): void {
    for (const ch of this.channels.values()) {
      ch.killed = true;
      ch.destroyed = true;
      ch.playback?.signals.post('hangup');
      ch.recording?.signals.post('hangup');
      ch.outbound?.settle('unavailable');
      this.flushQueue(ch);
    }
    this.channels.clear();
    this.playbacks.clear();
    this.liveRecordings.clear();
    this.bridges.clear();
    this.apps.clear();
    this.outbox = [];
    this.timers.clear();
    this.startedAt = new Date();
  }
}

/** Formats Asterisk's stock format modules register (ast_get_format_for_file_ext). */
const KNOWN_FORMATS = new Set(['wav', 'WAV', 'wav49', 'wav16', 'gsm', 'ulaw', 'ul', 'mu', 'pcm', 'alaw', 'al', 'alw', 'sln', 'raw', 'sln16', 'g722', 'g726', 'g729', 'ilbc', 'ogg', 'vox']);

/** Stasis(app,a,b) arguments: appArgs "a,b" → ["a", "b"]; empty → []. */
function splitArgs(appArgs: string | undefined): string[] {
  if (!appArgs) return [];
  return appArgs.split(',');
}

/** ast_callerid_parse for the forms used in practice: `"Name" <num>`, `Name <num>`, `num`. */
function parseCallerId(callerId: string | undefined): CallerIdJson {
  if (!callerId) return { name: '', number: '' };
  const angle = /^\s*"?([^"<]*?)"?\s*<([^>]*)>\s*$/.exec(callerId);
  if (angle) return { name: (angle[1] ?? '').trim(), number: (angle[2] ?? '').trim() };
  if (/^[+\d*#\s()-]+$/.test(callerId)) return { name: '', number: callerId.replace(/[\s()-]/g, '') };
  return { name: callerId.trim(), number: '' };
}
