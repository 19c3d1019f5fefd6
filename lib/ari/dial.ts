// `<Dial>` over ARI. Every target is originated at once into our own Stasis application
// (marked `opentact-internal,dial` and registered by id, so it never starts a flow), with
// the caller ID and the ring time; the caller hears ringing meanwhile. The first target
// to enter Stasis (it does once it answers) is put with the caller into a mixing bridge;
// the others are hung up at once. The bridge ends when the called party hangs up.
//
// Why originate into the application and not create + dial (both checked on Asterisk
// 22.10.1): an originated leg that is busy or congested is destroyed at once (`Dial`
// BUSY/CONGESTION, then ChannelDestroyed cause 0), and one nobody answers is destroyed by
// Asterisk at the originate timeout (cause 19), so Asterisk cleans up even without us; a
// created channel enters Stasis at once in state Down and, busy, stays up until the dial
// timeout unless hung up. Busy and congestion are known only from the `Dial` event's
// `dialstatus`: the leg's own cause is 0 for both.
import { randomUUID } from 'node:crypto';
import { renderEndpoint, type DialEndpoints } from '../config/dial-endpoints.js';
import { CallEndedError, VerbFailure } from '../flow/failure.js';
import type { DialOptions, DialOutcome, DialTargetFailure, DialTargetRef, Logger } from '../flow/ports.js';
import type { ChannelDispatcher } from './dispatcher.js';
import { AriNotConnectedError, AriNotFoundError, AriRequestError, AriTimeoutError } from './errors.js';
import type { AriEvent } from './events.js';
import { INTERNAL_CHANNEL_ARG, type OwnChannels } from './own-channels.js';
import type { AriRest } from './rest.js';
import { ariVerbFailure } from './verb-failure.js';

/** Second Stasis argument of a dialled leg: a leg nobody waits for any more is hung up on sight. */
export const DIAL_LEG_ARG = 'dial';

/**
 * The start of a dialled leg's channel id: after a restart, a leg found in the
 * application is known for one (a listing does not show Stasis arguments).
 */
const DIAL_LEG_ID_PREFIX = 'dial-';

export function isDialLeg(channelId: string): boolean {
  return channelId.startsWith(DIAL_LEG_ID_PREFIX);
}

/** Q.850 causes the legs are hung up with. */
const CAUSE = { normalClearing: 16, noAnswer: 19, answeredElsewhere: 26 } as const;

/** Standard causes of the `Dial` statuses, for when the leg's own cause says nothing (0). */
const STATUS: Readonly<Record<string, { failure: DialTargetFailure; cause: number }>> = {
  BUSY: { failure: 'busy', cause: 17 },
  CONGESTION: { failure: 'congestion', cause: 34 },
  NOANSWER: { failure: 'no_answer', cause: 19 },
  CHANUNAVAIL: { failure: 'failed', cause: 20 },
};

/** A dial whose answered leg is bridged with the caller: what a restart needs to go on with it. */
export interface BridgedDial {
  readonly bridge: string;
  readonly leg: string;
  readonly target: DialTargetRef;
  /** Epoch ms. */
  readonly bridgedAt: number;
}

export interface DialDeps {
  /** Our Stasis application, where the legs go once they answer. */
  readonly app: string;
  /** Told when the answered leg is bridged with the caller (the call's saved state keeps it). */
  readonly onBridged?: (bridged: BridgedDial) => void;
  readonly rest: AriRest;
  readonly dispatcher: ChannelDispatcher;
  readonly ownChannels: OwnChannels;
  readonly endpoints: DialEndpoints;
  readonly log: Logger;
}

/** The calling side, as the dial needs it. */
export interface DialCaller {
  readonly channelId: string;
  /** Aborted when the caller's call ends. */
  readonly ended: AbortSignal;
  /** Answers the caller if not yet answered (a target answered). */
  answer(): Promise<void>;
}

interface Leg {
  readonly id: string;
  readonly target: DialTargetRef;
  readonly endpoint: string;
  inStasis: boolean;
  gone: boolean;
  hungUpByUs: boolean;
  dialstatus: string;
  cause: number | undefined;
  detail: string | undefined;
  /** Its originate failed because ARI did not answer. */
  unreachable: boolean;
}

/**
 * Rings `targets` for the caller; resolves with how it ended, after every leg, the bridge,
 * the timer and the listeners are gone. Rejects with CallEndedError when the caller hung
 * up (once the legs and the bridge are gone too), or with a VerbFailure when ARI fails.
 */
export function dialTargets(caller: DialCaller, targets: readonly DialTargetRef[], opts: DialOptions, deps: DialDeps): Promise<DialOutcome> {
  return new DialSession(caller, targets, opts, deps).run();
}

/**
 * After a restart, a `<Dial>` another process bridged: when its bridge still holds the
 * caller and the leg, it goes on (resolving as a dial does when the called party hangs
 * up); otherwise what is left of it is cleared and this resolves undefined: the Dial runs again.
 */
export async function resumeDial(caller: DialCaller, bridged: BridgedDial, opts: DialOptions, deps: DialDeps): Promise<DialOutcome | undefined> {
  const { rest, log } = deps;
  const members = await rest.bridgeChannels(bridged.bridge).catch((error: unknown) => {
    log.warn({ err: error, bridge: bridged.bridge }, 'cannot look the bridge of a resumed <Dial> up');
    return undefined;
  });
  if (members?.includes(caller.channelId) && members.includes(bridged.leg)) {
    log.info({ leg: bridged.leg, bridge: bridged.bridge }, 'the called party is still bridged with the caller: the <Dial> goes on');
    return new DialSession(caller, [bridged.target], opts, deps, bridged).run();
  }
  log.info({ leg: bridged.leg, bridge: bridged.bridge }, 'the bridge of a resumed <Dial> is gone: dialling again');
  await Promise.all([
    rest.hangup(bridged.leg, CAUSE.normalClearing).catch(() => undefined),
    rest.destroyBridge(bridged.bridge).catch(() => undefined),
  ]);
  return undefined;
}

class DialSession {
  private readonly legs: Leg[];
  private winner: Leg | undefined;
  private bridgeId: string | undefined;
  private bridgedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private finishing = false;
  private settle: { resolve: (outcome: DialOutcome) => void; reject: (error: unknown) => void } | undefined;
  private readonly log: Logger;

  constructor(
    private readonly caller: DialCaller,
    targets: readonly DialTargetRef[],
    private readonly opts: DialOptions,
    private readonly deps: DialDeps,
    /** A dial bridged before a restart: its one leg, bridged already. */
    private readonly resumed?: BridgedDial,
  ) {
    this.log = deps.log;
    this.legs = targets.map((target) => ({
      id: resumed?.leg ?? `${DIAL_LEG_ID_PREFIX}${randomUUID()}`,
      target,
      endpoint: renderEndpoint(deps.endpoints, target),
      inStasis: false,
      gone: false,
      hungUpByUs: false,
      dialstatus: '',
      cause: undefined,
      detail: undefined,
      unreachable: false,
    }));
  }

  run(): Promise<DialOutcome> {
    if (this.caller.ended.aborted) return Promise.reject(new CallEndedError());
    const done = new Promise<DialOutcome>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    this.caller.ended.addEventListener('abort', this.onCallerGone, { once: true });
    for (const leg of this.legs) {
      this.deps.ownChannels.add(leg.id);
      this.deps.dispatcher.register(leg.id, (event) => this.onLegEvent(leg, event));
    }
    if (this.resumed !== undefined) {
      this.goOnBridged(this.resumed);
      return done;
    }
    this.timer = setTimeout(() => void this.finish({ kind: 'timeout', timeout: this.opts.timeout }, CAUSE.noAnswer), this.opts.timeout);
    this.deps.rest.ring(this.caller.channelId, true).catch((error: unknown) => this.log.debug({ err: error }, 'could not ring the caller'));
    for (const leg of this.legs) void this.originate(leg);
    return done;
  }

  /** Resumed: the leg is the winner, in its bridge; the dial ends when it goes. */
  private goOnBridged(resumed: BridgedDial): void {
    const leg = this.legs[0] as Leg;
    leg.inStasis = true;
    this.winner = leg;
    this.bridgeId = resumed.bridge;
    this.bridgedAt = resumed.bridgedAt;
    // It may have gone between the bridge's listing and the registration above.
    this.deps.rest.getChannel(leg.id).then(
      (channel) => {
        if (channel === undefined) this.legGone(leg);
      },
      () => undefined,
    );
  }

  private async originate(leg: Leg): Promise<void> {
    const { app, rest } = this.deps;
    const { callerId } = this.opts;
    this.log.info({ leg: leg.id, endpoint: leg.endpoint, target: leg.target.value }, 'dialling');
    try {
      await rest.originate({
        channelId: leg.id,
        endpoint: leg.endpoint,
        app,
        appArgs: `${INTERNAL_CHANNEL_ARG},${DIAL_LEG_ARG}`,
        ...(callerId === undefined ? {} : { callerId }),
        // Asterisk's own ring time backs the engine's timer up (it fires first).
        timeoutSeconds: Math.ceil(this.opts.timeout / 1000) + 1,
      });
    } catch (error) {
      if (leg.gone || this.finishing) return;
      this.log.warn({ err: error, leg: leg.id, endpoint: leg.endpoint }, 'Asterisk did not dial a target');
      leg.detail = error instanceof AriRequestError ? `Asterisk refused to dial ${leg.endpoint} (${error.detail})` : `cannot dial ${leg.endpoint}`;
      // A request that timed out may have created the channel all the same.
      this.hangUpLeg(leg, CAUSE.normalClearing);
      // Asterisk not answering (or not connected) is ARI's failure; an answer refusing the endpoint is the target's.
      this.legGone(leg, error instanceof AriTimeoutError || error instanceof AriNotConnectedError ? error : undefined);
    }
  }

  private onLegEvent(leg: Leg, event: AriEvent): void {
    switch (event.type) {
      case 'Dial':
        if (event.dialstatus !== undefined && event.dialstatus !== '') leg.dialstatus = event.dialstatus;
        return;
      case 'StasisStart':
        leg.inStasis = true;
        if (this.winner === undefined && !this.finishing) void this.bridge(leg);
        else if (leg !== this.winner) this.hangUpLeg(leg, CAUSE.answeredElsewhere);
        return;
      case 'ChannelHangupRequest':
        // A request of ours says cause 32 (the soft-hangup flag); the far end's says its cause.
        if (event.cause !== undefined && event.cause !== 32 && !leg.hungUpByUs) leg.cause = event.cause;
        if (leg === this.winner) this.legGone(leg);
        return;
      case 'ChannelDestroyed':
        if (event.cause !== undefined) leg.cause = event.cause;
        this.legGone(leg);
        return;
      case 'StasisEnd':
        this.legGone(leg);
        return;
      default:
    }
  }

  /** The first leg to answer: ringing stops, the caller is answered and both go into a mixing bridge. */
  private async bridge(leg: Leg): Promise<void> {
    this.winner = leg;
    clearTimeout(this.timer);
    this.log.info({ leg: leg.id, target: leg.target.value }, 'target answered; bridging');
    for (const other of this.legs) if (other !== leg) this.hangUpLeg(other, CAUSE.answeredElsewhere);
    const { rest } = this.deps;
    try {
      await rest.ring(this.caller.channelId, false).catch((error: unknown) => this.log.debug({ err: error }, 'could not stop ringing'));
      await this.caller.answer();
      if (this.finishing) return;
      const bridgeId = randomUUID();
      this.bridgeId = bridgeId;
      await rest.createBridge(bridgeId);
      if (this.finishing) return;
      await rest.addToBridge(bridgeId, [this.caller.channelId, leg.id]);
      this.bridgedAt = Date.now();
      this.deps.onBridged?.({ bridge: bridgeId, leg: leg.id, target: leg.target, bridgedAt: this.bridgedAt });
      if (leg.gone) void this.finish({ kind: 'bridged', target: leg.target, ms: 0 });
    } catch (error) {
      if (this.finishing) return;
      if (error instanceof CallEndedError || this.caller.ended.aborted) return; // onCallerGone finishes
      // The called party went while being bridged: the call it answered is over.
      if (leg.gone) {
        void this.finish({ kind: 'bridged', target: leg.target, ms: 0 });
        return;
      }
      this.log.warn({ err: error, leg: leg.id }, 'could not bridge the caller with the answered target');
      void this.finishWith(error instanceof AriRequestError ? ariVerbFailure(error) : error, CAUSE.normalClearing);
    }
  }

  private legGone(leg: Leg, failure?: AriRequestError): void {
    if (leg.gone) return;
    if (failure !== undefined) leg.unreachable = true;
    leg.gone = true;
    this.deps.dispatcher.unregister(leg.id);
    this.deps.ownChannels.delete(leg.id);
    if (this.finishing) return;
    if (leg === this.winner) {
      // Hung up while the bridge was being made: bridge() finishes once its requests settle.
      if (this.bridgedAt === 0) return;
      void this.finish({ kind: 'bridged', target: leg.target, ms: Date.now() - this.bridgedAt });
      return;
    }
    if (this.winner !== undefined || this.legs.some((l) => !l.gone)) return;
    const all = this.legs;
    if (failure !== undefined && all.every((l) => l.unreachable)) {
      void this.finishWith(ariVerbFailure(failure), CAUSE.normalClearing);
      return;
    }
    void this.finish({ kind: 'failed', targets: all.map((l) => failureOf(l)) });
  }

  private readonly onCallerGone = (): void => {
    void this.finishWith(new CallEndedError(), CAUSE.normalClearing);
  };

  private hangUpLeg(leg: Leg, cause: number): Promise<void> {
    if (leg.gone) return Promise.resolve();
    leg.hungUpByUs = true;
    return this.deps.rest.hangup(leg.id, cause).catch((error: unknown) => {
      if (error instanceof AriNotFoundError) this.legGone(leg);
      else this.log.warn({ err: error, leg: leg.id }, 'could not hang up a dialled target');
    });
  }

  private finish(outcome: DialOutcome, cause: number = CAUSE.normalClearing): Promise<void> {
    return this.end(cause, () => this.settle?.resolve(outcome));
  }

  private finishWith(error: unknown, cause: number): Promise<void> {
    return this.end(cause, () => this.settle?.reject(error));
  }

  /** Hangs up what is left, destroys the bridge, stops ringing, forgets every listener; then settles. */
  private async end(cause: number, settle: () => void): Promise<void> {
    if (this.finishing) return;
    this.finishing = true;
    clearTimeout(this.timer);
    this.caller.ended.removeEventListener('abort', this.onCallerGone);
    const { rest } = this.deps;
    const work: Promise<unknown>[] = this.legs.filter((l) => !l.gone).map((l) => this.hangUpLeg(l, cause));
    if (this.bridgeId !== undefined) {
      work.push(rest.destroyBridge(this.bridgeId).catch((error: unknown) => this.log.warn({ err: error, bridge: this.bridgeId }, 'could not destroy the bridge')));
    }
    if (this.winner === undefined && !this.caller.ended.aborted) {
      work.push(rest.ring(this.caller.channelId, false).catch((error: unknown) => this.log.debug({ err: error }, 'could not stop ringing')));
    }
    await Promise.all(work);
    for (const leg of this.legs) {
      this.deps.dispatcher.unregister(leg.id);
      this.deps.ownChannels.delete(leg.id);
    }
    settle();
  }
}

function failureOf(leg: Leg): { target: DialTargetRef; failure: DialTargetFailure; cause?: number; detail?: string } {
  const known = STATUS[leg.dialstatus];
  const cause = leg.cause !== undefined && leg.cause > 0 ? leg.cause : known?.cause;
  // Destroyed while ringing with no status: Asterisk's ring time ran out (cause 19).
  const failure: DialTargetFailure = known?.failure ?? (cause === CAUSE.noAnswer ? 'no_answer' : cause === 17 ? 'busy' : cause === 34 ? 'congestion' : 'failed');
  return {
    target: leg.target,
    failure,
    ...(cause === undefined ? {} : { cause }),
    ...(leg.detail === undefined ? {} : { detail: leg.detail }),
  };
}

/** Thrown when a `<Dial>` is asked of a call that has no way to dial (no dial set-up). */
export function dialUnavailable(): VerbFailure {
  return new VerbFailure('not_supported', '<Dial> is not available on this call');
}
