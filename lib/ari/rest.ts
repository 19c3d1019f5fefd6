// The ARI REST operations the engine uses, each with a time-out and classified errors.
import type { Client } from 'ari-client';
import { Metrics } from '../metrics/metrics.js';
import { AriNotConnectedError, AriNotFoundError, AriTimeoutError } from './errors.js';
import { parseChannel, type ChannelSnapshot } from './events.js';
import { timed } from './timed.js';

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

/** AriRest over whichever ari-client Client is current (none before the first connection). */
export class ClientRest implements AriRest {
  private pending = 0;

  constructor(
    private readonly client: () => Client | undefined,
    private readonly timeoutMs: number,
    private readonly metrics?: Metrics,
  ) {}

  /** Requests sent or waiting for a connection, not yet answered nor timed out: admission control watches it. */
  get inFlight(): number {
    return this.pending;
  }

  answer(channelId: string): Promise<void> {
    return this.run('answer', `answer channel ${channelId}`, (c) => c.channels.answer({ channelId }));
  }

  async play(channelId: string, media: string, playbackId: string): Promise<void> {
    await this.run('play', `play ${media} on channel ${channelId}`, (c) => c.channels.play({ channelId, media, playbackId }));
  }

  async stopPlayback(playbackId: string): Promise<void> {
    try {
      await this.run('stop_playback', `stop playback ${playbackId}`, (c) => c.playbacks.stop({ playbackId }));
    } catch (error) {
      if (!(error instanceof AriNotFoundError)) throw error;
    }
  }

  async playbackExists(playbackId: string): Promise<boolean> {
    try {
      await this.run('get_playback', `get playback ${playbackId}`, (c) => c.playbacks.get({ playbackId }));
      return true;
    } catch (error) {
      if (error instanceof AriNotFoundError) return false;
      throw error;
    }
  }

  async record(channelId: string, request: RecordRequest): Promise<void> {
    const { name, format, maxDurationSeconds, terminateOn, ifExists, beep } = request;
    await this.run('record', `record channel ${channelId} as ${name}`, (c) =>
      c.channels.record({ channelId, name, format, maxDurationSeconds, terminateOn, ifExists, beep }),
    );
  }

  async stopRecording(name: string): Promise<void> {
    try {
      await this.run('stop_recording', `stop recording ${name}`, (c) => c.recordings.stop({ recordingName: name }));
    } catch (error) {
      if (!(error instanceof AriNotFoundError)) throw error;
    }
  }

  async storedRecordingExists(name: string): Promise<boolean> {
    try {
      await this.run('get_stored_recording', `get stored recording ${name}`, (c) => c.recordings.getStored({ recordingName: name }));
      return true;
    } catch (error) {
      if (error instanceof AriNotFoundError) return false;
      throw error;
    }
  }

  async getChannel(channelId: string): Promise<ChannelSnapshot | undefined> {
    try {
      const channel: unknown = await this.run('get_channel', `get channel ${channelId}`, (c) => c.channels.get({ channelId }));
      return parseChannel(channel);
    } catch (error) {
      if (error instanceof AriNotFoundError) return undefined;
      throw error;
    }
  }

  hangup(channelId: string, reasonCode: number): Promise<void> {
    // reason_code (Asterisk 16.29+/18.15+) is not in @types/ari-client; the API listing has it.
    const params: { channelId: string; reason_code: string } = { channelId, reason_code: String(reasonCode) };
    return this.run('hangup', `hang up channel ${channelId}`, (c) => c.channels.hangup(params));
  }

  async applicationChannels(app: string): Promise<string[]> {
    const application = await this.run('get_application', `get application ${app}`, (c) => c.applications.get({ applicationName: app }));
    return Array.isArray(application.channel_ids) ? application.channel_ids.filter((id) => typeof id === 'string') : [];
  }

  async bridgeChannels(bridgeId: string): Promise<string[] | undefined> {
    try {
      const bridge = await this.run('get_bridge', `get bridge ${bridgeId}`, (c) => c.bridges.get({ bridgeId }));
      return Array.isArray(bridge.channels) ? bridge.channels.filter((id) => typeof id === 'string') : [];
    } catch (error) {
      if (error instanceof AriNotFoundError) return undefined;
      throw error;
    }
  }

  async listChannels(): Promise<ChannelSnapshot[]> {
    const channels: unknown = await this.run('list_channels', 'list channels', (c) => c.channels.list());
    return Array.isArray(channels) ? channels.map(parseChannel).filter((channel) => channel !== undefined) : [];
  }

  async originate(request: OriginateRequest): Promise<void> {
    const { channelId, endpoint, app, appArgs, callerId, timeoutSeconds } = request;
    const params = { endpoint, app, appArgs, channelId, timeout: timeoutSeconds, ...(callerId === undefined ? {} : { callerId }) };
    await this.run('originate', `originate ${endpoint} as ${channelId}`, (c) => c.channels.originate(params));
  }

  ring(channelId: string, on: boolean): Promise<void> {
    return on
      ? this.run('ring', `ring channel ${channelId}`, (c) => c.channels.ring({ channelId }))
      : this.run('ring_stop', `stop ringing channel ${channelId}`, (c) => c.channels.ringStop({ channelId }));
  }

  async createBridge(bridgeId: string): Promise<void> {
    await this.run('create_bridge', `create bridge ${bridgeId}`, (c) => c.bridges.createWithId({ bridgeId, type: 'mixing' }));
  }

  addToBridge(bridgeId: string, channelIds: readonly string[]): Promise<void> {
    return this.run('add_to_bridge', `add ${channelIds.join(',')} to bridge ${bridgeId}`, (c) => c.bridges.addChannel({ bridgeId, channel: [...channelIds] }));
  }

  async destroyBridge(bridgeId: string): Promise<void> {
    try {
      await this.run('destroy_bridge', `destroy bridge ${bridgeId}`, (c) => c.bridges.destroy({ bridgeId }));
    } catch (error) {
      if (!(error instanceof AriNotFoundError)) throw error;
    }
  }

  /** `kind` names the operation in metrics (a bounded label); `operation` describes it in errors. */
  private run<T>(kind: AriOperation, operation: string, request: (client: Client) => PromiseLike<T>): Promise<T> {
    const started = performance.now();
    const client = this.client();
    if (client === undefined) {
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
    return timed(operation, this.timeoutMs, () => request(client)).then(
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
