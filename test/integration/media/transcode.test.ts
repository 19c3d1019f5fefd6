import { chmod, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { expect } from 'chai';
import { probeSox } from '../../../lib/media/sox-probe.js';
import { TranscodeError, transcodeToTelephony, type TranscodeErrorCode } from '../../../lib/media/transcode.js';
import { readWavFile } from '../../../lib/media/wav.js';
import { AudioDir, rms16, type ToneSpec } from './audio-files.js';

async function transcodeError(promise: Promise<unknown>, code: TranscodeErrorCode): Promise<TranscodeError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TranscodeError) {
      expect(error.code, error.message).to.equal(code);
      return error;
    }
    throw error;
  }
  expect.fail(`expected a TranscodeError (${code})`);
}

describe('transcoding to 8 kHz mono 16-bit WAV (sox)', function () {
  let audio: AudioDir;
  before(async () => {
    audio = await AudioDir.create();
  });
  after(async () => audio.remove());

  const inputs: readonly (ToneSpec & { label: string })[] = [
    { label: 'wav 44.1 kHz stereo 16-bit', type: 'wav', rate: 44100, channels: 2, bits: 16, seconds: 1.5 },
    { label: 'wav 8 kHz mono 8-bit', type: 'wav', rate: 8000, channels: 1, bits: 8, seconds: 1 },
    { label: 'wav 48 kHz mono 24-bit (WAVE_FORMAT_EXTENSIBLE)', type: 'wav', rate: 48000, channels: 1, bits: 24, seconds: 0.8 },
    { label: 'mp3 22.05 kHz mono', type: 'mp3', rate: 22050, channels: 1, seconds: 1.2 },
    { label: 'mp3 44.1 kHz stereo', type: 'mp3', rate: 44100, channels: 2, seconds: 1 },
  ];
  inputs.forEach((spec, index) => {
    it(`converts ${spec.label}: rate, channels, size, duration and sound`, async () => {
      const input = await audio.tone(`in-${index}`, spec);
      const output = audio.path(`out-${index}`);
      const info = await transcodeToTelephony(input, output, { timeoutMs: 10_000 });
      expect(info).to.include({ formatTag: 1, sampleRate: 8000, channels: 1, bitsPerSample: 16, blockAlign: 2 });
      expect(await readWavFile(output)).to.deep.equal(info);
      // mp3 encoders add a few ms of padding at both ends.
      expect(info.durationMs).to.be.closeTo(spec.seconds * 1000, spec.type === 'mp3' ? 120 : 2);
      // A half-scale sine has an RMS of 0.5/√2 ≈ 0.35.
      expect(await rms16(output)).to.be.within(0.25, 0.4);
    });
  });

  it('refuses garbage without running sox on it, and leaves no output', async () => {
    const input = audio.path('garbage');
    await writeFile(input, '<html><body>Not found</body></html>');
    const error = await transcodeError(transcodeToTelephony(input, audio.path('garbage-out'), { timeoutMs: 5000 }), 'unsupported');
    expect(error.reason).to.equal('the audio is not a wav or mp3 file');
    expect(existsSync(audio.path('garbage-out'))).to.equal(false);
  });

  it('reports what sox says about a corrupt WAV', async () => {
    const input = audio.path('corrupt.wav');
    await writeFile(input, Buffer.concat([Buffer.from('RIFF\x10\x00\x00\x00WAVEjunk', 'latin1'), Buffer.alloc(32, 7)]));
    const error = await transcodeError(transcodeToTelephony(input, audio.path('corrupt-out'), { timeoutMs: 5000 }), 'invalid_audio');
    expect(error.message).to.match(/sox exited with 2 on wav input: .*FAIL/);
    expect(existsSync(audio.path('corrupt-out'))).to.equal(false);
  });

  it('decodes what the Content-Type calls mp3 when the bytes do not say (padding before the first frame)', async () => {
    const mp3 = await readFile(await audio.tone('padded-src', { type: 'mp3', rate: 22050, channels: 1, seconds: 1 }));
    const input = audio.path('padded');
    await writeFile(input, Buffer.concat([Buffer.alloc(300), mp3]));
    const info = await transcodeToTelephony(input, audio.path('padded-out'), { contentType: 'audio/mpeg', timeoutMs: 5000 });
    expect(info.durationMs).to.be.closeTo(1000, 120);
    await transcodeError(transcodeToTelephony(input, audio.path('padded-out2'), { timeoutMs: 5000 }), 'unsupported');
  });

  it('fails cleanly on garbage served as mp3', async () => {
    const input = audio.path('mislabelled');
    await writeFile(input, Buffer.alloc(4000, 0x41));
    await transcodeError(transcodeToTelephony(input, audio.path('mislabelled-out'), { contentType: 'audio/mpeg', timeoutMs: 5000 }), 'invalid_audio');
  });

  it('says how to install sox when it is missing', async () => {
    const input = await audio.tone('for-missing', { type: 'wav', rate: 8000, channels: 1, seconds: 0.1 });
    const error = await transcodeError(
      transcodeToTelephony(input, audio.path('missing-out'), { timeoutMs: 5000, sox: '/nonexistent/sox' }),
      'sox_missing',
    );
    expect(error.message).to.contain('apt-get install -y sox libsox-fmt-mp3');
    expect(error.reason).to.equal('audio conversion is not available');
  });

  it('says how to install mp3 support when sox has none', async () => {
    // A stand-in for sox built without libsox-fmt-mp3: it answers as that sox does.
    const fake = audio.path('sox-without-mp3');
    await writeFile(fake, "#!/bin/sh\necho \"sox FAIL formats: no handler for given file type \\`mp3'\" >&2\nexit 2\n");
    await chmod(fake, 0o755);
    const input = await audio.tone('for-no-mp3', { type: 'mp3', rate: 8000, channels: 1, seconds: 0.2 });
    const error = await transcodeError(transcodeToTelephony(input, audio.path('no-mp3-out'), { timeoutMs: 5000, sox: fake }), 'mp3_missing');
    expect(error.message).to.contain('apt-get install -y sox libsox-fmt-mp3');
  });

  it('kills sox at the time limit and when cancelled', async () => {
    const slow = audio.path('slow-sox');
    await writeFile(slow, '#!/bin/sh\nexec sleep 30\n');
    await chmod(slow, 0o755);
    const input = await audio.tone('for-slow', { type: 'wav', rate: 8000, channels: 1, seconds: 0.1 });
    const started = Date.now();
    await transcodeError(transcodeToTelephony(input, audio.path('slow-out'), { timeoutMs: 200, sox: slow }), 'timeout');
    const controller = new AbortController();
    const cancelled = transcodeToTelephony(input, audio.path('slow-out'), { timeoutMs: 10_000, sox: slow, signal: controller.signal });
    setImmediate(() => controller.abort());
    await transcodeError(cancelled, 'cancelled');
    expect(Date.now() - started).to.be.below(3000);
  });

  it('probes sox and its mp3 support', async () => {
    expect(await probeSox()).to.deep.include({ mp3: true });
    expect((await probeSox()).version).to.match(/^v14\./);
    await transcodeError(probeSox('/nonexistent/sox'), 'sox_missing');
  });
});
