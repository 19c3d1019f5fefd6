// The JSON shapes the fake puts on the wire, after the ARI data models
// (docs.asterisk.org, "Asterisk REST Data Models", Asterisk 22).

export type ChannelState =
  | 'Down'
  | 'Rsrved'
  | 'OffHook'
  | 'Dialing'
  | 'Ring'
  | 'Ringing'
  | 'Up'
  | 'Busy'
  | 'Dialing Offhook'
  | 'Pre-ring'
  | 'Unknown';

export interface CallerIdJson {
  name: string;
  number: string;
}

export interface DialplanCepJson {
  context: string;
  exten: string;
  priority: number;
  app_name: string;
  app_data: string;
}

export interface ChannelJson {
  id: string;
  name: string;
  state: ChannelState;
  protocol_id: string;
  caller: CallerIdJson;
  connected: CallerIdJson;
  accountcode: string;
  dialplan: DialplanCepJson;
  creationtime: string;
  language: string;
  /** Present only when ari.conf `channelvars` names variables (FakeAriOptions.channelVars). */
  channelvars?: Record<string, string>;
  caller_rdnis?: string;
}

export type PlaybackState = 'queued' | 'playing' | 'paused' | 'continuing' | 'done' | 'failed';

export interface PlaybackJson {
  id: string;
  media_uri: string;
  next_media_uri?: string;
  target_uri: string;
  language: string;
  state: PlaybackState;
}

export type RecordingState = 'queued' | 'recording' | 'paused' | 'done' | 'failed' | 'canceled';

export interface LiveRecordingJson {
  name: string;
  format: string;
  state: RecordingState;
  target_uri: string;
  duration?: number;
  talking_duration?: number;
  silence_duration?: number;
  cause?: string;
}

export interface StoredRecordingJson {
  name: string;
  format: string;
}

export interface BridgeJson {
  id: string;
  technology: string;
  bridge_type: string;
  bridge_class: string;
  creator: string;
  name: string;
  channels: string[];
  creationtime: string;
  video_mode?: string;
}

export interface ApplicationJson {
  name: string;
  channel_ids: string[];
  bridge_ids: string[];
  endpoint_ids: string[];
  device_names: string[];
  events_allowed: unknown[];
  events_disallowed: unknown[];
}

/**
 * An event as the fake sends it. `application`, `asterisk_id` and `timestamp` are always
 * there (res/ari/ari_websockets.c adds the first two to every message it sends).
 */
export interface AriEvent {
  type: string;
  timestamp: string;
  application: string;
  asterisk_id: string;
  channel?: ChannelJson;
  playback?: PlaybackJson;
  recording?: LiveRecordingJson;
  bridge?: BridgeJson;
  args?: string[];
  digit?: string;
  duration_ms?: number;
  cause?: number;
  cause_txt?: string;
  soft?: boolean;
  variable?: string;
  value?: string;
  peer?: ChannelJson;
  caller?: ChannelJson;
  dialstring?: string;
  dialstatus?: string;
  [key: string]: unknown;
}
