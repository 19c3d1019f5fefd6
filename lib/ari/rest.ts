// The ARI REST operations the engine uses, each with a time-out and classified errors.
import { Metrics } from '../metrics/metrics.js';
import { AriNotConnectedError, AriNotFoundError, AriTimeoutError } from './errors.js';
import { parseChannel, type ChannelSnapshot } from './events.js';
import type { AriHttp, AriMethod, AriQuery } from './http-client.js';

export interface AriRest {
  answer(channelId: string): Promise<void>;
  /** Starts `media` (`sound:…`, `recording:…`) on the channel as playback `playbackId`. */
  play(channelId: string, media: string, playbackId: string): Promise<void>;
  /** Stops a playback; one that already ended is not an error. */
  stopPlayback(playbackId: string): Promise<void>;
  playbackExists(playbackId: string): Promise<boolean>;
  /** Starts recording the channel into the stored recording `name` (see RecordRequest). */
  record(channelId: string, request: RecordRequest): Promise<void>;
  /** Stops a live recording, keeping what it recorded; one that already ended is not an error. */
  stopRecording(name: string): Promise<void>;
  /** Whether Asterisk has a stored recording of that name. */
  storedRecordingExists(name: string): Promise<boolean>;
  /** The channel, or undefined when Asterisk no longer has it. */
  getChannel(channelId: string): Promise<ChannelSnapshot | undefined>;
  /** Hangs the channel up with a Q.850 cause (`reason_code`). */
  hangup(channelId: string, reasonCode: number): Promise<void>;
  /** The ids of the channels in the Stasis application. */
  applicationChannels(app: string): Promise<string[]>;
  /** Every channel Asterisk has (`GET /channels`). */
  listChannels(): Promise<ChannelSnapshot[]>;
  /** Originates a channel into the Stasis application `app` (it enters it once answered). */
  originate(request: OriginateRequest): Promise<void>;
  /** Ringing to the caller (`POST /channels/{id}/ring`), or stops it. */
  ring(channelId: string, on: boolean): Promise<void>;
  /** A mixing bridge with this id. */
  createBridge(bridgeId: string): Promise<void>;
  addToBridge(bridgeId: string, channelIds: readonly string[]): Promise<void>;
  /** Destroys a bridge; one already gone is not an error. */
  destroyBridge(bridgeId: string): Promise<void>;
  /** The ids of the channels in a bridge, or undefined when Asterisk no longer has it. */
  bridgeChannels(bridgeId: string): Promise<string[] | undefined>;
}

export interface OriginateRequest {
  readonly channelId: string;
  /** `PJSIP/15551234567@trunk`, `Local/2001@targets`. */
  readonly endpoint: string;
  readonly app: string;
  readonly appArgs: string;
  readonly callerId?: string;
  /** Ring time, in whole seconds. */
  readonly timeoutSeconds: number;
}

export interface RecordRequest {
  readonly name: string;
  readonly format: 'wav';
  /** 0: no limit. */
  readonly maxDurationSeconds: number;
  /** `none`, `any`, `#` or `*`: ARI ends the recording on that key itself. */
  readonly terminateOn: 'none' | 'any' | '#' | '*';
  readonly ifExists: 'fail' | 'overwrite';
  /** Asterisk's own `beep` sound first: absent from images without sound files, where the recording then fails. */
  readonly beep: boolean;
}

/**
 * AriRest over our own HTTP client (http-client.ts), there once the connection has loaded
 * the API the first time: before that every request fails with AriNotConnectedError.
 */
export class ClientRest implements AriRest {
  private pending = 0;

  constructor(
    private readonly http: () => AriHttp | undefined,
    private readonly metrics?: Metrics,
  ) {}

  /** Requests sent or waiting for a connection, not yet answered nor timed out: admission control watches it. */
  get inFlight(): number {
    return this.pending;
  }

  async answer(channelId: string): Promise<void> {
    await this.send('answer', `answer channel ${channelId}`, 'POST', `/channels/${seg(channelId)}/answer`);
  }

  async play(channelId: string, media: string, playbackId: string): Promise<void> {
    await this.send('play', `play ${media} on channel ${channelId}`, 'POST', `/channels/${seg(channelId)}/play`, { media, playbackId });
  }

  async stopPlayback(playbackId: string): Promise<void> {
    await absentIsFine(this.send('stop_playback', `stop playback ${playbackId}`, 'DELETE', `/playbacks/${seg(playbackId)}`));
  }

  async playbackExists(playbackId: string): Promise<boolean> {
    return exists(this.send('get_playback', `get playback ${playbackId}`, 'GET', `/playbacks/${seg(playbackId)}`));
  }

  async record(channelId: string, request: RecordRequest): Promise<void> {
    const { name, format, maxDurationSeconds, terminateOn, ifExists, beep } = request;
    const query = { name, format, maxDurationSeconds, terminateOn, ifExists, beep };
    await this.send('record', `record channel ${channelId} as ${name}`, 'POST', `/channels/${seg(channelId)}/record`, query);
  }

  async stopRecording(name: string): Promise<void> {
    await absentIsFine(this.send('stop_recording', `stop recording ${name}`, 'POST', `/recordings/live/${seg(name)}/stop`));
  }

  async storedRecordingExists(name: string): Promise<boolean> {
    return exists(this.send('get_stored_recording', `get stored recording ${name}`, 'GET', `/recordings/stored/${seg(name)}`));
  }

  async getChannel(channelId: string): Promise<ChannelSnapshot | undefined> {
    const channel = await absentIsFine(this.send('get_channel', `get channel ${channelId}`, 'GET', `/channels/${seg(channelId)}`));
    return channel === undefined ? undefined : parseChannel(channel);
  }

  async hangup(channelId: string, reasonCode: number): Promise<void> {
    // reason_code: a Q.850 cause (Asterisk 16.29+/18.15+).
    await this.send('hangup', `hang up channel ${channelId}`, 'DELETE', `/channels/${seg(channelId)}`, { reason_code: reasonCode });
  }

  async applicationChannels(app: string): Promise<string[]> {
    const application = await this.send('get_application', `get application ${app}`, 'GET', `/applications/${seg(app)}`);
    const ids = typeof application === 'object' && application !== null && 'channel_ids' in application ? application.channel_ids : undefined;
    return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : [];
  }

  async bridgeChannels(bridgeId: string): Promise<string[] | undefined> {
    const bridge = await absentIsFine(this.send('get_bridge', `get bridge ${bridgeId}`, 'GET', `/bridges/${seg(bridgeId)}`));
    if (bridge === undefined) return undefined;
    const ids = typeof bridge === 'object' && bridge !== null && 'channels' in bridge ? bridge.channels : undefined;
    return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : [];
  }

  async listChannels(): Promise<ChannelSnapshot[]> {
    const channels = await this.send('list_channels', 'list channels', 'GET', '/channels');
    return Array.isArray(channels) ? channels.map(parseChannel).filter((channel) => channel !== undefined) : [];
  }

  async originate(request: OriginateRequest): Promise<void> {
    const { channelId, endpoint, app, appArgs, callerId, timeoutSeconds } = request;
    const query = { endpoint, app, appArgs, channelId, timeout: timeoutSeconds, callerId };
    await this.send('originate', `originate ${endpoint} as ${channelId}`, 'POST', '/channels', query);
  }

  async ring(channelId: string, on: boolean): Promise<void> {
    if (on) await this.send('ring', `ring channel ${channelId}`, 'POST', `/channels/${seg(channelId)}/ring`);
    else await this.send('ring_stop', `stop ringing channel ${channelId}`, 'DELETE', `/channels/${seg(channelId)}/ring`);
  }

  async createBridge(bridgeId: string): Promise<void> {
    await this.send('create_bridge', `create bridge ${bridgeId}`, 'POST', `/bridges/${seg(bridgeId)}`, { type: 'mixing' });
  }

  async addToBridge(bridgeId: string, channelIds: readonly string[]): Promise<void> {
    const operation = `add ${channelIds.join(',')} to bridge ${bridgeId}`;
    await this.send('add_to_bridge', operation, 'POST', `/bridges/${seg(bridgeId)}/addChannel`, { channel: channelIds });
  }

  async destroyBridge(bridgeId: string): Promise<void> {
    await absentIsFine(this.send('destroy_bridge', `destroy bridge ${bridgeId}`, 'DELETE', `/bridges/${seg(bridgeId)}`));
  }

  /**
   * One request; `kind` names it in metrics (a bounded label), `operation` describes it in
   * errors. Resolves with Asterisk's JSON answer (undefined when it had none).
   */
  private send(kind: AriOperation, operation: string, method: AriMethod, path: string, query?: AriQuery): Promise<unknown> {
    const started = performance.now();
    const http = this.http();
    if (http === undefined) {
      this.metrics?.ariRequestDuration.observe({ operation: kind, outcome: 'not_connected' }, 0);
      return Promise.reject(new AriNotConnectedError(operation));
    }
    this.pending += 1;
    this.metrics?.ariRequestsInFlight.inc();
    const settled = (outcome: string): void => {
      this.pending -= 1;
      this.metrics?.ariRequestsInFlight.dec();
      this.metrics?.ariRequestDuration.observe({ operation: kind, outcome }, Metrics.secondsSince(started));
    };
    return http.send(operation, method, path, query).then(
      (value) => {
        settled('ok');
        return value;
      },
      (error: unknown) => {
        settled(outcomeOf(error));
        throw error;
      },
    );
  }
}

/** A path segment. */
function seg(id: string): string {
  return encodeURIComponent(id);
}

/** The answer, or undefined for a 404 (the thing was already gone). */
async function absentIsFine(request: Promise<unknown>): Promise<unknown> {
  try {
    return await request;
  } catch (error) {
    if (error instanceof AriNotFoundError) return undefined;
    throw error;
  }
}

/** Whether the GET found it (404: it is not there). */
async function exists(request: Promise<unknown>): Promise<boolean> {
  try {
    await request;
    return true;
  } catch (error) {
    if (error instanceof AriNotFoundError) return false;
    throw error;
  }
}

/** The operations, as the `operation` label of opentact_ari_request_duration_seconds. */
export type AriOperation =
  | 'answer'
  | 'play'
  | 'stop_playback'
  | 'get_playback'
  | 'record'
  | 'stop_recording'
  | 'get_stored_recording'
  | 'get_channel'
  | 'hangup'
  | 'get_application'
  | 'list_channels'
  | 'get_bridge'
  | 'originate'
  | 'ring'
  | 'ring_stop'
  | 'create_bridge'
  | 'add_to_bridge'
  | 'destroy_bridge';

function outcomeOf(error: unknown): string {
  if (error instanceof AriNotFoundError) return 'not_found';
  if (error instanceof AriTimeoutError) return 'timeout';
  if (error instanceof AriNotConnectedError) return 'not_connected';
  return 'error';
}
