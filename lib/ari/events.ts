// The ARI events this engine reads, as they come off the WebSocket (JSON), with only the
// fields it uses. `parseEvent` checks the shapes instead of trusting them.

export interface ChannelSnapshot {
  readonly id: string;
  readonly name: string;
  /** `Ring`, `Up`, … */
  readonly state: string;
  readonly caller: { readonly name: string; readonly number: string };
  /** Where the channel is in the dialplan; `app_name` `Stasis` and `app_data` `<app>,<args>` while in an application. */
  readonly dialplan?: { readonly context: string; readonly exten: string; readonly appName?: string; readonly appData?: string };
}

export interface PlaybackSnapshot {
  readonly id: string;
  /** `channel:<id>` or `bridge:<id>`. */
  readonly target_uri: string;
  /** `done`, `failed` (Asterisk 17.6+/18+ reports a playback that could not play this way), … */
  readonly state: string;
}

/** A live recording as Recording* events carry it (LiveRecording). */
export interface RecordingSnapshot {
  readonly name: string;
  /** `channel:<id>` or `bridge:<id>`. */
  readonly target_uri: string;
  /** `queued`, `recording`, `done`, `failed`, `canceled`. */
  readonly state: string;
  /** Seconds of audio recorded (RecordingFinished; absent when nothing was written). */
  readonly duration?: number;
  /** Why it failed (RecordingFailed). */
  readonly cause?: string;
}

export interface AriEvent {
  readonly type: string;
  readonly application?: string;
  readonly channel?: ChannelSnapshot;
  readonly playback?: PlaybackSnapshot;
  readonly recording?: RecordingSnapshot;
  readonly args?: readonly string[];
  readonly digit?: string;
  /** `Dial`: the channel being dialled, and how far it got (`RINGING`, `ANSWER`, `BUSY`, …). */
  readonly peer?: ChannelSnapshot;
  readonly dialstatus?: string;
  /** `ChannelDestroyed`, `ChannelHangupRequest`: the Q.850 cause. */
  readonly cause?: number;
}

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

export function parseChannel(value: unknown): ChannelSnapshot | undefined {
  if (!isRecord(value) || typeof value['id'] !== 'string') return undefined;
  const caller = isRecord(value['caller']) ? value['caller'] : {};
  const dialplan = isRecord(value['dialplan']) ? value['dialplan'] : undefined;
  return {
    id: value['id'],
    name: text(value['name']),
    state: text(value['state']),
    caller: { name: text(caller['name']), number: text(caller['number']) },
    ...(dialplan === undefined ? {} : { dialplan: parseDialplan(dialplan) }),
  };
}

function parseDialplan(dialplan: Readonly<Record<string, unknown>>): NonNullable<ChannelSnapshot['dialplan']> {
  const appName = dialplan['app_name'];
  const appData = dialplan['app_data'];
  return {
    context: text(dialplan['context']),
    exten: text(dialplan['exten']),
    ...(typeof appName === 'string' ? { appName } : {}),
    ...(typeof appData === 'string' ? { appData } : {}),
  };
}

function parsePlayback(value: unknown): PlaybackSnapshot | undefined {
  if (!isRecord(value) || typeof value['id'] !== 'string') return undefined;
  return { id: value['id'], target_uri: text(value['target_uri']), state: text(value['state']) };
}

function parseRecording(value: unknown): RecordingSnapshot | undefined {
  if (!isRecord(value) || typeof value['name'] !== 'string') return undefined;
  const { duration, cause } = value;
  return {
    name: value['name'],
    target_uri: text(value['target_uri']),
    state: text(value['state']),
    ...(typeof duration === 'number' ? { duration } : {}),
    ...(typeof cause === 'string' ? { cause } : {}),
  };
}

/** The event, or undefined when it is not an object with a `type`. */
export function parseEvent(value: unknown): AriEvent | undefined {
  if (!isRecord(value) || typeof value['type'] !== 'string') return undefined;
  const channel = parseChannel(value['channel']);
  const playback = parsePlayback(value['playback']);
  const recording = parseRecording(value['recording']);
  const args = Array.isArray(value['args']) ? value['args'].filter((a): a is string => typeof a === 'string') : undefined;
  const application = value['application'];
  const digit = value['digit'];
  const peer = parseChannel(value['peer']);
  const dialstatus = value['dialstatus'];
  const cause = value['cause'];
  return {
    type: value['type'],
    ...(typeof application === 'string' ? { application } : {}),
    ...(channel === undefined ? {} : { channel }),
    ...(playback === undefined ? {} : { playback }),
    ...(recording === undefined ? {} : { recording }),
    ...(args === undefined ? {} : { args }),
    ...(typeof digit === 'string' ? { digit } : {}),
    ...(peer === undefined ? {} : { peer }),
    ...(typeof dialstatus === 'string' ? { dialstatus } : {}),
    ...(typeof cause === 'number' ? { cause } : {}),
  };
}

/**
 * The channel an event is about: the dialled `peer` of a `Dial`, its `channel`, or the
 * channel a playback plays to.
 */
export function channelIdOf(event: AriEvent): string | undefined {
  if (event.type === 'Dial' && event.peer) return event.peer.id;
  if (event.channel) return event.channel.id;
  // A recording's events name its channel only in target_uri.
  const target = event.playback?.target_uri ?? event.recording?.target_uri;
  return target?.startsWith('channel:') ? target.slice('channel:'.length) : undefined;
}
