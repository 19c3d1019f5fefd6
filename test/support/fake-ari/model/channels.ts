// Channels (res/ari/resource_channels.c): the channel model, inbound calls entering
// Stasis, each channel's command queue (the stasis control queue), answer, ring, continue,
// DTMF, variables, hang-up and destruction, and what the caller does (DTMF, talking).
// Originate, create and dial are in outbound.ts.
import { AST_SOFTHANGUP_EXPLICIT, asteriskTime, CAUSE, causeText, uuid } from '../asterisk-values.js';
import type { CallerIdJson, ChannelJson, ChannelState, DialplanCepJson } from '../models.js';
import type { Stasis } from '../stasis.js';
import { nextTurn } from '../waiter.js';
import { AriError } from './ari-error.js';
import type { BridgeModel } from './bridges.js';
import type { PendingOutbound } from './outbound.js';
import type { PlaybackModel } from './playbacks.js';
import type { RecordingModel } from './recordings.js';

interface Command {
  readonly name: string;
  run(): Promise<number>;
  /** Dropped from the queue without running (channel hung up): complete with -1, no events. */
  cancel(): void;
}

export type ChannelOrigin = 'inbound' | 'originate' | 'create';

export class ChannelModel {
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

export class Channels {
  /** The channels that exist now; a destroyed channel leaves. */
  readonly byId = new Map<string, ChannelModel>();
  /** Every channel ever seen, destroyed ones included, for the control API. */
  private readonly history = new Map<string, ChannelModel>();
  private uniqueCounter = 0;
  private nameCounter = 0;
  private readonly destroyListeners = new Set<(channel: ChannelJson, cause: number) => void>();

  constructor(private readonly stasis: Stasis) {}

  /**
   * Calls `listener` when a channel is destroyed, whoever gets its events: what the far
   * end of the line learns (a phone gets the BYE), even when the channel's application
   * gets no ChannelDestroyed after its StasisEnd, as on Asterisk.
   */
  onDestroyed(listener: (channel: ChannelJson, cause: number) => void): () => void {
    this.destroyListeners.add(listener);
    return () => this.destroyListeners.delete(listener);
  }

  setState(ch: ChannelModel, state: ChannelState): void {
    if (ch.state === state) return;
    ch.state = state;
    this.stasis.events.publishChannel(ch, 'ChannelStateChange');
  }

  nextUniqueId(): string {
    return `${Math.floor(Date.now() / 1000)}.${this.uniqueCounter++}`;
  }

  nextChannelName(endpoint: string): string {
    const suffix = (this.nameCounter++).toString(16).padStart(8, '0');
    const slash = endpoint.indexOf('/');
    const tech = slash > 0 ? endpoint.slice(0, slash) : 'PJSIP';
    const resource = slash > 0 ? endpoint.slice(slash + 1) : endpoint;
    // PJSIP/<number>@<endpoint> is named after the endpoint, as chan_pjsip names it.
    const at = resource.lastIndexOf('@');
    const device = tech.toUpperCase() === 'PJSIP' && at >= 0 ? resource.slice(at + 1) : resource;
    return tech === 'Local' ? `Local/${device}-${suffix};1` : `${tech}/${device}-${suffix}`;
  }

  addChannel(ch: ChannelModel): void {
    this.byId.set(ch.id, ch);
    this.history.set(ch.id, ch);
  }

  idInUse(id: string): boolean {
    return this.byId.has(id);
  }

  /**
   * A call comes in from the trunk and the dialplan runs Stasis(app, args): StasisStart
   * with the arguments and the channel in state Ring. Asterisk refuses the Stasis() call
   * when the application is not registered or not active (no WebSocket); the fake throws.
   */
  placeCall(call: InboundCall): ChannelView {
    if (!this.stasis.applications.has(call.app)) throw new Error(`Stasis app '${call.app}' not registered`);
    if (!this.stasis.applications.isActive(call.app)) throw new Error(`Stasis app '${call.app}' not active`);
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
      call.language ?? this.stasis.config.language,
      'Ring',
      { context: call.context ?? this.stasis.config.context, exten: call.did, priority: 1, app_name: 'Stasis', app_data: [call.app, ...call.args].join(',') },
      this.stasis.config.channelVars,
    );
    for (const [k, v] of Object.entries(call.variables ?? {})) ch.variables.set(k, v);
    this.addChannel(ch);
    this.enterStasis(ch, call.app, [...call.args]);
    return this.view(ch);
  }

  /** StasisStart and StasisEnd go to that application only (app_send), not to subscribeAll listeners. */
  enterStasis(ch: ChannelModel, app: string, args: string[]): void {
    ch.stasisApp = app;
    ch.stasisArgs = args;
    ch.subscribers.add(app);
    ch.dialplan = { ...ch.dialplan, app_name: 'Stasis', app_data: [app, ...args].join(',') };
    if (!ch.killed) this.stasis.events.publish([app], 'StasisStart', { args, channel: ch.json() });
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
    if (!ch.killed) this.stasis.events.publish([app], 'StasisEnd', { channel: ch.json() });
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
    return [...this.byId.values()].map((c) => this.view(c));
  }

  /** GET /channels/{id}: the channel while it exists. */
  getChannel(id: string): ChannelJson {
    const ch = this.byId.get(id);
    if (!ch) throw new AriError(404, 'Not Found', 'Channel not found');
    return ch.json();
  }

  listChannels(): ChannelJson[] {
    return [...this.byId.values()].map((c) => c.json());
  }

  /** find_control(): 404 when the channel is gone, 409 when it is not in Stasis. */
  control(id: string): ChannelModel {
    const ch = this.byId.get(id);
    if (!ch) throw new AriError(404, 'Not Found', 'Channel not found');
    if (!ch.stasisApp) throw new AriError(409, 'Conflict', 'Channel not in Stasis application');
    return ch;
  }

  /** channel_state_invalid(): outbound channels not yet answered cannot be operated on. */
  requireValidState(ch: ChannelModel): void {
    if (ch.state === 'Down' || ch.state === 'Rsrved' || ch.state === 'Ringing') {
      throw new AriError(412, 'Precondition Failed', 'Channel in invalid state');
    }
  }

  // ---- the command queue ----------------------------------------------------------------

  /** Queues a command on the channel's thread; resolves with its result (-1 if dropped). */
  enqueue(ch: ChannelModel, name: string, run: () => Promise<number>, onCancel: () => void = () => undefined): Promise<number> {
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

  flushQueue(ch: ChannelModel): void {
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
    const ch = this.byId.get(id);
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

  /**
   * A command on the channel's queue (stasis_app_control_set_channel_var), answered once it
   * has run: sent while a playback runs, the answer waits for the playback's end (seen on
   * Asterisk 22.10.1: 7.9 s behind a 7.75 s sound; behind `tone:` until it is stopped).
   * ChannelVarset follows. Dropped (the channel hung up first): 400 "Failed to execute
   * function", as resource_channels.c answers a failed command. Reading is not queued.
   */
  async setVariable(id: string, variable: string | undefined, value: string | undefined): Promise<void> {
    if (!variable) throw new AriError(400, 'Bad Request', 'Variable name is required');
    const ch = this.control(id);
    const res = await this.enqueue(ch, 'set_channel_var', async () => {
      ch.variables.set(variable, value ?? '');
      this.stasis.events.publishChannel(ch, 'ChannelVarset', { variable, value: value ?? '' });
      return 0;
    });
    if (res !== 0) throw new AriError(400, 'Bad Request', 'Failed to execute function');
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
    const ch = this.byId.get(id);
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
    const ch = this.byId.get(id);
    if (!ch) return Promise.reject(new Error(`no live channel ${id}`));
    return this.hangup(ch, cause, false);
  }

  async hangup(ch: ChannelModel, cause: number, soft: boolean): Promise<void> {
    if (ch.destroyed) return;
    if (ch.hangupRequested) {
      // A second request: Asterisk publishes another ChannelHangupRequest; nothing else changes.
      this.stasis.events.publishChannel(ch, 'ChannelHangupRequest', soft ? { cause: AST_SOFTHANGUP_EXPLICIT, soft: true } : { cause });
      return;
    }
    ch.hangupRequested = true;
    ch.hangupCause = cause;
    this.stasis.events.publishChannel(ch, 'ChannelHangupRequest', soft ? { cause: AST_SOFTHANGUP_EXPLICIT, soft: true } : { cause });
    ch.playback?.signals.post('hangup');
    ch.recording?.signals.post('hangup');
    ch.outbound?.settle('unavailable', cause);
    await nextTurn();
    if (ch.pump) await ch.pump;
    await this.destroy(ch);
  }

  /** The end of a hung-up channel: queue dropped, bridge left, StasisEnd, ChannelDestroyed. */
  async destroy(ch: ChannelModel): Promise<void> {
    if (ch.destroyed) return;
    this.flushQueue(ch);
    if (ch.bridge) this.stasis.bridges.leaveBridge(ch, ch.bridge);
    this.leaveStasis(ch);
    await nextTurn();
    ch.destroyed = true;
    this.stasis.events.publishChannel(ch, 'ChannelDestroyed', { cause: ch.hangupCause, cause_txt: causeText(ch.hangupCause) });
    for (const listener of this.destroyListeners) listener(ch.json(), ch.hangupCause);
    this.byId.delete(ch.id);
    for (const app of ch.subscribers) this.stasis.applications.forgetAppIfFinished(app);
    await this.stasis.events.flushed();
  }

  // ---- DTMF from the caller ----------------------------------------------------------------

  /** The caller presses a key: ChannelDtmfReceived (sent when the digit ends). */
  dtmfFromCaller(id: string, digit: string, durationMs: number): void {
    const ch = this.byId.get(id);
    if (!ch) throw new Error(`no live channel ${id}`);
    if (ch.hangupRequested) return;
    this.stasis.events.publishChannel(ch, 'ChannelDtmfReceived', { digit, duration_ms: durationMs });
    const rec = ch.recording;
    if (rec && rec.state === 'recording') {
      const t = rec.terminateOn;
      if (t === 'any' || t === digit) rec.signals.post('terminate');
    }
  }

  /** The far end starts or stops making sound (what a recording's silence detection hears). */
  setTalking(id: string, talking: boolean): void {
    const ch = this.byId.get(id);
    if (!ch) throw new Error(`no live channel ${id}`);
    ch.talking = talking;
    ch.recording?.signals.post(talking ? 'talk' : 'silent');
  }

  /** Asterisk restarts: every call is gone without a word. */
  wipe(): void {
    for (const ch of this.byId.values()) {
      ch.killed = true;
      ch.destroyed = true;
      ch.playback?.signals.post('hangup');
      ch.recording?.signals.post('hangup');
      ch.outbound?.settle('unavailable');
      this.flushQueue(ch);
    }
    this.byId.clear();
  }
}
