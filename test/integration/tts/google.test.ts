// The Google engine against a local HTTP server that checks the request shape and answers
// real WAV audio the way the v1 REST API does.
import { expect } from 'chai';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import type http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VerbFailure } from '../../../lib/flow/failure.js';
import { httpLocator } from '../../../lib/media/locator.js';
import { MediaStore } from '../../../lib/media/store.js';
import { isTelephonyWav } from '../../../lib/media/wav.js';
import { SpeechError } from '../../../lib/tts/errors.js';
import { GoogleTtsEngine, type GoogleTtsOptions } from '../../../lib/tts/google.js';
import { TtsSpeech } from '../../../lib/tts/speech.js';
import { telephonyWav } from '../../../lib/tts/telephony-wav.js';
import type { Voice } from '../../../lib/xml/index.js';
import { startServer, type RecordedRequest, type ScriptedServer } from '../../support/http-servers.js';
import { RecordingLogger, silentLogger } from '../../support/silent-logger.js';
import { pcmWav, readPcm, rms, tone, toneAt } from '../../support/wav.js';

const KEY = 'test-api-key';
const VOICES = [
  { name: 'en-US-Standard-B', ssmlGender: 'MALE', languageCodes: ['en-US'], naturalSampleRateHertz: 24000 },
  { name: 'en-US-Standard-C', ssmlGender: 'FEMALE', languageCodes: ['en-US'], naturalSampleRateHertz: 24000 },
  { name: 'en-US-Wavenet-C', ssmlGender: 'FEMALE', languageCodes: ['en-US'], naturalSampleRateHertz: 24000 },
  { name: 'en-US-Wavenet-D', ssmlGender: 'MALE', languageCodes: ['en-US'], naturalSampleRateHertz: 24000 },
];
const EN: Voice = { lang: 'en-US', gender: 'FEMALE', type: 'Standard' };

type Answer = (res: http.ServerResponse, recorded: RecordedRequest) => void;

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

const audioAnswer =
  (audio: Buffer): Answer =>
  (res) =>
    json(res, 200, { audioContent: audio.toString('base64') });

interface SynthesizeBody {
  input: { text: string };
  voice: { languageCode: string; name?: string; ssmlGender: string };
  audioConfig: { audioEncoding: string; sampleRateHertz: number };
}

describe('Google Cloud Text-to-Speech engine (local HTTP server)', () => {
  let server: ScriptedServer;
  let dir: string;
  let synthesize: Answer;
  let voices: Answer;
  let count = 0;
  let seen = 0;
  /** The requests of the current test. */
  const requests = () => server.requests.slice(seen);
  const live = () => new AbortController().signal;
  const samples = tone(300);

  before(async () => {
    server = await startServer((_req, res, recorded) => {
      const path = recorded.url.split('?')[0];
      if (recorded.method === 'GET' && path === '/v1/voices') voices(res, recorded);
      else if (recorded.method === 'POST' && path === '/v1/text:synthesize') synthesize(res, recorded);
      else json(res, 404, { error: { code: 404, message: `no route ${recorded.method} ${recorded.url}` } });
    });
  });

  after(async () => {
    await server.close();
  });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tts-google-'));
    // A real answer: LINEAR16 comes with a WAV header (here with an extra chunk, as some do).
    synthesize = audioAnswer(pcmWav(samples, 8000, { listChunk: true }));
    voices = (res) => json(res, 200, { voices: VOICES });
    seen = server.requests.length;
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const engineWith = (options: Partial<GoogleTtsOptions> = {}) =>
    new GoogleTtsEngine({ log: silentLogger, endpoint: `${server.origin}/`, apiKey: KEY, requestTimeoutMs: 2000, ...options });

  async function render(engine: GoogleTtsEngine, text: string, voice: Voice): Promise<string> {
    const path = join(dir, `out-${count++}.wav`);
    await engine.synthesize(text, voice, path, live());
    return path;
  }

  const synthRequests = () => requests().filter((r) => r.url === '/v1/text:synthesize');
  const bodyOf = (r: RecordedRequest | undefined) => JSON.parse(r?.body ?? '{}') as SynthesizeBody;

  it('posts the documented request with the API key and stores the answer as a canonical telephony WAV', async () => {
    const path = await render(engineWith(), 'Welcome to Opentact.', EN);
    const [list, synth] = requests();
    expect(list?.url).to.equal('/v1/voices?languageCode=en-US');
    expect(list?.headers['x-goog-api-key']).to.equal(KEY);
    expect(synth?.method).to.equal('POST');
    expect(synth?.url).to.equal('/v1/text:synthesize');
    expect(synth?.headers['x-goog-api-key']).to.equal(KEY);
    expect(synth?.headers['content-type']).to.match(/^application\/json/);
    expect(bodyOf(synth)).to.deep.equal({
      input: { text: 'Welcome to Opentact.' },
      voice: { languageCode: 'en-US', name: 'en-US-Standard-C', ssmlGender: 'FEMALE' },
      audioConfig: { audioEncoding: 'LINEAR16', sampleRateHertz: 8000 },
    });
    expect(await readFile(path)).to.deep.equal(telephonyWav(samples));
  });

  it('chooses the voice by type and gender, asking for the voice list once per language', async () => {
    const engine = engineWith();
    await render(engine, 'a', { ...EN, type: 'WaveNet', gender: 'MALE' });
    await render(engine, 'b', { ...EN, type: 'WaveNet', gender: 'FEMALE' });
    await render(engine, 'c', { ...EN, type: 'Standard', gender: 'MALE' });
    await render(engine, 'd', { lang: 'fr-fr', type: 'Standard', gender: 'MALE' });
    expect(synthRequests().map((r) => bodyOf(r).voice)).to.deep.equal([
      { languageCode: 'en-US', name: 'en-US-Wavenet-D', ssmlGender: 'MALE' },
      { languageCode: 'en-US', name: 'en-US-Wavenet-C', ssmlGender: 'FEMALE' },
      { languageCode: 'en-US', name: 'en-US-Standard-B', ssmlGender: 'MALE' },
      // No French voice in this list: Google chooses by language and gender.
      { languageCode: 'fr-FR', ssmlGender: 'MALE' },
    ]);
    expect(requests().filter((r) => r.method === 'GET').map((r) => r.url)).to.deep.equal([
      '/v1/voices?languageCode=en-US',
      '/v1/voices?languageCode=fr-FR',
    ]);
  });

  it('uses code as the voice name, with the language the name says', async () => {
    await render(engineWith(), 'Cheerio', { lang: 'en-US', gender: 'FEMALE', type: 'Standard', code: 'en-GB-Wavenet-B' });
    expect(requests()).to.have.length(1);
    expect(bodyOf(requests()[0]).voice).to.deep.equal({ languageCode: 'en-GB', name: 'en-GB-Wavenet-B', ssmlGender: 'FEMALE' });
  });

  it('sends a bearer token when given one instead of a key', async () => {
    await render(engineWith({ apiKey: undefined, bearerToken: 'ya29.token' }), 'Hi', EN);
    for (const request of requests()) {
      expect(request.headers.authorization).to.equal('Bearer ya29.token');
      expect(request.headers['x-goog-api-key']).to.equal(undefined);
    }
  });

  it('lets Google choose when the voice list cannot be read, and says so', async () => {
    voices = (res) => json(res, 500, { error: { message: 'backend error' } });
    const log = new RecordingLogger();
    await render(engineWith({ log }), 'Hi', { ...EN, type: 'WaveNet' });
    expect(bodyOf(synthRequests()[0]).voice).to.deep.equal({ languageCode: 'en-US', ssmlGender: 'FEMALE' });
    expect(log.entries.some((e) => e.level === 'warn' && e.msg?.includes('could not list the Google voices'))).to.equal(true);
  });

  it('resamples an answer at another rate, and wraps raw samples without a header', async () => {
    synthesize = audioAnswer(pcmWav(toneAt(24000, 400), 24000));
    const resampled = await readPcm(await render(engineWith(), 'Resample me', EN));
    expect(isTelephonyWav(resampled.info)).to.equal(true);
    expect(resampled.info.durationMs).to.be.closeTo(400, 5);
    expect(rms(resampled.samples)).to.be.greaterThan(3000);
    synthesize = audioAnswer(samples);
    expect(await readFile(await render(engineWith(), 'Raw', EN))).to.deep.equal(telephonyWav(samples));
  });

  it('gives up on a request that takes longer than its time-out', async () => {
    synthesize = () => undefined; // never answers
    const engine = engineWith({ requestTimeoutMs: 100 });
    const error = await engine.synthesize('Hello?', { ...EN, code: 'en-US-Standard-C' }, join(dir, 'x.wav'), live()).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(SpeechError).and.include({ code: 'timeout', reason: 'the speech service did not answer in time' });
  });

  describe('through TtsSpeech', () => {
    let store: MediaStore;
    let speech: TtsSpeech;

    beforeEach(async () => {
      store = await MediaStore.open({ dir: join(dir, 'store'), maxBytes: 1_000_000, log: silentLogger });
      speech = new TtsSpeech({ engine: engineWith(), store, locator: httpLocator('http://app:8080'), renderTimeoutMs: 1000, log: silentLogger });
    });

    async function failureOf(text: string): Promise<VerbFailure> {
      const error = await speech.render(text, EN, live()).catch((e: unknown) => e);
      if (!(error instanceof VerbFailure)) throw new Error(`expected a VerbFailure, got ${String(error)}`);
      expect(await readdir(join(dir, 'store'))).to.deep.equal([]);
      return error;
    }

    it('renders once and serves the stored file after', async () => {
      const first = await speech.render('Cached', EN, live());
      expect(await speech.render('Cached', EN, live())).to.deep.equal(first);
      expect(synthRequests()).to.have.length(1);
    });

    it('an HTTP error fails the verb with the status in the reason', async () => {
      synthesize = (res) => json(res, 403, { error: { code: 403, message: 'API key not valid', status: 'PERMISSION_DENIED' } });
      const failure = await failureOf('Forbidden');
      expect(failure).to.include({ code: 'speech', reason: 'the speech service answered 403', status: 403 });
      expect(String((failure.cause as Error).message)).to.include('API key not valid');
    });

    it('an answer without audio fails the verb', async () => {
      synthesize = (res) => json(res, 200, { something: 'else' });
      expect(await failureOf('No audio')).to.include({ code: 'speech', reason: 'the speech engine returned unusable audio' });
    });

    it('a service that does not answer fails the verb at the time limit', async () => {
      synthesize = () => undefined; // never answers
      expect(await failureOf('Silence')).to.include({ code: 'speech', reason: 'speech took longer than 1000 ms' });
    });

    it('a service that cannot be reached fails the verb', async () => {
      const closed = await startServer(() => undefined);
      await closed.close();
      const unreachable = new TtsSpeech({
        engine: engineWith({ endpoint: closed.origin }),
        store,
        locator: httpLocator('http://app:8080'),
        renderTimeoutMs: 1000,
        log: silentLogger,
      });
      const error = await unreachable.render('Anyone?', { ...EN, code: 'en-US-Standard-C' }, live()).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(VerbFailure).and.include({ code: 'speech', reason: 'the speech service could not be reached' });
    });
  });

  it('refuses to start without credentials or with an endpoint that is not http(s)', () => {
    expect(() => new GoogleTtsEngine({ log: silentLogger })).to.throw(SpeechError).with.property('code', 'config');
    expect(() => new GoogleTtsEngine({ log: silentLogger, apiKey: KEY, endpoint: 'ftp://x' })).to.throw(SpeechError).with.property('code', 'config');
  });
});
