// Reads the samples of a 16-bit PCM WAV for assertions on real audio: loudness and length.
import { readFile } from 'node:fs/promises';
import { parseWav, type WavInfo } from '../../lib/media/wav.js';

export interface PcmAudio {
  readonly info: WavInfo;
  readonly samples: Int16Array;
}

export async function readPcm(path: string): Promise<PcmAudio> {
  const bytes = await readFile(path);
  const info = await parseWav(bytes);
  if (info.bitsPerSample !== 16) throw new Error(`${path}: ${info.bitsPerSample}-bit, 16 expected`);
  const data = bytes.subarray(info.dataOffset, info.dataOffset + info.dataBytes);
  const samples = new Int16Array(data.length / 2);
  for (let i = 0; i < samples.length; i++) samples[i] = data.readInt16LE(i * 2);
  return { info, samples };
}

/** Root mean square of the samples, 0 (silence) to 32768 (full scale). */
export function rms(samples: Int16Array): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (const s of samples) sum += s * s;
  return Math.sqrt(sum / samples.length);
}

/** `ms` of a sine tone at 8 kHz, as 16-bit little-endian samples. */
export function tone(ms: number, hz = 440, amplitude = 8000): Buffer {
  const count = Math.round((ms / 1000) * 8000);
  const out = Buffer.alloc(count * 2);
  for (let i = 0; i < count; i++) out.writeInt16LE(Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / 8000)), i * 2);
  return out;
}

/** A 16-bit mono PCM WAV at any rate, optionally with a LIST chunk before `data`. */
export function pcmWav(samples: Buffer, rate: number, options: { readonly listChunk?: boolean } = {}): Buffer {
  const fmt = Buffer.alloc(24);
  fmt.write('fmt ', 0, 'latin1');
  fmt.writeUInt32LE(16, 4);
  fmt.writeUInt16LE(1, 8); // PCM
  fmt.writeUInt16LE(1, 10); // mono
  fmt.writeUInt32LE(rate, 12);
  fmt.writeUInt32LE(rate * 2, 16);
  fmt.writeUInt16LE(2, 20);
  fmt.writeUInt16LE(16, 22);
  const list = Buffer.from('LIST\x05\x00\x00\x00INFOx\x00', 'latin1'); // odd length, padded
  const data = Buffer.alloc(8);
  data.write('data', 0, 'latin1');
  data.writeUInt32LE(samples.length, 4);
  const body = Buffer.concat([Buffer.from('WAVE', 'latin1'), fmt, ...(options.listChunk ? [list] : []), data, samples]);
  const riff = Buffer.alloc(8);
  riff.write('RIFF', 0, 'latin1');
  riff.writeUInt32LE(body.length, 4);
  return Buffer.concat([riff, body]);
}

/** `ms` of a 440 Hz tone at `rate` Hz, as 16-bit little-endian samples. */
export function toneAt(rate: number, ms: number): Buffer {
  const count = Math.round((ms / 1000) * rate);
  const out = Buffer.alloc(count * 2);
  for (let i = 0; i < count; i++) out.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate)), i * 2);
  return out;
}
