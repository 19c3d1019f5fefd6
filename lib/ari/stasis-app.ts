// The Stasis application: takes each inbound channel (StasisStart), finds its Call
// Control App by the DID and runs its flow; routes every other event to the call of its
// channel; reconciles the calls after a reconnection; drains on shutdown.
import { randomUUID } from 'node:crypto';
import type { CallControlApp } from '../config/apps.js';
import { DEFAULT_DIAL_ENDPOINTS, type DialEndpoints } from '../config/dial-endpoints.js';
import { normaliseNumber } from '../config/apps.js';
import type { AudioSource, EventSink, FlowFetcher, HangupRequest, Logger, Speech } from '../flow/ports.js';
import { meteredEvents } from '../metrics/flow.js';
import { Metrics } from '../metrics/metrics.js';
import type { CallTrails } from '../trail/writer.js';
import type { EventQueue } from '../events/event-queue.js';
import type { Admission } from './admission.js';
import { AriCall } from './ari-call.js';
import { Q850 } from './causes.js';
import { DIAL_LEG_ARG } from './dial.js';
import type { ConnectionListener } from './connection.js';
import { ChannelDispatcher } from './dispatcher.js';
import type { AppDirectory } from './directory.js';
import { AriNotFoundError } from './errors.js';
import type { AriEvent, ChannelSnapshot } from './events.js';
import { runInboundCall } from './inbound-call.js';
import { OwnChannels } from './own-channels.js';
import { reconcile } from './reconcile.js';
import type { AriRest } from './rest.js';

export interface StasisAppOptions {
  /** The ARI application name. */
  readonly app: string;
  readonly rest: AriRest;
  readonly directory: AppDirectory;
  /** The fetcher of an app's callbacks (its payload and signing key). */
  readonly fetcherFor: (app: CallControlApp) => FlowFetcher;
  readonly speech: Speech;
  readonly audio: AudioSource;
  readonly log: Logger;
  readonly maxDocuments: number;
  readonly ownChannels?: OwnChannels;
  /** `<Dial>` endpoint templates (DIAL_NUMBER_ENDPOINT, DIAL_SIP_ENDPOINT); an app's own override them. */
  readonly dialEndpoints?: DialEndpoints;
  /** Counts calls (active, ended, refused), verbs and the time to the first audio. */
  readonly metrics?: Metrics;
  /** Keeps each call's trail in Redis (CALL_TRAIL_TTL); absent: none is kept. */
  readonly trails?: CallTrails;
  /** Sends call events (spec §6) to the apps that have an `events_url`; absent: none are sent. */
  readonly events?: Pick<EventQueue, 'open'>;
  /** The signing key of an app's events (its UUID when it has a secret), as for its callbacks. */
  readonly signingKeyFor?: (app: CallControlApp) => string | undefined;
  /** Refuses new calls beyond the limits or while the process is saturated (MAX_CALLS…); absent: every call is taken. */
  readonly admission?: Pick<Admission, 'admit'>;
}

interface LiveCall {
  readonly call: AriCall;
  readonly done: Promise<void>;
}

export class StasisApp implements ConnectionListener {
  readonly dispatcher = new ChannelDispatcher();
  readonly ownChannels: OwnChannels;
  private readonly calls = new Map<string, LiveCall>();
  /** Channels being looked up for adoption after a reconnection. */
  private readonly adopting = new Set<string>();
  private draining = false;

  constructor(private readonly options: StasisAppOptions) {
    this.ownChannels = options.ownChannels ?? new OwnChannels();
  }

  /** Calls whose flow is running. */
  get liveCalls(): number {
    return this.calls.size;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  event(event: AriEvent): void {
    if (event.type === 'StasisStart') {
      if (event.channel) this.onStasisStart(event, event.channel, event.args ?? []);
      return;
    }
    this.dispatcher.dispatch(event);
  }

  connected(reconnected: boolean): void {
    if (reconnected) void this.reconcile();
  }

  /**
   * Stops taking calls and lets those in progress go on for up to `graceMs`, then hangs
   * the rest up (cause 41). A call arriving meanwhile is refused at once with cause 34
   * (no circuit available: SIP 503), so that the caller's network can retry or fail over,
   * rather than being left in silence for a second instance that may never see it:
   * Asterisk delivers an application's channels to the one WebSocket registered under its name.
   */
  async drain(graceMs: number): Promise<void> {
    this.draining = true;
    if (this.calls.size === 0) return;
    const { log } = this.options;
    log.info({ calls: this.calls.size, graceMs }, 'draining: letting calls in progress finish');
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([this.allDone(), graceOver]);
    clearTimeout(timer);
    if (this.calls.size === 0) return;
    log.warn({ calls: this.calls.size }, 'grace period over: hanging up the calls still in progress');
    await Promise.all(
      [...this.calls.values()].map(({ call }) =>
        call.hangup({ cause: 'temporary_failure', reason: 'the engine is shutting down' }).catch(() => call.end('shutting down')),
      ),
    );
    await this.allDone();
  }

  /** Resolves once no call is in progress. */
  async whenIdle(): Promise<void> {
    while (this.calls.size > 0) await this.allDone();
  }

  private allDone(): Promise<void> {
    return Promise.all([...this.calls.values()].map((live) => live.done)).then(() => undefined);
  }

  private onStasisStart(event: AriEvent, channel: ChannelSnapshot, args: readonly string[]): void {
    // Channels the engine created belong to whoever created them (a <Dial> waits for its legs).
    if (this.ownChannels.isOwn(channel.id, args)) {
      const taken = this.dispatcher.dispatch(event);
      // A dialled leg answering after its <Dial> ended: nobody will bridge it.
      if (!taken && args[1] === DIAL_LEG_ARG) {
        this.options.log.info({ channel: channel.id }, 'hanging up a dialled leg that answered after its <Dial> ended');
        this.refuse(channel.id, Q850.normal_clearing);
      }
      return;
    }
    if (this.calls.has(channel.id) || this.adopting.has(channel.id)) return;
    const did = args[0] !== undefined && args[0] !== '' ? args[0] : (channel.dialplan?.exten ?? '');
    this.accept(channel, did);
  }

  private accept(channel: ChannelSnapshot, did: string): void {
    const { log, directory } = this.options;
    const from = channel.caller.number;
    const app = directory.find(did);
    if (app === undefined) {
      log.warn({ channel: channel.id, did, from }, 'no Call Control App for the number; hanging up (unallocated number)');
      this.options.metrics?.callsRefused.inc({ reason: 'unallocated_number' });
      this.refuse(channel.id, Q850.unallocated_number);
      return;
    }
    if (this.draining) {
      log.info({ channel: channel.id, did, from }, 'draining: refusing a new call (no circuit available)');
      this.options.metrics?.callsRefused.inc({ reason: 'draining' });
      this.refuse(channel.id, Q850.no_circuit_available);
      return;
    }
    // Counted and logged (at most a line a second) by the admission; hung up before anything else.
    const refusal = this.options.admission?.admit(this.calls.size, channel.id);
    if (refusal !== undefined) {
      this.refuse(channel.id, refusal.cause);
      return;
    }
    this.run(channel, app, normaliseNumber(did));
  }

  private run(channel: ChannelSnapshot, app: CallControlApp, tn: string): void {
    const { rest, speech, audio, maxDocuments, metrics } = this.options;
    const started = performance.now();
    let heard = false;
    const onAudio = (): void => {
      if (heard) return;
      heard = true;
      metrics?.firstAudio.observe(Metrics.secondsSince(started));
    };
    const uuid = randomUUID();
    // Every line about the call carries its UUID, its app, its channel and its DID.
    const log = this.options.log.child({ call: uuid, app: app.uuid, appName: app.name, channel: channel.id, did: tn });
    const endpoints = { ...(this.options.dialEndpoints ?? DEFAULT_DIAL_ENDPOINTS), ...app.dial };
    const dial = { app: this.options.app, dispatcher: this.dispatcher, ownChannels: this.ownChannels, endpoints };
    const trail = this.options.trails?.open({ call: uuid, did: tn, from: channel.caller.number, app: { uuid: app.uuid, name: app.name }, channel: channel.id });
    const signingKeyId = app.eventsUrl === undefined ? undefined : this.options.signingKeyFor?.(app);
    const callEvents =
      app.eventsUrl === undefined
        ? undefined
        : this.options.events?.open(
            { url: app.eventsUrl, ...(signingKeyId === undefined ? {} : { signingKeyId }) },
            { call: uuid, sca: app.uuid, from: channel.caller.number, tn },
          );
    const onHangup = (request: HangupRequest): void => {
      trail?.hangup(request);
      callEvents?.engineHangup(request);
    };
    const onLive = callEvents === undefined ? {} : { onLive: () => callEvents.live() };
    const call = new AriCall({ channel, call: uuid, sca: app.uuid, from: channel.caller.number, tn, rest, log, dial, onAudio, onHangup, ...onLive });
    if (callEvents !== undefined) {
      if (call.info.state === 'live') callEvents.live();
      else callEvents.ringing();
      // The caller's side ending (the flow's own hang-up is told by onHangup first).
      call.ended.addEventListener(
        'abort',
        () => {
          const why = call.endReason;
          // The engine ending the call without a hang-up request of the flow's (its flow over, a shutdown).
          if (why === 'the flow finished' || why === 'shutting down') callEvents.engineHangup({ cause: 'normal_clearing', reason: why });
          else callEvents.callerHangup(call.hangupCause, why);
        },
        { once: true },
      );
    }
    this.dispatcher.register(channel.id, (event) => call.handle(event));
    log.info({ from: channel.caller.number }, 'call started');
    const sinks: EventSink[] = [];
    if (metrics !== undefined) sinks.push(meteredEvents(metrics));
    if (trail !== undefined) sinks.push(trail);
    if (callEvents !== undefined) sinks.push(callEvents);
    const fanOut: EventSink = { emit: (event) => sinks.forEach((sink) => sink.emit(event)) };
    const events = sinks.length === 0 ? {} : { events: fanOut };
    metrics?.callsActive.inc();
    const done = runInboundCall(call, app, { fetcher: this.options.fetcherFor(app), speech, audio, log, maxDocuments, ...events })
      .then(
        (end) => {
          // No flow ran: the caller left while it was answered, or no first document came.
          metrics?.callsEnded.inc({ reason: end?.reason ?? 'no-document' });
          trail?.end(end?.reason ?? 'no-document', call.endReason);
          log.info({ reason: end?.reason ?? call.endReason, documents: end?.documents ?? 0 }, 'call ended');
        },
        (error: unknown) => {
          metrics?.callsEnded.inc({ reason: 'internal-error' });
          trail?.end('internal-error', call.endReason);
          log.error({ err: error }, 'call failed');
        },
      )
      .finally(() => {
        metrics?.callsActive.dec();
        call.end('the flow finished');
        callEvents?.destroyed(call.endReason);
        this.dispatcher.unregister(channel.id);
        this.calls.delete(channel.id);
      });
    this.calls.set(channel.id, { call, done });
  }

  /** Hangs up a channel no flow runs for. */
  private refuse(channelId: string, reasonCode: number): void {
    this.options.rest.hangup(channelId, reasonCode).catch((error: unknown) => {
      if (!(error instanceof AriNotFoundError)) this.options.log.warn({ err: error, channel: channelId }, 'hang-up failed');
    });
  }

  private async reconcile(): Promise<void> {
    const { app, rest, log } = this.options;
    const calls = [...this.calls.values()].map((live) => live.call);
    const result = await reconcile(app, rest, calls, log);
    log.info({ checked: result.checked, ended: result.ended, playbacksFinished: result.playbacksFinished }, 'calls reconciled after reconnecting');
    for (const channelId of result.unknown) void this.adopt(channelId);
  }

  /** A channel that entered the application while ARI was away: its StasisStart was lost. */
  private async adopt(channelId: string): Promise<void> {
    if (this.calls.has(channelId) || this.adopting.has(channelId) || this.ownChannels.isOwn(channelId)) return;
    this.adopting.add(channelId);
    try {
      const channel = await this.options.rest.getChannel(channelId);
      if (channel === undefined || this.calls.has(channelId)) return;
      this.options.log.info({ channel: channelId }, 'taking a call that arrived while ARI was disconnected');
      this.accept(channel, channel.dialplan?.exten ?? '');
    } catch (error) {
      this.options.log.warn({ err: error, channel: channelId }, 'cannot look up a channel of the application');
    } finally {
      this.adopting.delete(channelId);
    }
  }
}
