// Audio from a speech service → the one format the store holds: a plain 44-byte-header
// WAV of 8 kHz mono 16-bit PCM.
import { writeFile } from 'node:fs/promises';
import { isTelephonyWav, parseWav, WavError } from '../media/wav.js';
import { SpeechError } from './errors.js';
import { runPipeline } from './pipeline.js';

export const TELEPHONY_RATE = 8000;

/** A canonical WAV around 8 kHz mono 16-bit little-endian samples. */
export function telephonyWav(samples: Buffer): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(36 + samples.length, 4);
  header.write('WAVEfmt ', 8, 'latin1');
  header.writeUInt32LE(16, 16); // fmt chunk size
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(TELEPHONY_RATE, 24);
  header.writeUInt32LE(TELEPHONY_RATE * 2, 28); // byte rate
  header.writeUInt16LE(2, 32); // block align
  header.writeUInt16LE(16, 34); // bits per sample
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(samples.length, 40);
  return Buffer.concat([header, samples]);
}

export interface NormaliseOptions {
  readonly signal: AbortSignal;
  /** The sox executable, for audio in another format than asked for. */
  readonly sox?: string;
}

/**
 * Writes `audio` at `outPath` as a canonical telephony WAV. A WAV in that format is
 * re-wrapped (extra chunks dropped, sizes made exact); a WAV in another format is
 * resampled with sox; bytes without a RIFF header are taken for the raw 8 kHz samples
 * that were asked for.
 * @throws SpeechError 'bad_audio' (or the pipeline's errors when sox runs)
 */
export async function writeTelephonyWav(audio: Buffer, outPath: string, options: NormaliseOptions): Promise<void> {
  if (audio.length === 0) throw new SpeechError('bad_audio', 'the audio is empty');
  if (audio.subarray(0, 4).toString('latin1') !== 'RIFF') {
    await writeFile(outPath, telephonyWav(evenLength(audio)));
    return;
  }
  let info;
  try {
    info = await parseWav(audio);
  } catch (error) {
    const detail = error instanceof WavError ? error.message : String(error);
    throw new SpeechError('bad_audio', `the WAV audio cannot be read: ${detail}`, { cause: error });
  }
  if (info.dataBytes === 0) throw new SpeechError('bad_audio', 'the WAV audio holds no samples');
  if (isTelephonyWav(info)) {
    await writeFile(outPath, telephonyWav(audio.subarray(info.dataOffset, info.dataOffset + info.dataBytes)));
    return;
  }
  const resample = ['--no-glob', '-D', '-V1', '-t', 'wav', '-', '-t', 'wav', '-e', 'signed-integer', '-b', '16', '-c', '1', '-r', String(TELEPHONY_RATE), outPath];
  await runPipeline([{ command: options.sox ?? 'sox', args: resample }], audio, options.signal);
}

function evenLength(samples: Buffer): Buffer {
  return samples.length % 2 === 0 ? samples : samples.subarray(0, samples.length - 1);
}
