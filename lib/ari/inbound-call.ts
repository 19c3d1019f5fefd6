// One inbound call's whole life in this process, from its StasisStart (or its resumption
// after a restart) to its end: the AriCall over the channel, the per-call logger, the
// trail, the call events, the metrics, the saved state, the flow, and the clean-up.
// Never rejects; whatever happens, the call ends or is handed over.
import { randomUUID } from 'node:crypto';
import type { CallControlApp } from '../config/apps.js';
import { DEFAULT_DIAL_ENDPOINTS, type DialEndpoints } from '../config/dial-endpoints.js';
import type { CallEvents, EventQueue } from '../events/index.js';
import { RESUME_SEQUENCE_GAP } from '../events/call-events.js';
import { CallEndedError } from '../flow/failure.js';
import { resumeFlow, runFlow, type FlowEnd } from '../flow/interpreter.js';
import type { AudioSource, EventSink, FlowFetcher, HangupRequest, Logger, Speech } from '../flow/ports.js';
import type { FlowPosition } from '../flow/progress.js';
import { meteredEvents } from '../metrics/flow.js';
import { Metrics } from '../metrics/metrics.js';
import type { CallStates } from '../session/call-states.js';
import type { CallTrail, CallTrails } from '../trail/writer.js';
import { AriCall } from './ari-call.js';
import type { BridgedDial } from './dial.js';
import type { ChannelDispatcher } from './dispatcher.js';
import type { ChannelSnapshot } from './events.js';
import { loadFirstDocument } from './first-document.js';
import type { OwnChannels } from './own-channels.js';
import type { AriRest } from './rest.js';

/** What every call of the Stasis application needs. */
export interface CallDeps {
  /** The ARI application name (where `<Dial>` legs go). */
  readonly ariApp: string;
  readonly rest: AriRest;
  readonly dispatcher: ChannelDispatcher;
  readonly ownChannels: OwnChannels;
  readonly fetcherFor: (app: CallControlApp) => FlowFetcher;
  readonly speech: Speech;
  readonly audio: AudioSource;
  readonly log: Logger;
  readonly maxDocuments: number;
  /** `<Dial>` endpoint templates (DIAL_NUMBER_ENDPOINT, DIAL_SIP_ENDPOINT); an app's own override them. */
  readonly dialEndpoints?: DialEndpoints;
  /** Counts calls (active, ended, refused, resumed), verbs and the time to the first audio. */
  readonly metrics?: Metrics;
  /** Keeps each call's trail in Redis (CALL_TRAIL_TTL); absent: none is kept. */
  readonly trails?: CallTrails;
  /** Sends call events (spec §6) to the apps that have an `events_url`; absent: none are sent. */
  readonly events?: Pick<EventQueue, 'open'>;
  /** The signing key of an app's events (its UUID when it has a secret), as for its callbacks. */
  readonly signingKeyFor?: (app: CallControlApp) => string | undefined;
  /**
   * Saves each call's state in Redis; with it, calls survive a restart of the process (a
   * crash, a kill, a deploy). Absent: calls end with the process, and a drain hangs them up.
   */
  readonly states?: CallStates;
}

export interface CallStart {
  readonly channel: ChannelSnapshot;
  readonly app: CallControlApp;
  /** The DID, normalised. */
  readonly tn: string;
  /** A call another process started: its identity and where its flow stood. */
  readonly resume?: ResumedCall;
}

export interface ResumedCall {
  readonly call: string;
  readonly from: string;
  readonly position: FlowPosition;
  /** The last event sequence number saved. */
  readonly sequence: number;
  /** A playback that may still be playing what was cut off. */
  readonly playback?: string;
  /** The `<Dial>` it was in, bridged: it goes on if its bridge still exists. */
  readonly dial?: BridgedDial;
}

export class InboundCall {
  readonly call: AriCall;
  /** Settles once the call is over in this process (ended or handed over). */
  readonly done: Promise<void>;
  private readonly handover = new AbortController();
  private readonly log: Logger;

  constructor(start: CallStart, deps: CallDeps) {
    const { channel, app, tn, resume } = start;
    const { rest, metrics } = deps;
    const uuid = resume?.call ?? randomUUID();
    const from = resume?.from ?? channel.caller.number;
    // Every line about the call carries its UUID, its app, its channel and its DID.
    const log = deps.log.child({ call: uuid, app: app.uuid, appName: app.name, channel: channel.id, did: tn });
    this.log = log;
    const started = performance.now();
    let heard = false;
    const onAudio = (): void => {
      if (heard) return;
      heard = true;
      metrics?.firstAudio.observe(Metrics.secondsSince(started));
    };
    const endpoints = { ...(deps.dialEndpoints ?? DEFAULT_DIAL_ENDPOINTS), ...app.dial };
    const states = deps.states;
    /** Where the flow stands (top-level), for a Dial's saved bridge. */
    let at = resume === undefined ? { documents: 1, verb: 0 } : { documents: resume.position.documents, verb: resume.position.verb };
    const onBridged = states === undefined ? {} : { onBridged: (bridged: BridgedDial) => states.dialled(channel.id, { ...bridged, ...at }) };
    const dial = { app: deps.ariApp, dispatcher: deps.dispatcher, ownChannels: deps.ownChannels, endpoints, ...onBridged };
    const trail = deps.trails?.open({ call: uuid, did: tn, from, app: { uuid: app.uuid, name: app.name }, channel: channel.id });
    const callEvents = openEvents(deps, app, { call: uuid, sca: app.uuid, from, tn }, resume);
    const onHangup = (request: HangupRequest): void => {
      trail?.hangup(request);
      callEvents?.engineHangup(request);
    };
    const identity = { call: uuid, app: app.uuid, channel: channel.id, did: tn, from };
    const onPlayback = states === undefined ? {} : { onPlayback: (playbackId: string) => states.playing(channel.id, playbackId) };
    const onLive = callEvents === undefined ? {} : { onLive: () => callEvents.live() };
    const resumedDial = resume?.dial === undefined ? {} : { resumedDial: resume.dial };
    const call = new AriCall({ channel, call: uuid, sca: app.uuid, from, tn, rest, log, dial, onAudio, onHangup, ...onLive, ...onPlayback, ...resumedDial });
    this.call = call;
    if (callEvents !== undefined) {
      if (resume === undefined) {
        if (call.info.state === 'live') callEvents.live();
        else callEvents.ringing();
      }
      call.ended.addEventListener('abort', () => this.tellEnd(callEvents), { once: true });
    }
    deps.dispatcher.register(channel.id, (event) => call.handle(event));
    log.info({ from }, resume === undefined ? 'call started' : 'call resumed');
    const sinks: EventSink[] = [];
    if (metrics !== undefined) sinks.push(meteredEvents(metrics));
    if (trail !== undefined) sinks.push(trail);
    if (callEvents !== undefined) sinks.push(callEvents);
    const events: EventSink = {
      emit: (event) => {
        log.debug({ event }, 'flow event');
        for (const sink of sinks) sink.emit(event);
      },
    };
    const progress =
      states === undefined
        ? {}
        : {
            progress: {
              at: (position: FlowPosition) => {
                at = { documents: position.documents, verb: position.verb };
                states.save(identity, position, { sequence: callEvents?.lastSequence ?? 0, answered: call.info.state === 'live' });
              },
            },
          };
    const flowDeps = { call, fetcher: deps.fetcherFor(app), speech: deps.speech, audio: deps.audio, events, log, handover: this.handover.signal, ...progress };
    const flowOptions = { maxDocuments: deps.maxDocuments };
    metrics?.callsActive.inc();
    if (resume !== undefined) metrics?.callsResumed.inc();
    const running: Promise<FlowEnd | undefined> =
      resume === undefined
        ? this.startFlow(app, flowDeps, flowOptions)
        : this.stopCutPlayback(rest, resume).then(() => resumeFlow(resume.position, flowDeps, flowOptions));
    this.done = running
      .then(
        (end) => {
          this.ended(end, trail, deps);
          return end;
        },
        (error: unknown) => {
          metrics?.callsEnded.inc({ reason: 'internal-error' });
          trail?.end('internal-error', call.endReason);
          log.error({ err: error }, 'call failed');
          return undefined;
        },
      )
      .then((end) => {
        metrics?.callsActive.dec();
        if (end?.reason === 'handover') {
          states?.release(channel.id);
        } else {
          call.end('the flow finished');
          callEvents?.destroyed(call.endReason);
          states?.forget(channel.id);
        }
        deps.dispatcher.unregister(channel.id);
      });
  }

  /** Stops the flow at its next top-level verb boundary, without hanging up (a deploy). */
  handOver(): void {
    this.handover.abort();
  }

  /** Stops the flow now, without hanging up: the verb running is run again by whoever resumes the call. */
  cut(): void {
    this.handover.abort();
    this.call.end('handed over');
  }

  get handedOver(): boolean {
    return this.handover.signal.aborted;
  }

  /** Answer (auto_answer), the first document, the flow. Undefined when no flow ran. */
  private async startFlow(
    app: CallControlApp,
    flowDeps: Parameters<typeof runFlow>[1],
    flowOptions: { readonly maxDocuments: number },
  ): Promise<FlowEnd | undefined> {
    const { call, fetcher } = flowDeps;
    const log = this.log;
    if (app.autoAnswer) {
      try {
        await call.answer();
      } catch (error) {
        if (error instanceof CallEndedError) return undefined;
        // The flow's media verbs answer again; its error branches see what fails.
        log.warn({ err: error }, 'auto_answer failed');
      }
    }
    const first = await loadFirstDocument(app, call, fetcher, log);
    if (!first.ok) {
      if (!call.ended.aborted) {
        await call.hangup({ cause: 'temporary_failure', reason: first.reason }).catch((error: unknown) => {
          if (!(error instanceof CallEndedError)) log.warn({ err: error }, 'hang-up failed');
        });
      }
      return undefined;
    }
    return runFlow(first.document, flowDeps, flowOptions);
  }

  /** What was cut off may still be playing: it is stopped, to be played again from its start. */
  private async stopCutPlayback(rest: AriRest, resume: ResumedCall): Promise<void> {
    if (resume.playback === undefined) return;
    await rest.stopPlayback(resume.playback).catch((error: unknown) => this.log.debug({ err: error }, 'could not stop the cut-off playback'));
  }

  private ended(end: FlowEnd | undefined, trail: CallTrail | undefined, deps: CallDeps): void {
    const reason = end?.reason ?? 'no-document';
    deps.metrics?.callsEnded.inc({ reason });
    if (reason === 'handover') {
      this.log.info({ documents: end?.documents ?? 0 }, 'call handed over: another process resumes it');
      return;
    }
    // No flow ran: the caller left while it was answered, or no first document came.
    trail?.end(reason, this.call.endReason);
    this.log.info({ reason: end?.reason ?? this.call.endReason, documents: end?.documents ?? 0 }, 'call ended');
  }

  /** The caller's side ending (the flow's own hang-up is told by onHangup first). */
  private tellEnd(callEvents: CallEvents): void {
    if (this.handedOver) return;
    const why = this.call.endReason;
    // The engine ending the call without a hang-up request of the flow's (its flow over, a shutdown).
    if (why === 'the flow finished' || why === 'shutting down') callEvents.engineHangup({ cause: 'normal_clearing', reason: why });
    else callEvents.callerHangup(this.call.hangupCause, why);
  }
}

function openEvents(
  deps: CallDeps,
  app: CallControlApp,
  start: { readonly call: string; readonly sca: string; readonly from: string; readonly tn: string },
  resume: ResumedCall | undefined,
): CallEvents | undefined {
  if (app.eventsUrl === undefined || deps.events === undefined) return undefined;
  const signingKeyId = deps.signingKeyFor?.(app);
  const target = { url: app.eventsUrl, ...(signingKeyId === undefined ? {} : { signingKeyId }) };
  return deps.events.open(target, { ...start, ...(resume === undefined ? {} : { resumeAfter: resume.sequence + RESUME_SEQUENCE_GAP }) });
}
