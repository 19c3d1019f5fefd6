import { readFile } from 'node:fs/promises';
import type http from 'node:http';
import { expect } from 'chai';
import { UrlPolicy } from '../../../lib/callback/url-policy.js';
import { VerbFailure, type FailureCode } from '../../../lib/flow/failure.js';
import type { MediaRef } from '../../../lib/flow/ports.js';
import { httpLocator } from '../../../lib/media/locator.js';
import { NO_RECORDINGS, RemoteAudio, type RecordingLookup, type RemoteAudioOptions } from '../../../lib/media/remote-audio.js';
import { MediaStore } from '../../../lib/media/store.js';
import { readWavFile } from '../../../lib/media/wav.js';
import { startServer, type ScriptedHandler, type ScriptedServer } from '../../support/http-servers.js';
import { RecordingLogger } from '../../support/silent-logger.js';
import { AudioDir } from './audio-files.js';

const BASE = 'http://engine.test:8088';
const URI = /^sound:http:\/\/engine\.test:8088\/media\/([0-9a-f]{64})\.wav$/;
const live = (): AbortSignal => new AbortController().signal;

async function failure(promise: Promise<unknown>, code: FailureCode): Promise<VerbFailure> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof VerbFailure) {
      expect(error.code, error.message).to.equal(code);
      return error;
    }
    throw error;
  }
  expect.fail(`expected a VerbFailure (${code})`);
}

function idOf(ref: MediaRef): string {
  expect(ref.kind).to.equal('sound');
  const match = ref.kind === 'sound' ? URI.exec(ref.uri) : null;
  expect(match, JSON.stringify(ref)).to.not.equal(null);
  return match?.[1] ?? '';
}

function serve(res: http.ServerResponse, body: Buffer, headers: Record<string, string> = {}): void {
  res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': String(body.length), ...headers });
  res.end(body);
}

describe('remote audio for <Play>', function () {
  let audio: AudioDir;
  let wavA: Buffer;
  let wavB: Buffer;
  let mp3: Buffer;
  let store: MediaStore;
  let log: RecordingLogger;
  const servers: ScriptedServer[] = [];
  const policy = new UrlPolicy('127.0.0.1');

  before(async () => {
    audio = await AudioDir.create();
    wavA = await readFile(await audio.tone('a', { type: 'wav', rate: 16000, channels: 2, seconds: 0.5, frequency: 440 }));
    wavB = await readFile(await audio.tone('b', { type: 'wav', rate: 16000, channels: 1, seconds: 0.7, frequency: 660 }));
    mp3 = await readFile(await audio.tone('c', { type: 'mp3', rate: 22050, channels: 1, seconds: 0.5 }));
  });
  after(async () => audio.remove());

  let storeCount = 0;
  beforeEach(async () => {
    log = new RecordingLogger();
    store = await MediaStore.open({ dir: audio.path(`store-${storeCount++}`), maxBytes: 10 * 1024 * 1024, log });
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  function remote(overrides: Partial<RemoteAudioOptions> = {}): RemoteAudio {
    return new RemoteAudio({
      store,
      locator: httpLocator(BASE),
      policy,
      recordings: NO_RECORDINGS,
      log,
      maxBytes: 1024 * 1024,
      fetchTimeoutMs: 3000,
      transcodeTimeoutMs: 10_000,
      revalidateAfterMs: 60_000,
      tmpDir: audio.dir,
      ...overrides,
    });
  }

  async function start(handler: ScriptedHandler): Promise<ScriptedServer> {
    const server = await startServer(handler);
    servers.push(server);
    return server;
  }

  it('fetches once for many concurrent plays, and stores 8 kHz mono 16-bit audio', async () => {
    const s = await start((_req, res) => serve(res, wavA, { etag: '"a"' }));
    const source = remote();
    const refs = await Promise.all(Array.from({ length: 20 }, () => source.fromUrl(`${s.origin}/prompt.wav`, live())));
    const ids = new Set(refs.map(idOf));
    expect(ids.size).to.equal(1);
    expect(s.requests).to.have.length(1);
    expect(s.requests[0]?.headers['user-agent']).to.match(/^opentact-ari\//);
    const stored = store.get([...ids][0] ?? '');
    expect(stored).to.not.equal(undefined);
    expect(await readWavFile(stored?.path ?? '')).to.include({ sampleRate: 8000, channels: 1, bitsPerSample: 16, formatTag: 1 });
    // Within the revalidation interval a play costs no request at all.
    await source.fromUrl(`${s.origin}/prompt.wav`, live());
    expect(s.requests).to.have.length(1);
  });

  it('converts mp3 whatever the URL says', async () => {
    const s = await start((_req, res) => serve(res, mp3, { 'content-type': 'application/octet-stream' }));
    const ref = await remote().fromUrl(`${s.origin}/looks-like.wav`, live());
    expect((await readWavFile(store.get(idOf(ref))?.path ?? '')).durationMs).to.be.closeTo(500, 120);
  });

  it('revalidates with If-None-Match after the interval, and a 304 reuses the stored file', async () => {
    const s = await start((req, res) => {
      if (req.headers['if-none-match'] === '"v1"') res.writeHead(304, { etag: '"v1"' }).end();
      else serve(res, wavA, { etag: '"v1"' });
    });
    let now = 1_000_000;
    const source = remote({ now: () => now });
    const first = idOf(await source.fromUrl(`${s.origin}/a.wav`, live()));
    now += 60_000;
    const plays = await Promise.all(Array.from({ length: 10 }, () => source.fromUrl(`${s.origin}/a.wav`, live())));
    expect(new Set(plays.map(idOf))).to.deep.equal(new Set([first]));
    // The conditional request is shared too: one for the ten plays.
    expect(s.requests.map((r) => r.headers['if-none-match'] ?? null)).to.deep.equal([null, '"v1"']);
    expect(store.size).to.equal(store.get(first)?.bytes);
    now += 59_999;
    await source.fromUrl(`${s.origin}/a.wav`, live());
    expect(s.requests).to.have.length(2);
  });

  it('fetches a new file when the ETag changed', async () => {
    const s = await start((_req, res, _rec, index) => (index === 0 ? serve(res, wavA, { etag: '"a"' }) : serve(res, wavB, { etag: '"b"' })));
    const source = remote({ revalidateAfterMs: 0 });
    const first = idOf(await source.fromUrl(`${s.origin}/a.wav`, live()));
    const second = idOf(await source.fromUrl(`${s.origin}/a.wav`, live()));
    expect(second).to.not.equal(first);
    expect(s.requests[1]?.headers['if-none-match']).to.equal('"a"');
    expect((await readWavFile(store.get(second)?.path ?? '')).durationMs).to.be.closeTo(700, 2);
    expect(store.get(first)).to.not.equal(undefined);
  });

  it('revalidates with If-Modified-Since when the server gives only Last-Modified', async () => {
    const stamp = 'Wed, 01 Jan 2025 00:00:00 GMT';
    const s = await start((req, res) => {
      if (req.headers['if-modified-since'] === stamp) res.writeHead(304).end();
      else serve(res, wavA, { 'last-modified': stamp });
    });
    const source = remote({ revalidateAfterMs: 0 });
    const first = idOf(await source.fromUrl(`${s.origin}/a.wav`, live()));
    expect(idOf(await source.fromUrl(`${s.origin}/a.wav`, live()))).to.equal(first);
    expect(s.requests[1]?.headers).to.include({ 'if-modified-since': stamp });
    expect(s.requests[1]?.headers).to.not.have.property('if-none-match');
  });

  it('without validators, fetches again after the interval but converts the same content once', async () => {
    const s = await start((_req, res) => serve(res, wavA));
    const source = remote({ revalidateAfterMs: 0 });
    const first = idOf(await source.fromUrl(`${s.origin}/a.wav`, live()));
    expect(idOf(await source.fromUrl(`${s.origin}/a.wav`, live()))).to.equal(first);
    expect(s.requests).to.have.length(2);
    expect(s.requests[1]?.headers).to.not.have.property('if-none-match');
    expect(log.entries.filter((e) => e.msg === 'remote audio fetched')).to.have.length(2);
  });

  it('plays the stored copy when revalidation meets a server error, but not when the file is gone', async () => {
    const answers = [200, 503, 404];
    const s = await start((_req, res, _rec, index) => {
      if (answers[index] === 200) serve(res, wavA, { etag: '"a"' });
      else res.writeHead(answers[index] ?? 500).end();
    });
    const source = remote({ revalidateAfterMs: 0 });
    const first = idOf(await source.fromUrl(`${s.origin}/a.wav`, live()));
    expect(idOf(await source.fromUrl(`${s.origin}/a.wav`, live()))).to.equal(first);
    expect(log.entries.some((e) => e.level === 'warn' && /revalidation failed/.test(e.msg ?? ''))).to.equal(true);
    const gone = await failure(source.fromUrl(`${s.origin}/a.wav`, live()), 'http_status');
    expect(gone).to.include({ status: 404, reason: 'the server answered 404' });
  });

  it('follows redirects, and checks every redirect target against the policy', async () => {
    const s = await start((req, res) => {
      if (req.url === '/moved') res.writeHead(302, { location: '/a.wav' }).end();
      else if (req.url === '/away') res.writeHead(302, { location: 'http://10.1.2.3/a.wav' }).end();
      else serve(res, wavA);
    });
    idOf(await remote().fromUrl(`${s.origin}/moved`, live()));
    const refused = await failure(remote().fromUrl(`${s.origin}/away`, live()), 'policy');
    expect(refused.reason).to.equal('the URL is not allowed: 10.1.2.3 is a private address');
  });

  it('refuses loopback under the default policy without a request', async () => {
    const s = await start((_req, res) => serve(res, wavA));
    const error = await failure(remote({ policy: new UrlPolicy() }).fromUrl(`${s.origin}/a.wav`, live()), 'policy');
    expect(error.reason).to.equal('the URL is not allowed: 127.0.0.1 is a loopback address');
    expect(s.requests).to.have.length(0);
  });

  it('turns a 404 into http_status', async () => {
    const s = await start((_req, res) => res.writeHead(404).end('no'));
    const error = await failure(remote().fromUrl(`${s.origin}/missing.wav`, live()), 'http_status');
    expect(error).to.include({ status: 404, reason: 'the server answered 404' });
  });

  it('refuses a file larger than the limit while it streams, and up front when declared', async () => {
    const s = await start((req, res) => {
      if (req.url === '/declared') {
        res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': String(2048) });
        res.write(wavA.subarray(0, 100));
        return;
      }
      // No Content-Length and never finished: only counting can refuse it.
      res.writeHead(200, { 'content-type': 'audio/wav' });
      res.write(wavA.subarray(0, 1500));
    });
    const source = remote({ maxBytes: 1024, fetchTimeoutMs: 10_000 });
    const started = Date.now();
    const streamed = await failure(source.fromUrl(`${s.origin}/endless`, live()), 'too_large');
    expect(streamed.reason).to.equal('the audio file is larger than 1024 bytes');
    await failure(source.fromUrl(`${s.origin}/declared`, live()), 'too_large');
    expect(Date.now() - started).to.be.below(2000);
  });

  it('gives up on a server that does not answer in time', async () => {
    const s = await start(() => undefined);
    const started = Date.now();
    await failure(remote({ fetchTimeoutMs: 300 }).fromUrl(`${s.origin}/slow.wav`, live()), 'timeout');
    expect(Date.now() - started).to.be.within(250, 2000);
  });

  it('refuses a body that is not audio as media, with a speakable reason', async () => {
    const s = await start((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>Oops</html>'));
    const error = await failure(remote().fromUrl(`${s.origin}/a.wav`, live()), 'media');
    expect(error.reason).to.equal('the audio is not a wav or mp3 file');
    const bad = await start((_req, res) => res.writeHead(200, { 'content-type': 'audio/mpeg' }).end(Buffer.alloc(3000, 0x41)));
    const undecodable = await failure(remote().fromUrl(`${bad.origin}/a.mp3`, live()), 'media');
    expect(undecodable.reason).to.equal('the audio file could not be decoded');
    expect(store.size).to.equal(0);
  });

  it('lets a caller who hangs up go at once, and keeps the fetch for the next call', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const s = await start(async (_req, res) => {
      await held;
      serve(res, wavA);
    });
    const source = remote();
    const controller = new AbortController();
    const leaving = source.fromUrl(`${s.origin}/a.wav`, controller.signal);
    await s.waitForRequests(1);
    controller.abort();
    await failure(leaving, 'cancelled');
    const next = source.fromUrl(`${s.origin}/a.wav`, live());
    release();
    idOf(await next);
    expect(s.requests).to.have.length(1);
    await failure(source.fromUrl(`${s.origin}/a.wav`, controller.signal), 'cancelled');
  });

  it('remembers the validators of a bounded number of URLs', async () => {
    const s = await start((req, res) => {
      if (req.headers['if-none-match'] === `"${req.url}"`) res.writeHead(304).end();
      else serve(res, wavA, { etag: `"${req.url}"` });
    });
    const source = remote({ revalidateAfterMs: 0, maxUrls: 2 });
    for (const path of ['/1', '/2', '/1', '/3', '/1', '/2']) await source.fromUrl(`${s.origin}${path}`, live());
    // /2 was the least recently used when /3 came: forgotten, so fetched without validators.
    expect(s.requests.map((r) => `${r.url} ${r.headers['if-none-match'] ?? '-'}`)).to.deep.equal([
      '/1 -',
      '/2 -',
      '/1 "/1"',
      '/3 -',
      '/1 "/1"',
      '/2 -',
    ]);
  });

  it('reports a local file problem as media, not as a network failure', async () => {
    const s = await start((_req, res) => serve(res, wavA));
    const error = await failure(remote({ tmpDir: audio.path('no-such-dir') }).fromUrl(`${s.origin}/a.wav`, live()), 'media');
    expect(error.reason).to.equal('the audio could not be fetched');
    expect(log.entries.some((e) => e.level === 'error')).to.equal(true);
  });

  it('plays recordings by tag, and names a missing one', async () => {
    const recordings: RecordingLookup = {
      find: async (tag) => (tag === 'greeting' ? { kind: 'sound', uri: 'recording:greeting' } : undefined),
    };
    const source = remote({ recordings });
    expect(await source.fromRecording('greeting', live())).to.deep.equal({ kind: 'sound', uri: 'recording:greeting' });
    const error = await failure(source.fromRecording('voicemail-1', live()), 'media');
    expect(error.reason).to.equal('no recording named "voicemail-1"');
  });
});
