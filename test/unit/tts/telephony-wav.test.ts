import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTelephonyWav, parseWav } from '../../../lib/media/wav.js';
import { SpeechError } from '../../../lib/tts/errors.js';
import { telephonyWav, writeTelephonyWav } from '../../../lib/tts/telephony-wav.js';
import { readPcm, rms, tone } from '../../support/wav.js';

/** A 16-bit mono PCM WAV at any rate, with an optional LIST chunk before `data`. */
function wav(samples: Buffer, rate: number, withList = false): Buffer {
  const fmt = Buffer.alloc(24);
  fmt.write('fmt ', 0, 'latin1');
  fmt.writeUInt32LE(16, 4);
  fmt.writeUInt16LE(1, 8);
  fmt.writeUInt16LE(1, 10);
  fmt.writeUInt32LE(rate, 12);
  fmt.writeUInt32LE(rate * 2, 16);
  fmt.writeUInt16LE(2, 20);
  fmt.writeUInt16LE(16, 22);
  const list = Buffer.from('LIST\x05\x00\x00\x00INFOx\x00', 'latin1');
  const data = Buffer.alloc(8);
  data.write('data', 0, 'latin1');
  data.writeUInt32LE(samples.length, 4);
  const body = Buffer.concat([Buffer.from('WAVE', 'latin1'), fmt, ...(withList ? [list] : []), data, samples]);
  const riff = Buffer.alloc(8);
  riff.write('RIFF', 0, 'latin1');
  riff.writeUInt32LE(body.length, 4);
  return Buffer.concat([riff, body]);
}

/** `ms` of a tone at `rate` Hz. */
function toneAt(rate: number, ms: number): Buffer {
  const count = Math.round((ms / 1000) * rate);
  const out = Buffer.alloc(count * 2);
  for (let i = 0; i < count; i++) out.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate)), i * 2);
  return out;
}

describe('telephony WAV', () => {
  let dir: string;
  const signal = new AbortController().signal;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tts-wav-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a canonical 8 kHz mono 16-bit header', async () => {
    const samples = tone(250);
    const bytes = telephonyWav(samples);
    expect(bytes.length).to.equal(44 + samples.length);
    const info = await parseWav(bytes);
    expect(isTelephonyWav(info)).to.equal(true);
    expect(info).to.include({ dataOffset: 44, dataBytes: samples.length, durationMs: 250 });
  });

  it('re-wraps a telephony WAV with extra chunks, keeping the samples', async () => {
    const samples = tone(100);
    const out = join(dir, 'a.wav');
    await writeTelephonyWav(wav(samples, 8000, true), out, { signal });
    expect(await readFile(out)).to.deep.equal(telephonyWav(samples));
  });

  it('takes headerless bytes for the raw samples asked for (an odd last byte dropped)', async () => {
    const samples = tone(100);
    const out = join(dir, 'raw.wav');
    await writeTelephonyWav(Buffer.concat([samples, Buffer.from([1])]), out, { signal });
    expect(await readFile(out)).to.deep.equal(telephonyWav(samples));
  });

  it('resamples a WAV at another rate with sox', async () => {
    const out = join(dir, 'resampled.wav');
    await writeTelephonyWav(wav(toneAt(24000, 500), 24000), out, { signal });
    const { info, samples } = await readPcm(out);
    expect(isTelephonyWav(info)).to.equal(true);
    expect(info.durationMs).to.be.closeTo(500, 5);
    expect(rms(samples)).to.be.greaterThan(3000);
  });

  it('refuses empty audio, unreadable WAV and WAV without samples', async () => {
    const out = join(dir, 'bad.wav');
    for (const audio of [Buffer.alloc(0), Buffer.from('RIFF....WAVEjunk'), wav(Buffer.alloc(0), 8000)]) {
      const error = await writeTelephonyWav(audio, out, { signal }).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(SpeechError).with.property('code', 'bad_audio');
    }
  });
});
