// Outbound channels (res/ari/resource_channels.c originate, create and dial): POST
// /channels, POST /channels/create, POST /channels/{id}/dial, and what the far end does
// (the OutboundPlan from the fake's options, or remoteAnswer/remoteReject).
import { CAUSE } from '../asterisk-values.js';
import type { CallerIdJson, ChannelJson } from '../models.js';
import type { Stasis } from '../stasis.js';
import { nextTurn } from '../waiter.js';
import { AriError } from './ari-error.js';
import { ChannelModel, type ChannelOrigin } from './channels.js';

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

export interface PendingOutbound {
  settle(outcome: 'answer' | 'busy' | 'congestion' | 'noanswer' | 'unavailable', cause?: number): void;
}

export class Outbound {
  constructor(private readonly stasis: Stasis) {}

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
    if (args.channelId && this.stasis.channels.idInUse(args.channelId)) throw new AriError(409, 'Conflict', 'Channel with given unique ID already exists');
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
    if (args.channelId && this.stasis.channels.idInUse(args.channelId)) throw new AriError(409, 'Conflict', 'Channel with given unique ID already exists');
    const ch = this.newOutboundChannel('create', args.endpoint, args.channelId, undefined, args.variables);
    ch.dialstring = args.endpoint.slice(slash + 1);
    const json = ch.json();
    this.stasis.channels.enterStasis(ch, args.app, splitArgs(args.appArgs));
    return json;
  }

  /** POST /channels/{id}/dial on a created channel. */
  dial(channelId: string, args: { caller?: string; timeout?: number }): void {
    const ch = this.stasis.channels.control(channelId);
    if (ch.state !== 'Down' && ch.state !== 'Rsrved') throw new AriError(409, 'Conflict', "Channel is not in the 'Down' state");
    if (ch.dialstring === undefined) throw new AriError(409, 'Conflict', 'Dialing a channel not created by ARI');
    const caller = args.caller ? this.stasis.channels.byId.get(args.caller) : undefined;
    if (caller) ch.connected = { ...caller.caller };
    this.startOutbound(
      ch,
      { channelId: ch.id, endpoint: ch.endpoint, callerId: '', app: ch.stasisApp, appArgs: ch.stasisArgs, via: 'dial' },
      args.timeout && args.timeout > 0 ? args.timeout : Infinity,
    );
  }

  private newOutboundChannel(origin: ChannelOrigin, endpoint: string, channelId: string | undefined, callerId: string | undefined, variables?: Record<string, string>): ChannelModel {
    const id = channelId || this.stasis.channels.nextUniqueId();
    const cid = parseCallerId(callerId);
    const ch = new ChannelModel(
      id,
      this.stasis.channels.nextChannelName(endpoint),
      origin,
      endpoint,
      '',
      cid,
      { ...cid },
      this.stasis.config.language,
      'Down',
      { context: 'default', exten: 's', priority: 1, app_name: '', app_data: '' },
      this.stasis.config.channelVars,
    );
    for (const [k, v] of Object.entries(variables ?? {})) ch.variables.set(k, v);
    this.stasis.channels.addChannel(ch);
    return ch;
  }

  private startOutbound(ch: ChannelModel, call: OutboundCall, timeoutSeconds: number): void {
    const plan = this.stasis.config.outbound(call);
    const dialstring = call.endpoint.slice(call.endpoint.indexOf('/') + 1);
    const dialEvent = (status: string): void => {
      if (!ch.killed) this.stasis.events.publish(this.stasis.events.channelTargets(ch), 'Dial', { peer: ch.json(), dialstring, dialstatus: status });
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
        this.stasis.channels.setState(ch, 'Up');
        dialEvent('ANSWER');
        if (call.via === 'originate' && call.app) this.stasis.channels.enterStasis(ch, call.app, [...call.appArgs]);
        if (plan.hangupAfterMs !== undefined) this.stasis.timers.after(plan.hangupAfterMs, () => void this.stasis.channels.remoteHangup(ch.id, CAUSE.NORMAL_CLEARING).catch(() => undefined));
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
        void this.stasis.channels.destroy(ch);
        return;
      }
      dialEvent(status);
      if (call.via === 'dial' && (outcome === 'busy' || outcome === 'congestion')) {
        // Seen on 22.10.1: a dialled (created) channel stays up after Dial BUSY/CONGESTION until the dial timeout (then 19).
        if (Number.isFinite(timeoutSeconds) && timeoutSeconds > 0) {
          this.stasis.timers.after(timeoutSeconds * this.stasis.config.secondMs, () => void this.stasis.channels.hangup(ch, cause ?? plan.cause ?? CAUSE.NO_ANSWER, false));
        }
        return;
      }
      const defaultCause = { busy: CAUSE.USER_BUSY, congestion: CAUSE.CONGESTION, noanswer: CAUSE.NO_ANSWER, unavailable: 3 }[outcome];
      void this.stasis.channels.hangup(ch, cause ?? plan.cause ?? defaultCause, false);
    };
    ch.outbound = { settle };
    void nextTurn().then(() => {
      if (settled || ch.killed) return;
      dialEvent('');
      // A target that is busy or congested at once never rings (Busy(), Congestion() on 22.10.1).
      if (plan.outcome !== 'busy' && plan.outcome !== 'congestion') {
        this.stasis.channels.setState(ch, 'Ringing');
        dialEvent('RINGING');
      }
      if (plan.outcome !== 'wait') {
        cancelTimers.push(this.stasis.timers.after(plan.afterMs ?? 10, () => settle(plan.outcome as 'answer')));
      } else if (Number.isFinite(timeoutSeconds) && timeoutSeconds > 0) {
        cancelTimers.push(this.stasis.timers.after(timeoutSeconds * this.stasis.config.secondMs, () => settle('noanswer')));
      }
    });
  }

  /** The far end of an outbound channel answers (plan 'wait'). */
  remoteAnswer(id: string): void {
    const ch = this.stasis.channels.byId.get(id);
    if (!ch?.outbound) throw new Error(`channel ${id} is not ringing out`);
    ch.outbound.settle('answer');
  }

  /** The far end of an outbound channel refuses it (plan 'wait'). */
  remoteReject(id: string, outcome: 'busy' | 'congestion' | 'noanswer' | 'unavailable', cause?: number): void {
    const ch = this.stasis.channels.byId.get(id);
    if (!ch?.outbound) throw new Error(`channel ${id} is not ringing out`);
    ch.outbound.settle(outcome, cause);
  }
}

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
