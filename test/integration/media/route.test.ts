import { readFile, unlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { expect } from 'chai';
import Fastify, { type FastifyInstance } from 'fastify';
import { UrlPolicy } from '../../../lib/callback/url-policy.js';
import { httpLocator } from '../../../lib/media/locator.js';
import { NO_RECORDINGS, RemoteAudio } from '../../../lib/media/remote-audio.js';
import { matchesIfNoneMatch, mediaRoutes } from '../../../lib/media/route.js';
import { MediaStore, type StoredMedia } from '../../../lib/media/store.js';
import { parseWav } from '../../../lib/media/wav.js';
import { startServer } from '../../support/http-servers.js';
import { silentLogger } from '../../support/silent-logger.js';
import { AudioDir } from './audio-files.js';

interface RawResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

/** A request sent exactly as written: no client normalises the path first. */
function raw(port: number, path: string, method = 'GET', headers: http.OutgoingHttpHeaders = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('media route (GET/HEAD /media/<sha256>.wav)', function () {
  let audio: AudioDir;
  let store: MediaStore;
  let app: FastifyInstance;
  let port: number;
  let origin: string;
  let stored: StoredMedia;
  let content: Buffer;

  before(async () => {
    audio = await AudioDir.create();
    const tone = await audio.tone('tone', { type: 'wav', rate: 8000, channels: 1, bits: 16, seconds: 1 });
    content = await readFile(tone);
    store = await MediaStore.open({ dir: audio.path('store'), maxBytes: 10 * 1024 * 1024, log: silentLogger });
    stored = await store.obtain('route-test', (tmp) => writeFile(tmp, content), { timeoutMs: 5000 });
    // Closing must not wait on a client's keep-alive socket (fetch keeps one open).
    app = Fastify({ forceCloseConnections: true });
    await app.register(mediaRoutes, { store });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    port = typeof address === 'object' && address ? address.port : 0;
    origin = `http://127.0.0.1:${port}`;
  });
  after(async () => {
    await app?.close();
    await audio?.remove();
  });

  it('serves the stored file with the headers Asterisk needs', async () => {
    const res = await fetch(`${origin}/media/${stored.id}.wav`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('audio/wav');
    expect(res.headers.get('content-length')).to.equal(String(content.length));
    expect(res.headers.get('etag')).to.equal(`"${stored.id}"`);
    expect(res.headers.get('cache-control')).to.equal('public, max-age=31536000, immutable');
    const body = Buffer.from(await res.arrayBuffer());
    expect(body.equals(content)).to.equal(true);
    expect(await parseWav(body)).to.include({ sampleRate: 8000, channels: 1, bitsPerSample: 16 });
  });

  it('has a Cache-Control max-age (without one, Asterisk refetches at once and the playback fails)', async () => {
    const res = await raw(port, `/media/${stored.id}.wav`);
    const maxAge = /(?:^|,)\s*max-age=(\d+)/.exec(res.headers['cache-control'] ?? '')?.[1];
    expect(Number(maxAge)).to.be.greaterThan(86_400);
    expect(res.headers['content-type']).to.match(/^audio\/(x-)?wav$/);
  });

  it('answers HEAD with the same headers and no body', async () => {
    const res = await raw(port, `/media/${stored.id}.wav`, 'HEAD');
    expect(res.status).to.equal(200);
    expect(res.headers).to.include({
      'content-type': 'audio/wav',
      'content-length': String(content.length),
      etag: `"${stored.id}"`,
      'cache-control': 'public, max-age=31536000, immutable',
    });
    expect(res.body.length).to.equal(0);
  });

  it('answers 304 to a matching If-None-Match, with the ETag and Cache-Control again', async () => {
    for (const header of [`"${stored.id}"`, `W/"${stored.id}"`, `"other", "${stored.id}"`, '*']) {
      const res = await raw(port, `/media/${stored.id}.wav`, 'GET', { 'if-none-match': header });
      expect(res.status, header).to.equal(304);
      expect(res.body.length).to.equal(0);
      expect(res.headers).to.include({ etag: `"${stored.id}"`, 'cache-control': 'public, max-age=31536000, immutable' });
    }
    const changed = await raw(port, `/media/${stored.id}.wav`, 'GET', { 'if-none-match': '"something-else"' });
    expect(changed.status).to.equal(200);
    expect(changed.body.equals(content)).to.equal(true);
  });

  it('answers 404 to unknown, malformed and path-traversing names', async () => {
    const unknown = 'a'.repeat(64);
    const paths = [
      `/media/${unknown}.wav`,
      `/media/${stored.id.toUpperCase()}.wav`,
      `/media/${stored.id}.mp3`,
      `/media/${stored.id}`,
      `/media/${stored.id}.wav.bak`,
      `/media/${stored.id.slice(1)}.wav`,
      `/media/${stored.id.slice(0, 63)}g.wav`,
      `/media/${stored.id}.wav/extra`,
      `/media/x/${stored.id}.wav`,
      '/media/..%2f..%2fetc%2fpasswd',
      '/media/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '/media/../../etc/passwd',
      `/media/..%2f${stored.id}.wav`,
      `/media/${stored.id}.wav%00`,
      '/media/',
      '/media',
    ];
    for (const path of paths) {
      const res = await raw(port, path);
      expect(res.status, path).to.equal(404);
      expect(res.body.includes(content.subarray(0, 44)), path).to.equal(false);
    }
    expect((await raw(port, `/media/${unknown}.wav`, 'HEAD')).status).to.equal(404);
    expect((await raw(port, `/media/${stored.id}.wav`, 'POST')).status).to.equal(404);
  });

  it('answers 404 when the file was removed behind the store', async () => {
    const gone = await store.obtain('route-test-gone', (tmp) => writeFile(tmp, content.subarray(0, 1000)), { timeoutMs: 5000 });
    await unlink(gone.path);
    expect((await raw(port, `/media/${gone.id}.wav`)).status).to.equal(404);
  });

  it('serves what RemoteAudio stored, at the URI its locator gives Asterisk', async () => {
    const remoteServer = await startServer((_req, res) => res.writeHead(200, { 'content-type': 'audio/wav' }).end(content));
    try {
      const remote = new RemoteAudio({
        store,
        locator: httpLocator(origin),
        policy: new UrlPolicy('127.0.0.1'),
        recordings: NO_RECORDINGS,
        log: silentLogger,
        maxBytes: 1024 * 1024,
        fetchTimeoutMs: 3000,
        transcodeTimeoutMs: 10_000,
        revalidateAfterMs: 60_000,
      });
      const ref = await remote.fromUrl(`${remoteServer.origin}/welcome.wav`, new AbortController().signal);
      expect(ref.kind).to.equal('sound');
      const uri = ref.kind === 'sound' ? ref.uri : '';
      expect(uri).to.match(/^sound:http:\/\/127\.0\.0\.1:\d+\/media\/[0-9a-f]{64}\.wav$/);
      const res = await fetch(uri.slice('sound:'.length));
      expect(res.status).to.equal(200);
      const info = await parseWav(Buffer.from(await res.arrayBuffer()));
      expect(info).to.include({ sampleRate: 8000, channels: 1, bitsPerSample: 16 });
      expect(info.durationMs).to.be.closeTo(1000, 2);
    } finally {
      await remoteServer.close();
    }
  });

  it('compares entity tags weakly, as If-None-Match requires', () => {
    expect(matchesIfNoneMatch(undefined, '"a"')).to.equal(false);
    expect(matchesIfNoneMatch('"a"', '"a"')).to.equal(true);
    expect(matchesIfNoneMatch('W/"a"', '"a"')).to.equal(true);
    expect(matchesIfNoneMatch(' "b" ,  "a" ', '"a"')).to.equal(true);
    expect(matchesIfNoneMatch('"b"', '"a"')).to.equal(false);
    expect(matchesIfNoneMatch('a', '"a"')).to.equal(false);
  });
});
