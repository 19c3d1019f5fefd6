import { expect } from 'chai';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VerbFailure } from '../../../lib/flow/failure.js';
import type { MediaRef } from '../../../lib/flow/ports.js';
import { httpLocator } from '../../../lib/media/locator.js';
import { MediaStore } from '../../../lib/media/store.js';
import { isTelephonyWav, readWavFile } from '../../../lib/media/wav.js';
import type { SpeechEngine } from '../../../lib/tts/engine.js';
import { SpeechError } from '../../../lib/tts/errors.js';
import { TtsSpeech } from '../../../lib/tts/speech.js';
import { telephonyWav } from '../../../lib/tts/telephony-wav.js';
import { parseDocument, type Voice } from '../../../lib/xml/index.js';
import { RecordingLogger } from '../../support/silent-logger.js';
import { tone } from '../../support/wav.js';

type Behaviour = 'ok' | 'fail' | 'hang' | 'gated';

/** An engine that writes a tone, fails, hangs until aborted, or waits for `release()`. */
class FakeEngine implements SpeechEngine {
  readonly name = 'fake';
  behaviour: Behaviour = 'ok';
  readonly texts: string[] = [];
  running = 0;
  peak = 0;
  readonly aborts: AbortSignal[] = [];
  #release: (() => void)[] = [];

  voiceKey(voice: Voice): string {
    return `${voice.lang.toLowerCase()}/${voice.gender}`;
  }

  async synthesize(text: string, _voice: Voice, outPath: string, signal: AbortSignal): Promise<void> {
    this.texts.push(text);
    this.running++;
    this.peak = Math.max(this.peak, this.running);
    try {
      await writeFile(outPath, 'partial');
      if (this.behaviour === 'fail') throw new SpeechError('engine_failed', 'espeak-ng exited with 1');
      if (this.behaviour === 'hang') {
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
        this.aborts.push(signal);
        throw new SpeechError('cancelled', 'killed');
      }
      if (this.behaviour === 'gated') await new Promise<void>((resolve) => this.#release.push(resolve));
      await writeFile(outPath, telephonyWav(tone(40 + text.length * 10)));
    } finally {
      this.running--;
    }
  }

  release(): void {
    for (const resolve of this.#release.splice(0)) resolve();
  }

  /** Resolves once `count` renderings are waiting for `release()`. */
  async waitForGated(count: number): Promise<void> {
    while (this.#release.length < count) await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

const EN: Voice = { lang: 'en-US', gender: 'FEMALE', type: 'Standard' };
const BASE = 'http://app.test:8080';

function uriOf(ref: MediaRef): string {
  if (ref.kind !== 'sound') throw new Error(`expected a sound, got ${ref.kind}`);
  return ref.uri;
}

function idOf(ref: MediaRef): string {
  const id = /\/media\/([0-9a-f]{64})\.wav$/.exec(uriOf(ref))?.[1];
  if (!id) throw new Error(`no id in ${uriOf(ref)}`);
  return id;
}

describe('TtsSpeech', () => {
  let dir: string;
  let store: MediaStore;
  let engine: FakeEngine;
  let log: RecordingLogger;
  const live = () => new AbortController().signal;

  const speechWith = (renderTimeoutMs = 5000, prerenderConcurrency = 2) =>
    new TtsSpeech({ engine, store, locator: httpLocator(BASE), renderTimeoutMs, log, prerenderConcurrency });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tts-speech-'));
    log = new RecordingLogger();
    store = await MediaStore.open({ dir, maxBytes: 10_000_000, log });
    engine = new FakeEngine();
  });

  afterEach(async () => {
    engine.release();
    await rm(dir, { recursive: true, force: true });
  });

  it('renders on a miss and serves the stored file on a hit', async () => {
    const speech = speechWith();
    const first = await speech.render('Hello', EN, live());
    expect(uriOf(first)).to.equal(`sound:${BASE}/media/${MediaStore.idFor(speech.keyFor('Hello', EN))}.wav`);
    const stored = store.get(idOf(first));
    if (!stored) throw new Error('not stored');
    expect(isTelephonyWav(await readWavFile(stored.path))).to.equal(true);
    expect(await speech.render('Hello', EN, live())).to.deep.equal(first);
    expect(engine.texts).to.deep.equal(['Hello']);
  });

  it('keys on engine, normalised voice and text', async () => {
    const speech = speechWith();
    const a = await speech.render('Hello', EN, live());
    expect(await speech.render('Hello', { ...EN, lang: 'EN-us', type: 'WaveNet' }, live())).to.deep.equal(a); // same voiceKey
    expect(await speech.render('Hello', { ...EN, gender: 'MALE' }, live())).to.not.deep.equal(a);
    expect(await speech.render('Hello!', EN, live())).to.not.deep.equal(a);
    expect(engine.texts).to.have.length(3);
  });

  it('renders once for 50 concurrent identical requests', async () => {
    const speech = speechWith();
    engine.behaviour = 'gated';
    const renders = Array.from({ length: 50 }, () => speech.render('Once only', EN, live()));
    await engine.waitForGated(1);
    engine.release();
    const refs = await Promise.all(renders);
    expect(engine.texts).to.deep.equal(['Once only']);
    expect(new Set(refs.map(uriOf)).size).to.equal(1);
  });

  it('fails every waiter with a speakable speech failure and leaves nothing on disk', async () => {
    const speech = speechWith();
    engine.behaviour = 'fail';
    const results = await Promise.allSettled(Array.from({ length: 3 }, () => speech.render('Broken', EN, live())));
    expect(engine.texts).to.have.length(1);
    for (const result of results) {
      expect(result.status).to.equal('rejected');
      if (result.status !== 'rejected') continue;
      expect(result.reason).to.be.instanceOf(VerbFailure).and.include({ code: 'speech', reason: 'the speech engine failed' });
    }
    expect(await readdir(dir)).to.deep.equal([]);
    expect(log.entries.some((e) => e.level === 'warn' && e.msg === 'speech failed: the speech engine failed')).to.equal(true);
  });

  it('stops a rendering at its time limit: the engine is aborted, nothing is left', async () => {
    const speech = speechWith(80);
    engine.behaviour = 'hang';
    const error = await speech.render('Too slow', EN, live()).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(VerbFailure).and.include({ code: 'speech', reason: 'speech took longer than 80 ms' });
    await waitFor(() => engine.aborts.length === 1);
    expect(await readdir(dir)).to.deep.equal([]);
  });

  it('lets one caller hang up without breaking the others', async () => {
    const speech = speechWith();
    engine.behaviour = 'gated';
    const hangup = new AbortController();
    const leaving = speech.render('Shared', EN, hangup.signal);
    const staying = speech.render('Shared', EN, live());
    await engine.waitForGated(1);
    hangup.abort();
    const error = await leaving.catch((e: unknown) => e);
    expect(error).to.be.instanceOf(VerbFailure).and.include({ code: 'speech', reason: 'speech was cancelled' });
    engine.release();
    expect(uriOf(await staying)).to.match(/\.wav$/);
    expect(engine.texts).to.have.length(1);
    // A hung-up caller is not a speech problem: nothing was logged for it.
    expect(log.entries.filter((e) => e.level === 'warn')).to.deep.equal([]);
  });

  it('pre-renders every Say of a document, two at a time; the Says then hit the cache', async () => {
    const speech = speechWith(5000, 2);
    const document = parseDocument(`<Response>
      <Say>Welcome</Say>
      <Gather><Say>Press one</Say><DTMF value="1"><Say>You pressed one</Say></DTMF><Default><Say>Goodbye</Say></Default></Gather>
      <Callback url="https://example.com/next"><Error><Say gender="MALE">Sorry</Say></Error></Callback>
      <Say>Welcome</Say>
    </Response>`);
    await speech.prerender(document);
    expect(engine.texts).to.have.members(['Welcome', 'Press one', 'You pressed one', 'Goodbye', 'Sorry']);
    expect(engine.texts).to.have.length(5);
    expect(engine.peak).to.equal(2);
    await speech.render('Press one', EN, live());
    await speech.render('Sorry', { ...EN, gender: 'MALE' }, live());
    expect(engine.texts).to.have.length(5);
  });

  it('pre-rendering lets the first Say start while the rest are still rendering', async () => {
    const speech = speechWith(5000, 1);
    engine.behaviour = 'gated';
    const done = speech.prerender(parseDocument('<Response><Say>First</Say><Say>Second</Say></Response>'));
    await engine.waitForGated(1);
    const first = speech.render('First', EN, live()); // joins the production in flight
    engine.release();
    await first;
    await engine.waitForGated(1);
    engine.release();
    await done;
    expect(engine.texts).to.deep.equal(['First', 'Second']);
  });

  it('pre-rendering never rejects: failures are logged at debug level', async () => {
    const speech = speechWith();
    engine.behaviour = 'fail';
    await speech.prerender(parseDocument('<Response><Say>One</Say><Say>Two</Say></Response>'));
    const debug = log.entries.filter((e) => e.level === 'debug' && e.msg === 'pre-render failed');
    expect(debug).to.have.length(2);
    expect(log.entries.filter((e) => e.level === 'warn')).to.deep.equal([]);
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise<void>((resolve) => setImmediate(resolve));
  if (!condition()) throw new Error('condition not reached');
}
