// Recordings (res/ari/resource_recordings.c, res/res_stasis_recording.c): live recordings,
// which run on the channel's command queue, and stored recordings with their files.
//
// Stored recording files of the fake Asterisk, and what its recordings sound like. What a
// real Asterisk 22.10.1 does (measured through test:asterisk, see ../README.md): the file
// holds the audio the channel sent — a caller sending nothing (a Local channel whose other
// half is silent) gives a header-only 44-byte WAV and `duration` 0; 3 s of tone give 3 s of
// 8 kHz 16-bit mono and `duration` 3. The fake's caller stands for a phone, which always
// sends audio: its file lasts the time recorded, a tone while it talked, then silence. `GET /recordings/stored/{name}/file` answers it as
// `audio/wav`; an unknown name is 404 {"message":"Recording not found"}.
import { pcmWav, tone } from '../../wav.js';
import type { LiveRecordingJson, RecordingState, StoredRecordingJson } from '../models.js';
import type { Stasis } from '../stasis.js';
import { Signals, type Timers } from '../waiter.js';
import { AriError } from './ari-error.js';
import type { ChannelModel } from './channels.js';

/** How long Asterisk's `beep` sound plays before RecordingStarted (beep=true), in Asterisk ms. */
export const BEEP_MS = 250;

/**
 * The WAV a recording of `ms` leaves, of which the caller talked `talkedMs` (a 440 Hz tone
 * stands for the voice, then silence).
 */
export function recordingWav(ms: number, talkedMs = 0): Buffer {
  const total = Math.max(0, Math.floor(ms));
  const talked = Math.min(total, Math.max(0, Math.floor(talkedMs)));
  return pcmWav(Buffer.concat([tone(talked, 440), tone(total - talked, 440, 0)]), 8000);
}

/** The files behind the stored recordings, by name. */
export class RecordingFiles {
  private readonly files = new Map<string, Buffer>();

  set(name: string, wav: Buffer): void {
    this.files.set(name, wav);
  }

  get(name: string): Buffer | undefined {
    return this.files.get(name);
  }

  delete(name: string): void {
    this.files.delete(name);
  }
}

/** Formats Asterisk's stock format modules register (ast_get_format_for_file_ext). */
const KNOWN_FORMATS = new Set(['wav', 'WAV', 'wav49', 'wav16', 'gsm', 'ulaw', 'ul', 'mu', 'pcm', 'alaw', 'al', 'alw', 'sln', 'raw', 'sln16', 'g722', 'g726', 'g729', 'ilbc', 'ogg', 'vox']);

type RecordingSignal = 'stop' | 'cancel' | 'hangup' | 'terminate' | 'talk' | 'silent';

export class RecordingModel {
  state: RecordingState = 'queued';
  durationSeconds: number | undefined;
  /** Seconds of the recording with sound in it (only reported with maxSilenceSeconds, as Asterisk does). */
  talkingSeconds: number | undefined;
  readonly signals: Signals<RecordingSignal>;

  constructor(
    readonly name: string,
    readonly format: string,
    readonly channel: ChannelModel,
    readonly maxDurationSeconds: number,
    readonly maxSilenceSeconds: number,
    readonly terminateOn: string,
    timers: Timers,
    readonly beep = false,
  ) {
    this.signals = new Signals(timers);
  }

  json(cause?: string): LiveRecordingJson {
    return {
      name: this.name,
      format: this.format,
      state: this.state,
      target_uri: `channel:${this.channel.id}`,
      ...(this.durationSeconds !== undefined ? { duration: this.durationSeconds } : {}),
      ...(this.durationSeconds !== undefined && this.talkingSeconds !== undefined && this.maxSilenceSeconds > 0
        ? { talking_duration: this.talkingSeconds, silence_duration: this.durationSeconds - this.talkingSeconds }
        : {}),
      ...(cause !== undefined ? { cause } : {}),
    };
  }
}

export class Recordings {
  private readonly live = new Map<string, RecordingModel>();
  readonly stored = new Map<string, StoredRecordingJson>();
  /** The files of the stored recordings (GET /recordings/stored/{name}/file). */
  readonly files = new RecordingFiles();

  constructor(private readonly stasis: Stasis) {}

  record(
    channelId: string,
    args: { name?: string; format?: string; maxDurationSeconds?: number; maxSilenceSeconds?: number; ifExists?: string; beep?: boolean; terminateOn?: string },
  ): LiveRecordingJson {
    const maxDuration = args.maxDurationSeconds ?? 0;
    const maxSilence = args.maxSilenceSeconds ?? 0;
    if (maxDuration < 0) throw new AriError(400, 'Bad Request', 'max_duration_seconds cannot be negative');
    if (maxSilence < 0) throw new AriError(400, 'Bad Request', 'max_silence_seconds cannot be negative');
    const ch = this.stasis.channels.control(channelId);
    const terminateOn = (args.terminateOn ?? 'none').toLowerCase();
    if (!['none', 'any', '#', '*'].includes(terminateOn)) throw new AriError(400, 'Bad Request', 'terminateOn invalid');
    const ifExists = (args.ifExists ?? 'fail').toLowerCase();
    if (!['fail', 'overwrite', 'append'].includes(ifExists)) throw new AriError(400, 'Bad Request', 'ifExists invalid');
    const format = args.format ?? '';
    if (!KNOWN_FORMATS.has(format)) throw new AriError(422, 'Unprocessable Entity', 'specified format is unknown on this system');
    const name = args.name ?? '';
    if (!name) throw new AriError(500, 'Internal Server Error', 'Error parsing request');
    if (name.split('/').includes('..')) throw new AriError(400, 'Bad Request', 'Recording name invalid');
    if ((ifExists === 'fail' && this.stored.has(name)) || this.live.has(name)) {
      throw new AriError(409, 'Conflict', `Recording '${name}' already exists and can not be overwritten`);
    }
    const rec = new RecordingModel(name, format, ch, maxDuration, maxSilence, terminateOn, this.stasis.timers, args.beep === true);
    this.live.set(name, rec);
    void this.stasis.channels.enqueue(
      ch,
      'record',
      async () => {
        await this.runRecording(ch, rec);
        this.live.delete(name);
        return 0;
      },
      () => this.live.delete(name),
    );
    return rec.json();
  }

  private publishRecording(rec: RecordingModel, cause?: string): void {
    const ch = rec.channel;
    if (ch.killed) return;
    const type = { recording: 'RecordingStarted', done: 'RecordingFinished', canceled: 'RecordingFinished', failed: 'RecordingFailed' }[
      rec.state as 'recording' | 'done' | 'canceled' | 'failed'
    ];
    if (!type) return;
    this.stasis.events.publish(this.stasis.events.channelTargets(ch), type, { recording: rec.json(cause) });
  }

  /** record_file(): answer if needed, RecordingStarted, record until an end, RecordingFinished. */
  private async runRecording(ch: ChannelModel, rec: RecordingModel): Promise<void> {
    if (ch.bridge) {
      rec.state = 'failed';
      this.publishRecording(rec, 'Cannot record channel while in bridge');
      return;
    }
    if (ch.state !== 'Up') this.stasis.channels.setState(ch, 'Up'); // ast_auto_answer
    if (rec.beep) {
      // Asterisk 22 plays its `beep` sound first; without that file (an image with no
      // sounds) the recording ends at once: RecordingStarted, RecordingFinished without a
      // duration, nothing stored.
      if (!(await this.stasis.config.mediaExists('sound:beep'))) {
        rec.state = 'recording';
        this.publishRecording(rec);
        rec.state = 'done';
        this.publishRecording(rec);
        return;
      }
      const beep = await rec.signals.next((BEEP_MS * this.stasis.config.secondMs) / 1000);
      if (beep === 'hangup') return;
    }
    ch.recording = rec;
    rec.state = 'recording';
    this.publishRecording(rec);
    // ast_play_and_record_full ends on maxDuration, on maxSilence seconds of silence (the
    // fake caller is silent unless setCallerTalking() says otherwise), on a terminating
    // DTMF, on stop/cancel, or when the channel hangs up.
    const secondMs = this.stasis.config.secondMs;
    const started = Date.now();
    const deadline = rec.maxDurationSeconds > 0 ? started + rec.maxDurationSeconds * secondMs : Infinity;
    const silenceLimit = rec.maxSilenceSeconds > 0 ? rec.maxSilenceSeconds * secondMs : Infinity;
    let talking = ch.talking;
    let quietSince = started;
    let talkedMs = 0;
    let signal: RecordingSignal | 'timeout';
    let limitAt = Infinity;
    for (;;) {
      const now = Date.now();
      const silenceEnd = talking ? Infinity : quietSince + silenceLimit;
      limitAt = Math.min(deadline, silenceEnd);
      signal = await rec.signals.next(Math.max(0, limitAt - now));
      if (signal === 'talk' || signal === 'silent') {
        const at = Date.now();
        if (signal === 'talk' && !talking) {
          talking = true;
          quietSince = at;
        } else if (signal === 'silent' && talking) {
          talking = false;
          talkedMs += at - quietSince;
          quietSince = at;
        }
        continue;
      }
      break;
    }
    // A timer may fire a millisecond before its time: a limit that was reached was reached in full.
    const ended = signal === 'timeout' ? Math.max(Date.now(), limitAt) : Date.now();
    if (talking) talkedMs += ended - quietSince;
    ch.recording = undefined;
    // A fake caller stands for a phone, which sends audio all the time (silence included):
    // the duration is the time recorded. (A Local channel whose other half sends nothing
    // records 0 s and a header-only file on Asterisk: see ../README.md.)
    rec.durationSeconds = Math.floor((ended - started) / secondMs);
    rec.talkingSeconds = Math.min(rec.durationSeconds, Math.floor(talkedMs / secondMs));
    if (signal === 'cancel') {
      // recording_cancel deletes the file too.
      rec.state = 'canceled';
      this.stored.delete(rec.name);
      this.files.delete(rec.name);
    } else {
      rec.state = 'done';
      this.stored.set(rec.name, { name: rec.name, format: rec.format });
      this.files.set(rec.name, recordingWav(((ended - started) * 1000) / secondMs, (talkedMs * 1000) / secondMs));
    }
    this.publishRecording(rec);
  }

  getLiveRecording(name: string): LiveRecordingJson {
    const rec = this.live.get(name);
    if (!rec) throw new AriError(404, 'Not Found', 'Recording not found');
    return rec.json();
  }

  /** POST /recordings/live/{name}/stop and DELETE /recordings/live/{name}. */
  controlRecording(name: string, operation: 'stop' | 'cancel'): void {
    const rec = this.live.get(name);
    if (!rec) throw new AriError(404, 'Not Found', 'Recording not found');
    if (rec.state === 'queued') {
      // recording_disregard: it will not run.
      rec.state = 'canceled';
      const ch = rec.channel;
      const index = ch.queue.findIndex((c) => c.name === 'record');
      if (index >= 0) ch.queue.splice(index, 1)[0]?.cancel();
      return;
    }
    if (rec.state !== 'recording' && rec.state !== 'paused') throw new AriError(409, 'Conflict', 'Recording not in session');
    rec.signals.post(operation);
  }

  getStoredRecording(name: string): StoredRecordingJson {
    const rec = this.stored.get(name);
    if (!rec) throw new AriError(404, 'Not Found', 'Recording not found');
    return { ...rec };
  }

  /** GET /recordings/stored/{name}/file: the WAV (a recording added by hand has an empty one). */
  storedRecordingFile(name: string): Buffer {
    if (!this.stored.has(name)) throw new AriError(404, 'Not Found', 'Recording not found');
    return this.files.get(name) ?? recordingWav(0);
  }

  deleteStoredRecording(name: string): void {
    this.files.delete(name);
    if (!this.stored.delete(name)) throw new AriError(404, 'Not Found', 'Recording not found');
  }

  /** Asterisk restarted: live recordings are gone; stored ones stay (they are files). */
  wipe(): void {
    this.live.clear();
  }
}
