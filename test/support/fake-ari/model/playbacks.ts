// Playbacks (res/ari/resource_playbacks.c, res/res_stasis_playback.c): a play runs on the
// channel's command queue, one media after the other; the media schemes; stop and control.
import { uuid } from '../asterisk-values.js';
import type { PlaybackJson, PlaybackState } from '../models.js';
import type { Stasis } from '../stasis.js';
import { Signals, type Timers } from '../waiter.js';
import { AriError } from './ari-error.js';
import type { ChannelModel } from './channels.js';

/** AST_CONTROL_STREAM_STOP: what ast_control_streamfile returns when a playback is stopped. */
const STREAM_STOP = 1000;

type PlaybackInternalState = 'queued' | 'playing' | 'paused' | 'continuing' | 'complete' | 'failed' | 'stopped' | 'canceled';
type PlaybackSignal = 'stop' | 'hangup' | 'pause' | 'unpause' | 'restart' | 'forward' | 'reverse';

export class PlaybackModel {
  state: PlaybackInternalState = 'queued';
  index = 0;
  controllable = false;
  readonly signals: Signals<PlaybackSignal>;

  constructor(
    readonly id: string,
    readonly channel: ChannelModel,
    readonly medias: readonly string[],
    readonly language: string,
    readonly skipms: number,
    timers: Timers,
  ) {
    this.signals = new Signals(timers);
  }

  get media(): string {
    return this.medias[this.index] ?? '';
  }

  /** stasis_app_playback_to_json: STOPPED, COMPLETE and CANCELED all read "done". */
  publicState(): PlaybackState {
    switch (this.state) {
      case 'stopped':
      case 'complete':
      case 'canceled':
        return 'done';
      default:
        return this.state;
    }
  }

  json(): PlaybackJson {
    const next = this.medias[this.index + 1];
    return {
      id: this.id,
      media_uri: this.media,
      ...(next !== undefined ? { next_media_uri: next } : {}),
      target_uri: `channel:${this.channel.id}`,
      language: this.language,
      state: this.publicState(),
    };
  }
}

export class Playbacks {
  private readonly byId = new Map<string, PlaybackModel>();

  constructor(private readonly stasis: Stasis) {}

  play(channelId: string, medias: readonly string[], opts: { lang?: string; offsetms?: number; skipms?: number; playbackId?: string }): PlaybackJson {
    const ch = this.stasis.channels.control(channelId);
    this.stasis.channels.requireValidState(ch);
    if ((opts.skipms ?? 0) < 0) throw new AriError(400, 'Bad Request', 'skipms cannot be negative');
    if ((opts.offsetms ?? 0) < 0) throw new AriError(400, 'Bad Request', 'offsetms cannot be negative');
    if (medias.length === 0 || medias.some((m) => m === '')) {
      // stasis_app_control_play_uri refuses an empty media list or URI.
      throw new AriError(500, 'Internal Server Error', 'Failed to queue media for playback');
    }
    const id = opts.playbackId || uuid();
    const pb = new PlaybackModel(id, ch, medias, opts.lang || ch.language, opts.skipms || 3000, this.stasis.timers);
    this.byId.set(id, pb);
    void this.stasis.channels.enqueue(
      ch,
      'play',
      async () => {
        await this.runPlayback(ch, pb);
        this.byId.delete(pb.id);
        return 0;
      },
      () => this.byId.delete(pb.id),
    );
    return pb.json();
  }

  getPlayback(id: string): PlaybackJson {
    const pb = this.byId.get(id);
    if (!pb) throw new AriError(404, 'Not Found', 'Playback not found');
    return pb.json();
  }

  playbackViews(): PlaybackJson[] {
    return [...this.byId.values()].map((p) => p.json());
  }

  /** DELETE /playbacks/{id} (stasis_app_playback_operation STOP). */
  stopPlayback(id: string): void {
    const pb = this.byId.get(id);
    if (!pb) throw new AriError(404, 'Not Found', 'Playback not found');
    switch (pb.state) {
      case 'queued':
        pb.state = 'canceled';
        return;
      case 'playing':
      case 'continuing':
      case 'paused':
        if (!pb.controllable) throw new AriError(500, 'Internal Server Error', 'Could not stop playback');
        pb.state = 'stopped';
        pb.signals.post('stop');
        return;
      default:
        return;
    }
  }

  /** POST /playbacks/{id}/control. */
  controlPlayback(id: string, operation: string | undefined): void {
    if (!operation) throw new AriError(400, 'Bad Request', 'Missing operation');
    const ops = ['unpause', 'pause', 'restart', 'reverse', 'forward'] as const;
    const op = ops.find((o) => o === operation);
    if (!op) throw new AriError(400, 'Bad Request', `Invalid operation ${operation}`);
    const pb = this.byId.get(id);
    if (!pb) throw new AriError(404, 'Not Found', 'Playback not found');
    const allowed: Record<string, readonly string[]> = {
      queued: ['restart'],
      playing: ops,
      continuing: ops,
      paused: ['pause', 'unpause'],
    };
    if (!(allowed[pb.state] ?? []).includes(op)) {
      if (pb.state !== 'playing') throw new AriError(409, 'Conflict', `Can only ${op} while media is playing`);
      throw new AriError(500, 'Internal Server Error', `Could not ${op} playback`);
    }
    if (pb.state === 'queued') return; // restart of a queued playback: nothing to do
    const noop = (pb.state === 'paused' && op === 'pause') || (pb.state !== 'paused' && op === 'unpause');
    if (noop) return;
    if (!pb.controllable) throw new AriError(500, 'Internal Server Error', `Could not ${op} playback`);
    if (op === 'pause') {
      pb.state = 'paused'; // published, but "paused" maps to no event type
    } else if (op === 'unpause') {
      pb.state = 'playing';
      this.publishPlayback(pb); // PlaybackStarted again
    }
    pb.signals.post(op);
  }

  private publishPlayback(pb: PlaybackModel): void {
    const ch = pb.channel;
    if (ch.killed) return;
    const type = { playing: 'PlaybackStarted', continuing: 'PlaybackContinuing', done: 'PlaybackFinished', failed: 'PlaybackFinished' }[
      pb.publicState() as 'playing' | 'continuing' | 'done' | 'failed'
    ];
    // "queued" and "paused" are published by Asterisk but turn into no event.
    if (!type) return;
    this.stasis.events.publish(this.stasis.events.channelTargets(ch), type, { playback: pb.json() });
  }

  /** play_on_channel(): one media after the other, first/final updates around each. */
  private async runPlayback(ch: ChannelModel, pb: PlaybackModel): Promise<void> {
    ch.playback = pb;
    try {
      for (let index = 0; index < pb.medias.length; index++) {
        pb.index = index;
        // playback_first_update: a playback stopped while queued finishes without starting.
        if (pb.state === 'canceled') {
          this.publishPlayback(pb);
          return;
        }
        pb.state = 'playing';
        this.publishPlayback(pb);
        const res = await this.playMedia(ch, pb);
        if (res === 'skip') continue;
        const hangup = ch.hangupRequested;
        const last = index === pb.medias.length - 1;
        // playback_final_update
        if (res === 0) {
          pb.state = last || hangup ? 'complete' : 'continuing';
        } else if ((pb.state as PlaybackInternalState) !== 'stopped') {
          pb.state = last || hangup ? 'failed' : 'continuing';
        }
        this.publishPlayback(pb);
        if (hangup || res === STREAM_STOP) return;
      }
    } finally {
      ch.playback = undefined;
    }
  }

  /**
   * Plays one media URI: 0 when it played to its end, -1 on failure or hang-up (the
   * stream read fails when the channel hangs up, so a hang-up mid-playback gives
   * PlaybackFinished with state "failed"), STREAM_STOP when stopped, 'skip' when Asterisk
   * gives up on the URI without a final update (unknown scheme, missing recording,
   * unparsable number: it logs an error and moves on, and no PlaybackFinished follows for
   * that URI).
   */
  private async playMedia(ch: ChannelModel, pb: PlaybackModel): Promise<number | 'skip'> {
    const media = pb.media;
    const colon = media.indexOf(':');
    const scheme = colon > 0 ? media.slice(0, colon) : '';
    const target = media.slice(colon + 1);
    let exists = true;
    switch (scheme) {
      case 'sound':
        pb.controllable = true;
        exists = await this.stasis.config.mediaExists(media);
        break;
      case 'recording':
        if (!this.stasis.recordings.stored.has(target)) return 'skip';
        pb.controllable = true;
        break;
      case 'number':
        if (!/^\s*[+-]?\d+/.test(target)) return 'skip';
        break;
      case 'digits':
      case 'characters':
        break;
      case 'tone':
        pb.controllable = true;
        break;
      default:
        return 'skip';
    }
    if (ch.hangupRequested || ch.killed) return -1;
    if (!exists) return -1;
    return this.timedPlay(pb, this.stasis.config.playbackMs(media), scheme === 'tone');
  }

  /** Waits out a media of `durationMs`, obeying stop, hang-up and the control operations. */
  private async timedPlay(pb: PlaybackModel, durationMs: number, tone: boolean): Promise<number> {
    let position = 0;
    let paused = false;
    for (;;) {
      const started = Date.now();
      const signal = await pb.signals.next(paused ? Infinity : Math.max(0, durationMs - position));
      if (!paused) position += Date.now() - started;
      switch (signal) {
        case 'timeout':
          return 0;
        case 'hangup':
          return -1;
        case 'stop':
          // ast_control_tone answers a stop with 0; a stream answers AST_CONTROL_STREAM_STOP.
          return tone ? 0 : STREAM_STOP;
        case 'pause':
          paused = true;
          break;
        case 'unpause':
          paused = false;
          break;
        case 'restart':
          position = 0;
          break;
        case 'forward':
          position = Math.min(durationMs, position + pb.skipms);
          break;
        case 'reverse':
          position = Math.max(0, position - pb.skipms);
          break;
      }
    }
  }

  /** Asterisk restarted: no playback survives. */
  wipe(): void {
    this.byId.clear();
  }
}
