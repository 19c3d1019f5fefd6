// One call's events (spec §6), as the customer's `events_url` receives them: `call_state`
// (init, ringing, live, hangup, destroyed) and `call_flow` (one per executed verb, from
// the interpreter's `verb` events). Each has its own `uuid`, the call's and the app's
// UUIDs, a timestamp and a per-call `sequence` (1, 2, 3… in emission order). Building
// and handing them over never waits: the EventQueue sends them in the background.
import { randomUUID } from 'node:crypto';
import type { JsonValue } from '../callback/types.js';
import type { EventSink, FlowEvent, HangupRequest } from '../flow/ports.js';
import { Q850 } from '../ari/causes.js';

export type CallStateName = 'init' | 'ringing' | 'live' | 'hangup' | 'destroyed';

/** What every event carries. */
export interface EventHeader {
  readonly uuid: string;
  readonly type: 'call_state' | 'call_flow';
  /** The call's UUID. */
  readonly call: string;
  /** The Call Control App's UUID. */
  readonly sca: string;
  /** ISO 8601, when the event happened. */
  readonly timestamp: string;
  /** 1, 2, 3… per call, in the order the events happened. */
  readonly sequence: number;
}

/** A call event: the header and the event's own fields (JSON values only). */
export type CallEvent = EventHeader & { readonly [key: string]: JsonValue };

/** Where a call's events go (the EventQueue, or a test's array). */
export interface EventOutlet {
  /** Never throws, never waits. */
  send(event: CallEvent, target: EventTarget): void;
}

/** Where one app's events are POSTed, and the key that signs them. */
export interface EventTarget {
  readonly url: string;
  /** The app's UUID when it has a signing secret. */
  readonly signingKeyId?: string;
}

export interface CallEventsStart {
  readonly call: string;
  readonly sca: string;
  readonly from: string;
  readonly tn: string;
  /**
   * A call resumed after a restart: its events go on after this sequence number (no
   * `init`). The number saved with the call's state may lag the last one sent by the
   * events of one verb, so the caller passes it with RESUME_SEQUENCE_GAP added.
   */
  readonly resumeAfter?: number;
}

/**
 * Sequence numbers skipped when a call resumes: more than one verb's events (a verb and
 * its error branch's verbs send a handful), so numbers stay increasing and unique.
 */
export const RESUME_SEQUENCE_GAP = 1000;

type Fields = { readonly [key: string]: JsonValue };

/**
 * One call's event stream; an EventSink for its flow's events. `init` is sent when it is
 * made; the owner calls ringing(), live(), hangup… and destroyed() as the channel goes.
 */
export class CallEvents implements EventSink {
  private sequence = 0;
  private hungUp = false;
  private destroyedSent = false;
  /** What the last `callback` and `recording` events said, by verb path. */
  private readonly callbacks = new Map<string, Extract<FlowEvent, { type: 'callback' }>>();
  private readonly recordings = new Map<string, Extract<FlowEvent, { type: 'recording' }>>();

  constructor(
    private readonly outlet: EventOutlet,
    private readonly target: EventTarget,
    private readonly start: CallEventsStart,
  ) {
    if (start.resumeAfter === undefined) this.state('init', { from: start.from, tn: start.tn });
    else this.sequence = start.resumeAfter;
  }

  /** The last sequence number sent. */
  get lastSequence(): number {
    return this.sequence;
  }

  ringing(): void {
    this.state('ringing');
  }

  live(): void {
    this.state('live');
  }

  /** The flow hangs up (a `<Hangup>`, an `<Error>`'s, the end of the document…). */
  engineHangup(request: HangupRequest): void {
    if (this.hungUp) return;
    this.hungUp = true;
    const { cause, reason, tag } = request;
    this.state('hangup', { by: 'engine', cause: Q850[cause], cause_name: cause, reason, ...(tag === undefined ? {} : { tag }) });
  }

  /** The caller (or the network) hung up; `cause` as Asterisk gave it (16 when it gave none). */
  callerHangup(cause: number | undefined, reason?: string): void {
    if (this.hungUp) return;
    this.hungUp = true;
    this.state('hangup', { by: 'caller', cause: cause ?? Q850.normal_clearing, ...(reason === undefined ? {} : { reason }) });
  }

  /** The call is over: the last event. */
  destroyed(reason?: string): void {
    if (this.destroyedSent) return;
    this.destroyedSent = true;
    this.state('destroyed', reason === undefined ? {} : { reason });
  }

  emit(event: FlowEvent): void {
    if (this.destroyedSent) return;
    switch (event.type) {
      case 'callback':
        this.callbacks.set(event.path, event);
        return;
      case 'recording':
        this.recordings.set(event.path, event);
        return;
      case 'verb':
        this.flow(event);
        return;
      case 'resumed': {
        // The gap a restart left: the verb that was cut off, before it runs again.
        const { command, path } = event;
        this.send('call_flow', { command, path, success: false, code: 'interrupted', reason: 'the engine stopped while it ran; it runs again' });
        return;
      }
      default:
        return;
    }
  }

  private flow(event: Extract<FlowEvent, { type: 'verb' }>): void {
    const { command, path, success, code, reason, tag } = event;
    const fields: Record<string, JsonValue> = { command, path, success };
    if (reason !== undefined) fields['reason'] = reason;
    if (code !== undefined) fields['code'] = code;
    if (tag !== undefined) fields['tag'] = tag;
    const callback = this.callbacks.get(path);
    if (callback !== undefined) {
      this.callbacks.delete(path);
      fields['url'] = callback.url;
      fields['method'] = callback.method;
      if (callback.status !== undefined) fields['status'] = callback.status;
      fields['attempts'] = callback.attempts;
      fields['ms'] = callback.ms;
    }
    const recording = this.recordings.get(path);
    if (recording !== undefined) {
      this.recordings.delete(path);
      fields['recording'] = recording.name;
      fields['duration'] = recording.durationSeconds;
    }
    this.send('call_flow', fields);
  }

  private state(state: CallStateName, fields: Fields = {}): void {
    this.send('call_state', { state, ...fields });
  }

  private send(type: EventHeader['type'], fields: Fields): void {
    this.sequence += 1;
    const event: CallEvent = {
      uuid: randomUUID(),
      type,
      call: this.start.call,
      sca: this.start.sca,
      timestamp: new Date().toISOString(),
      sequence: this.sequence,
      ...fields,
    };
    this.outlet.send(event, this.target);
  }
}
