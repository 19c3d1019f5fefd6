import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTelephonyWav, parseWav } from '../../../lib/media/wav.js';
import { SpeechError } from '../../../lib/tts/errors.js';
import { telephonyWav, writeTelephonyWav } from '../../../lib/tts/telephony-wav.js';
import { pcmWav, readPcm, rms, tone, toneAt } from '../../support/wav.js';

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
    await writeTelephonyWav(pcmWav(samples, 8000, { listChunk: true }), out, { signal });
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
    await writeTelephonyWav(pcmWav(toneAt(24000, 500), 24000), out, { signal });
    const { info, samples } = await readPcm(out);
    expect(isTelephonyWav(info)).to.equal(true);
    expect(info.durationMs).to.be.closeTo(500, 5);
    expect(rms(samples)).to.be.greaterThan(3000);
  });

  it('refuses empty audio, unreadable WAV and WAV without samples', async () => {
    const out = join(dir, 'bad.wav');
    for (const audio of [Buffer.alloc(0), Buffer.from('RIFF....WAVEjunk'), pcmWav(Buffer.alloc(0), 8000)]) {
      const error = await writeTelephonyWav(audio, out, { signal }).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(SpeechError).with.property('code', 'bad_audio');
    }
  });
});
