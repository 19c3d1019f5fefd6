// Stored recording files of the fake Asterisk, and what its recordings sound like. What a
// real Asterisk 22.10.1 does (measured through test:asterisk, see README.md): the file
// holds the audio the channel sent — a caller sending nothing (a Local channel whose other
// half is silent) gives a header-only 44-byte WAV and `duration` 0; 3 s of tone give 3 s of
// 8 kHz 16-bit mono and `duration` 3. The fake's caller stands for a phone, which always
// sends audio: its file lasts the time recorded, a tone while it talked, then silence. `GET /recordings/stored/{name}/file` answers it as
// `audio/wav`; an unknown name is 404 {"message":"Recording not found"}.
import { pcmWav, tone } from '../wav.js';

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
