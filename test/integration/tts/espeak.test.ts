// The espeak-ng engine with the real espeak-ng and sox: what comes out is real audio.
import { expect } from 'chai';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VerbFailure } from '../../../lib/flow/failure.js';
import { directoryLocator } from '../../../lib/media/locator.js';
import { MediaStore } from '../../../lib/media/store.js';
import { isTelephonyWav } from '../../../lib/media/wav.js';
import { SpeechError } from '../../../lib/tts/errors.js';
import { EspeakEngine } from '../../../lib/tts/espeak.js';
import { TtsSpeech } from '../../../lib/tts/speech.js';
import type { Voice } from '../../../lib/xml/index.js';
import { RecordingLogger, silentLogger } from '../../support/silent-logger.js';
import { readPcm, rms } from '../../support/wav.js';

const EN: Voice = { lang: 'en-US', gender: 'FEMALE', type: 'Standard' };
// Speech at espeak-ng's default amplitude measures well above 1000; silence is 0.
const SPEECH_RMS = 300;

describe('espeak-ng engine (real espeak-ng and sox)', () => {
  let dir: string;
  let engine: EspeakEngine;
  let count = 0;
  const live = () => new AbortController().signal;

  before(async () => {
    engine = await EspeakEngine.create({ log: silentLogger });
  });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tts-espeak-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function render(text: string, voice: Voice, on = engine) {
    const path = join(dir, `out-${count++}.wav`);
    await on.synthesize(text, voice, path, live());
    return { path, ...(await readPcm(path)) };
  }

  it('writes 8 kHz mono 16-bit PCM that is not silent', async () => {
    const { info, samples } = await render('Welcome to Opentact.', EN);
    expect(isTelephonyWav(info)).to.equal(true);
    expect(info).to.include({ sampleRate: 8000, channels: 1, bitsPerSample: 16, formatTag: 1 });
    expect(rms(samples)).to.be.greaterThan(SPEECH_RMS);
    expect(info.durationMs).to.be.within(500, 5000);
  });

  it('takes longer to say a longer text', async () => {
    const short = await render('Hello.', EN);
    const long = await render('Hello. Thank you for calling. Please hold while we connect your call to the next agent.', EN);
    expect(long.info.durationMs).to.be.greaterThan(short.info.durationMs * 3);
  });

  it('reads the text from stdin: a leading dash or shell characters are just text', async () => {
    const { samples, info } = await render('-v xx --stdout; $(rm -rf /) `id` "quoted" | & > /tmp/x', EN);
    expect(isTelephonyWav(info)).to.equal(true);
    expect(rms(samples)).to.be.greaterThan(SPEECH_RMS);
  });

  it('speaks with a different voice for each gender and language', async () => {
    const text = 'One two three four five.';
    const outputs = await Promise.all([
      render(text, EN),
      render(text, { ...EN, gender: 'MALE' }),
      render(text, { ...EN, lang: 'en-GB' }),
      render(text, { ...EN, lang: 'fr-FR' }),
      render(text, { ...EN, lang: 'de-DE', gender: 'MALE' }),
    ]);
    const bytes = await Promise.all(outputs.map((o) => readFile(o.path)));
    for (const [i, a] of bytes.entries()) {
      expect(rms(outputs[i]?.samples ?? new Int16Array())).to.be.greaterThan(SPEECH_RMS);
      for (const b of bytes.slice(i + 1)) expect(a.equals(b)).to.equal(false);
    }
    expect(['en-US', 'en-GB', 'fr-FR', 'de-DE', 'pt-BR', 'es-ES'].map((lang) => engine.voiceKey({ ...EN, lang }))).to.deep.equal([
      'en-us+f3',
      'en-gb+f3',
      'fr-fr+f3',
      'de+f3',
      'pt-br+f3',
      'es+f3',
    ]);
  });

  it('falls back to English for an unknown language and says so once', async () => {
    const log = new RecordingLogger();
    const logged = await EspeakEngine.create({ log });
    const fallback = await render('Hello there.', { ...EN, lang: 'qq-ZZ' }, logged);
    await render('Again.', { ...EN, lang: 'qq-ZZ' }, logged);
    const english = await render('Hello there.', EN, logged);
    expect((await readFile(fallback.path)).equals(await readFile(english.path))).to.equal(true);
    const notes = log.entries.filter((e) => e.msg?.includes('"qq-ZZ"'));
    expect(notes).to.have.length(1);
    expect(notes[0]?.msg).to.equal('espeak-ng has no voice for "qq-ZZ"; using en-us');
  });

  it('kills espeak-ng and sox at the time limit and leaves nothing in the store', async () => {
    // A stand-in espeak-ng that lists the real voices but never finishes speaking.
    const pidFile = join(dir, 'pid');
    const fake = join(dir, 'slow-espeak');
    await writeFile(fake, `#!/bin/sh\ncase "$1" in --voices*) exec espeak-ng "$@";; esac\necho $$ > '${pidFile}'\nexec sleep 30\n`);
    await chmod(fake, 0o755);
    const slow = await EspeakEngine.create({ log: silentLogger, espeak: fake });
    const storeDir = join(dir, 'store');
    const store = await MediaStore.open({ dir: storeDir, maxBytes: 1_000_000, log: silentLogger });
    const speech = new TtsSpeech({ engine: slow, store, locator: directoryLocator(storeDir), renderTimeoutMs: 300, log: silentLogger });
    const started = Date.now();
    const error = await speech.render('Never said', EN, live()).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(VerbFailure).and.include({ code: 'speech', reason: 'speech took longer than 300 ms' });
    expect(Date.now() - started).to.be.below(2000);
    const pid = Number(await readFile(pidFile, 'utf8'));
    await waitUntilGone(pid);
    await waitUntil(async () => (await readdir(storeDir)).length === 0);
  });

  it('names the install command when espeak-ng or sox is missing', async () => {
    for (const options of [{ espeak: '/nonexistent/espeak-ng' }, { sox: '/nonexistent/sox' }]) {
      const error = await EspeakEngine.create({ log: silentLogger, ...options }).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(SpeechError).and.include({ code: 'engine_missing', reason: 'the speech engine is not installed' });
      expect((error as Error).message).to.include('apt-get install -y espeak-ng sox');
    }
  });
});

async function waitUntilGone(pid: number): Promise<void> {
  await waitUntil(async () => {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  });
}

async function waitUntil(condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not reached within 5 s');
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
