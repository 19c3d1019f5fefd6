// Audio inputs generated with sox in a temporary directory, and measurements of the
// 16-bit outputs the engine produces.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readWavFile } from '../../../lib/media/wav.js';

export interface ToneSpec {
  readonly type: 'wav' | 'mp3';
  readonly rate: number;
  readonly channels: number;
  /** Sample size for wav (8 is unsigned, as WAV has it); ignored for mp3. */
  readonly bits?: number;
  readonly seconds: number;
  readonly frequency?: number;
}

function sox(args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('sox', args, { timeout: 10_000 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`sox ${args.join(' ')}: ${stderr || error.message}`));
      else resolve();
    });
  });
}

export class AudioDir {
  private constructor(readonly dir: string) {}

  static async create(): Promise<AudioDir> {
    return new AudioDir(await mkdtemp(join(tmpdir(), 'media-test-')));
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  /** A sine tone at half scale; the file name carries no extension on purpose. */
  async tone(name: string, spec: ToneSpec): Promise<string> {
    const path = this.path(name);
    const bits = spec.type === 'wav' ? ['-b', String(spec.bits ?? 16)] : ['-C', '64'];
    const synth = ['synth', String(spec.seconds), 'sine', String(spec.frequency ?? 440), 'vol', '0.5'];
    await sox(['-n', '-r', String(spec.rate), '-c', String(spec.channels), ...bits, '-t', spec.type, path, ...synth]);
    return path;
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Root mean square of a 16-bit PCM WAV's samples, 0…1 of full scale. */
export async function rms16(path: string): Promise<number> {
  const info = await readWavFile(path);
  if (info.bitsPerSample !== 16) throw new Error(`${path} is not 16-bit`);
  const bytes = await readFile(path);
  const data = bytes.subarray(info.dataOffset, info.dataOffset + info.dataBytes);
  let sum = 0;
  const count = Math.floor(data.length / 2);
  for (let i = 0; i < count; i++) {
    const sample = data.readInt16LE(i * 2) / 32768;
    sum += sample * sample;
  }
  return count === 0 ? 0 : Math.sqrt(sum / count);
}
