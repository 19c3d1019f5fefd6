// TtsSpeech with the real espeak-ng engine under the real interpreter: pre-rendered Says
// are cache hits, and the `<Error say="true">` reason is rendered the same way.
import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FlowFetcher } from '../../../lib/flow/index.js';
import { httpLocator } from '../../../lib/media/locator.js';
import { MediaStore } from '../../../lib/media/store.js';
import type { SpeechEngine } from '../../../lib/tts/engine.js';
import { EspeakEngine } from '../../../lib/tts/espeak.js';
import { TtsSpeech } from '../../../lib/tts/speech.js';
import { parseDocument, type Voice } from '../../../lib/xml/index.js';
import { runXml } from '../../support/flow-harness.js';
import { silentLogger } from '../../support/silent-logger.js';
import { readPcm, rms } from '../../support/wav.js';

/** Counts what reaches the real engine. */
class CountingEngine implements SpeechEngine {
  readonly name: string;
  readonly rendered: { text: string; voice: Voice }[] = [];
  constructor(private readonly inner: SpeechEngine) {
    this.name = inner.name;
  }
  voiceKey(voice: Voice): string {
    return this.inner.voiceKey(voice);
  }
  synthesize(text: string, voice: Voice, outPath: string, signal: AbortSignal): Promise<void> {
    this.rendered.push({ text, voice });
    return this.inner.synthesize(text, voice, outPath, signal);
  }
}

const serverError = { ok: false, failure: { code: 'http_status', reason: 'the server answered 500', status: 500 }, attempts: 1 } as const;
const failingFetcher: FlowFetcher = { fetch: async () => serverError, send: async () => serverError };

describe('speech in a flow (espeak-ng, media store, interpreter)', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tts-flow-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('plays pre-rendered Says from the cache and renders the error reason with the error voice', async () => {
    const engine = new CountingEngine(await EspeakEngine.create({ log: silentLogger }));
    const store = await MediaStore.open({ dir, maxBytes: 10_000_000, log: silentLogger });
    const speech = new TtsSpeech({ engine, store, locator: httpLocator('http://app:8080'), renderTimeoutMs: 5000, log: silentLogger });
    const xml = `<Response>
      <Say lang="en-GB">Welcome to Opentact.</Say>
      <Callback url="https://example.com/next"><Error say="true"><Say gender="MALE">Goodbye.</Say></Error></Callback>
    </Response>`;

    await speech.prerender(parseDocument(xml));
    expect(engine.rendered.map((r) => r.text)).to.deep.equal(['Welcome to Opentact.', 'Goodbye.']);

    const run = await runXml(xml, { fetcher: failingFetcher, speech });
    const plays = run.lines.filter((l) => l.event === 'play').map((l) => String(l['uri']));
    expect(plays).to.have.length(3);
    expect(engine.rendered.map((r) => r.text)).to.deep.equal(['Welcome to Opentact.', 'Goodbye.', 'Callback failed: the server answered 500.']);
    expect(engine.rendered[2]?.voice).to.deep.equal({ lang: 'en-US', gender: 'FEMALE', type: 'Standard' });
    for (const uri of plays) {
      const id = /\/media\/([0-9a-f]{64})\.wav$/.exec(uri)?.[1] ?? '';
      const stored = store.get(id);
      if (!stored) throw new Error(`${uri} is not in the store`);
      const { info, samples } = await readPcm(stored.path);
      expect(info).to.include({ sampleRate: 8000, channels: 1, bitsPerSample: 16 });
      expect(rms(samples)).to.be.greaterThan(300);
    }
  });
});
