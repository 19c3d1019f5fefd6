// The Stasis application: takes each inbound channel (StasisStart), finds its Call
// Control App by the DID and runs its flow (InboundCall); routes every other event to the
// call of its channel; after a (re)connection, reconciles its calls and takes over the
// channels of the application that no live process runs (resuming their saved state);
// drains on shutdown, handing its calls over to the next process.
import { setTimeout as sleep } from 'node:timers/promises';
import type { CallControlApp } from '../config/apps.js';
import { normaliseNumber } from '../config/apps.js';
import type { Claim } from '../session/call-states.js';
import { parseDocument, XmlError, type FlowDocument } from '../xml/index.js';
import type { Admission } from './admission.js';
import { Q850 } from './causes.js';
import { DIAL_LEG_ARG, isDialLeg } from './dial.js';
import type { ConnectionListener } from './connection.js';
import { ChannelDispatcher } from './dispatcher.js';
import type { AppDirectory } from './directory.js';
import { AriNotFoundError } from './errors.js';
import type { AriEvent, ChannelSnapshot } from './events.js';
import { InboundCall, type CallDeps, type ResumedCall } from './inbound-call.js';
import { OwnChannels } from './own-channels.js';
import { reconcile } from './reconcile.js';
import { channelsInApplication, inApplication } from './app-channels.js';

/** What every call needs (CallDeps), and what the application itself does with calls. */
export interface StasisAppOptions extends Omit<CallDeps, 'ariApp' | 'dispatcher' | 'ownChannels'> {
  /** The ARI application name. */
  readonly app: string;
  readonly directory: AppDirectory;
  readonly ownChannels?: OwnChannels;
  /** How often the application's channels are checked for calls nobody runs; default 2 s. */
  readonly sweepIntervalMs?: number;
  /** Largest document accepted when reading a saved one back. */
  readonly maxDocumentBytes?: number;
  /** Refuses new calls beyond the limits or while the process is saturated (MAX_CALLS…); absent: every call is taken. */
  readonly admission?: Pick<Admission, 'admit'>;
}

/** How often the application's channels are checked for calls that nobody runs. */
export const SWEEP_INTERVAL_MS = 2000;
/** How long a claim waits for Redis. */
const CLAIM_TIMEOUT_MS = 2000;

export class StasisApp implements ConnectionListener {
  readonly dispatcher = new ChannelDispatcher();
  readonly ownChannels: OwnChannels;
  private readonly calls = new Map<string, InboundCall>();
  /** Channels being looked up to be taken over (see take). */
  private readonly taking = new Set<string>();
  /** Channels whose claim failed, logged once each. */
  private readonly claimFailed = new Set<string>();
  private readonly deps: CallDeps;
  private draining = false;
  private sweeping = false;
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: StasisAppOptions) {
    this.ownChannels = options.ownChannels ?? new OwnChannels();
    const { app, directory: _directory, ownChannels: _own, sweepIntervalMs: _sweep, maxDocumentBytes: _max, admission: _admission, ...perCall } = options;
    this.deps = { ...perCall, ariApp: app, dispatcher: this.dispatcher, ownChannels: this.ownChannels };
  }

  /** Calls whose flow is running. */
  get liveCalls(): number {
    return this.calls.size;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  event(event: AriEvent): void {
    if (event.type === 'ApplicationReplaced') {
      this.replaced();
      return;
    }
    if (event.type === 'StasisStart') {
      if (event.channel) this.onStasisStart(event, event.channel, event.args ?? []);
      return;
    }
    this.dispatcher.dispatch(event);
  }

  connected(reconnected: boolean): void {
    if (reconnected) void this.reconcile();
    else if (this.options.states !== undefined) void this.sweep();
    if (this.options.states !== undefined && this.sweepTimer === undefined && !this.draining) {
      // Calls of a process that died after this one connected, or that handed them over.
      this.sweepTimer = setInterval(() => void this.sweep(), this.options.sweepIntervalMs ?? SWEEP_INTERVAL_MS);
      this.sweepTimer.unref();
    }
  }

  /**
   * Stops taking calls: one arriving meanwhile is refused at once with cause 34 (no circuit
   * available: SIP 503), so that the caller's network can retry or fail over, rather than
   * being left in silence for a second instance that may never see it: Asterisk delivers
   * an application's channels to the one WebSocket registered under its name.
   *
   * With saved state (a deploy): every call stops at its next verb boundary, without
   * hanging up; one still inside a verb after `graceMs` is cut there. Their channels stay
   * in Asterisk for the next process, which resumes them. Without: calls go on for up to
   * `graceMs`, then the rest are hung up (cause 41).
   */
  async drain(graceMs: number): Promise<void> {
    this.draining = true;
    clearInterval(this.sweepTimer);
    if (this.calls.size === 0) return;
    const { log } = this.options;
    const handOver = this.options.states !== undefined;
    if (handOver) {
      log.info({ calls: this.calls.size, graceMs }, 'draining: handing the calls in progress over at their next verb');
      for (const call of this.calls.values()) call.handOver();
    } else {
      log.info({ calls: this.calls.size, graceMs }, 'draining: letting calls in progress finish');
    }
    const grace = AbortSignal.timeout(graceMs);
    await Promise.race([this.allDone(), sleep(graceMs, undefined, { signal: grace }).catch(() => undefined)]);
    if (this.calls.size === 0) return;
    if (handOver) {
      log.warn({ calls: this.calls.size }, 'grace period over: cutting the calls still inside a verb; the next process runs that verb again');
      for (const call of this.calls.values()) call.cut();
    } else {
      log.warn({ calls: this.calls.size }, 'grace period over: hanging up the calls still in progress');
      await Promise.all(
        [...this.calls.values()].map(({ call }) =>
          call.hangup({ cause: 'temporary_failure', reason: 'the engine is shutting down' }).catch(() => call.end('shutting down')),
        ),
      );
    }
    await this.allDone();
  }

  /**
   * Another process registered the application (a second instance, or a deploy that
   * started the new one first): Asterisk sends this one nothing more, so its calls are
   * handed over now, to be resumed there. Without saved state they cannot be: they are left.
   */
  private replaced(): void {
    const { log, states } = this.options;
    if (states === undefined) {
      log.error({ calls: this.calls.size }, 'another process took the ARI application over; this one gets no more events');
      return;
    }
    log.warn({ calls: this.calls.size }, 'another process took the ARI application over: handing the calls over to it');
    for (const call of this.calls.values()) call.cut();
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
    if (this.calls.has(channel.id) || this.taking.has(channel.id)) return;
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

  private run(channel: ChannelSnapshot, app: CallControlApp, tn: string, resume?: ResumedCall): void {
    const call = new InboundCall({ channel, app, tn, ...(resume === undefined ? {} : { resume }) }, this.deps);
    this.calls.set(channel.id, call);
    void call.done.then(() => {
      if (this.calls.get(channel.id) === call) this.calls.delete(channel.id);
    });
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
    for (const channelId of result.unknown) void this.take(channelId);
  }

  /** Takes over the application's channels that no live process runs. */
  private async sweep(): Promise<void> {
    if (this.sweeping || this.draining) return;
    this.sweeping = true;
    try {
      const listed = await channelsInApplication(this.options.app, this.options.rest, this.options.log);
      for (const channelId of listed) void this.take(channelId);
    } catch (error) {
      this.options.log.debug({ err: error }, 'cannot list the application’s channels');
    } finally {
      this.sweeping = false;
    }
  }

  /**
   * A channel in the application that this process does not run: a call another process
   * saved (resumed here once that process is gone), a call whose state is lost (hung up:
   * cause 41), or one whose StasisStart was lost while ARI was away (run as a new call).
   */
  private async take(channelId: string): Promise<void> {
    if (this.calls.has(channelId) || this.taking.has(channelId) || this.ownChannels.isOwn(channelId) || this.draining) return;
    const { log, states } = this.options;
    this.taking.add(channelId);
    try {
      // GET /applications also lists the far halves of Local channels and legs still
      // ringing (in the dialplan, not in Stasis): only a channel in Stasis(<app>) is taken.
      const channel = await this.options.rest.getChannel(channelId);
      if (channel === undefined || !inApplication(channel, this.options.app)) return;
      let claim: Claim = { kind: 'none' };
      if (states !== undefined) {
        try {
          claim = await states.claim(channelId, CLAIM_TIMEOUT_MS);
          this.claimFailed.delete(channelId);
        } catch (error) {
          // Left for the next sweep.
          if (!this.claimFailed.has(channelId)) log.warn({ err: error, channel: channelId }, 'cannot read the saved state of a call; trying again');
          this.claimFailed.add(channelId);
          return;
        }
      }
      if (claim.kind === 'busy' || this.calls.has(channelId) || this.draining) return;
      if (claim.kind === 'leg') {
        await this.takeLeg(channelId, claim.caller);
        return;
      }
      if (claim.kind === 'resume') {
        this.resume(channel, claim);
        return;
      }
      if (claim.kind === 'unusable') {
        this.lost(channelId, claim.reason);
        return;
      }
      if (isDialLeg(channelId)) {
        // Answered but never bridged: the <Dial> that rang it runs again when its call resumes.
        log.info({ channel: channelId }, 'hanging up a dialled leg whose <Dial> is gone');
        this.refuse(channelId, Q850.normal_clearing);
        return;
      }
      // Answered, so a flow ran it: without its state, nothing can go on from where it was.
      if (states !== undefined && channel.state === 'Up') {
        this.lost(channelId, 'no saved state for the call (expired or lost)');
        return;
      }
      log.info({ channel: channelId }, 'taking a call that arrived while ARI was disconnected');
      this.accept(channel, channel.dialplan?.exten ?? '');
    } catch (error) {
      log.warn({ err: error, channel: channelId }, 'cannot look up a channel of the application');
    } finally {
      this.taking.delete(channelId);
    }
  }

  /**
   * A bridged leg of another process's call: left to whoever resumes that call (its Dial
   * goes on with it, or hangs it up), unless that call is gone: then it is hung up.
   */
  private async takeLeg(leg: string, caller: string): Promise<void> {
    if (this.calls.has(caller) || (await this.options.rest.getChannel(caller)) !== undefined) return;
    this.options.log.info({ channel: leg, caller }, 'hanging up a dialled leg whose caller is gone');
    this.refuse(leg, Q850.normal_clearing);
  }

  private resume(channel: ChannelSnapshot, claim: Extract<Claim, { kind: 'resume' }>): void {
    const { saved } = claim;
    const app = this.options.directory.byId(saved.app);
    if (app === undefined) {
      this.lost(channel.id, `its Call Control App ${saved.app} is no longer configured`);
      return;
    }
    let document: FlowDocument;
    try {
      document = parseDocument(claim.document, this.options.maxDocumentBytes === undefined ? {} : { maxBytes: this.options.maxDocumentBytes });
    } catch (error) {
      this.lost(channel.id, `its saved document cannot be read: ${error instanceof XmlError ? error.message : String(error)}`);
      return;
    }
    const position = { document, documents: saved.documents, verb: saved.verb, fetchSteps: saved.fetchSteps, recordings: saved.recordings };
    this.options.log.info({ channel: channel.id, call: saved.call, verb: document.verbs[saved.verb]?.path ?? 'Response' }, 'resuming a call another process ran');
    this.run(channel, app, saved.did, {
      call: saved.call,
      from: saved.from,
      position,
      sequence: saved.sequence,
      ...(claim.playback === undefined ? {} : { playback: claim.playback }),
      // A Dial goes on only when the call resumes at that Dial.
      ...(claim.dial !== undefined && claim.dial.documents === saved.documents && claim.dial.verb === saved.verb ? { dial: claim.dial } : {}),
    });
  }

  /** A call that cannot go on: hung up with cause 41 (temporary failure), the reason logged. */
  private lost(channelId: string, reason: string): void {
    this.options.log.warn({ channel: channelId, reason }, 'hanging up a call that cannot be resumed');
    this.options.metrics?.callsRefused.inc({ reason: 'not_resumable' });
    this.options.states?.forget(channelId);
    this.refuse(channelId, Q850.temporary_failure);
  }
}
