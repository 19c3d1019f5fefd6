// Issue 5 end to end: a call on the fake Asterisk hears <Say> rendered by espeak-ng and a
// remote mp3 converted, both as WAV files the http role serves under /media/<sha256>.wav,
// fetched as Asterisk's HTTP media cache fetches them; or, with MEDIA_DIR, read by path.
import { existsSync } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { parseWav } from '../../../lib/media/wav.js';
import { readPcm, rms } from '../../support/wav.js';
import { AudioDir } from '../media/audio-files.js';
import { APP_NAME, AriSuite, CALLER, apps } from '../ari/harness.js';

const GREETING = 'Welcome to Opentact. Please hold.';
const REPEATED = 'This prompt is rendered once.';
const MP3_SECONDS = 1.5;

/** Places a call and waits until the engine has hung it up and let go of it. */
async function callAndWait(suite: AriSuite, did: string): Promise<string> {
  const call = await suite.fake.placeCall({ from: CALLER, did, app: APP_NAME });
  await suite.fake.waitForRequest((r) => r.method === 'DELETE' && r.path === `/ari/channels/${call.id}`, 10_000);
  await suite.role.app.whenIdle();
  return call.id;
}

describe('e2e: speech and media on the fake Asterisk', function () {
  this.timeout(30_000);
  const suite = new AriSuite('e2e-media');
  let audioFiles: AudioDir;
  let mp3Url = '';

  /** `sound:http://127.0.0.1:<http role>/media/<64 hex>.wav` → the id. */
  function mediaId(uri: string | undefined): string {
    const pattern = new RegExp(`^sound:http://127\\.0\\.0\\.1:${suite.http.port}/media/([0-9a-f]{64})\\.wav$`);
    const id = pattern.exec(uri ?? '')?.[1];
    if (id === undefined) expect.fail(`${String(uri)} is not a /media URL of the http role`);
    return id;
  }

  before(async function () {
    audioFiles = await AudioDir.create();
    const mp3 = await readFile(await audioFiles.tone('hold', { type: 'mp3', rate: 44100, channels: 2, seconds: MP3_SECONDS, frequency: 523 }));
    mp3Url = await suite.serveMedia('/music/hold.mp3', mp3, 'audio/mpeg');
    await suite.start(
      apps([
        { uuid: 'app-say', name: 'Say', numbers: ['15551290001'], xml: `<Response><Answer/><Say>${GREETING}</Say><Hangup/></Response>` },
        { uuid: 'app-mp3', name: 'Mp3', numbers: ['15551290002'], xml: `<Response><Play>${mp3Url}</Play><Hangup/></Response>` },
        { uuid: 'app-again', name: 'Again', numbers: ['15551290003'], xml: `<Response><Say>${REPEATED}</Say><Hangup/></Response>` },
      ]),
    );
  });

  after(async function () {
    await suite.close();
    await audioFiles.remove();
  });

  it('plays a <Say> as a /media/<sha256>.wav URL that serves the rendered 8 kHz WAV to Asterisk', async function () {
    const channel = await callAndWait(suite, '15551290001');
    expect(suite.describe(channel)).to.deep.equal(['POST answer', `POST play say:${GREETING}`, 'DELETE 16']);
    const [uri] = suite.playedMedia(channel);
    const id = mediaId(uri);
    const url = String(uri).slice('sound:'.length);
    // Asterisk 22's media cache copies the URL into a buffer as long as the local path it
    // makes: a URL of 45 characters or fewer fails. This one is well past it.
    expect(url.length).to.be.greaterThan(45);

    // The fake fetched it as Asterisk does before playing, and got it.
    expect(suite.fake.mediaFetches).to.deep.include({ url, status: 200 });
    const served = await suite.fetchAsAsterisk(String(uri));
    expect(served.status).to.equal(200);
    expect(served.contentType).to.equal('audio/wav');
    expect(Number(/max-age=(\d+)/.exec(served.cacheControl ?? '')?.[1])).to.be.greaterThan(0);
    const wav = await parseWav(served.body);
    expect(wav).to.include({ sampleRate: 8000, channels: 1, bitsPerSample: 16 });

    // It is the stored rendering, and it is speech, not silence.
    const stored = suite.store.get(id);
    if (!stored) expect.fail(`${id} is not in the store`);
    expect(served.body.equals(await readFile(stored.path))).to.equal(true);
    const { samples } = await readPcm(stored.path);
    expect(samples.length / 8000, 'seconds').to.be.greaterThan(0.5);
    expect(rms(samples)).to.be.greaterThan(300);
  });

  it('plays a remote mp3 as a /media/<sha256>.wav URL serving it converted to 8 kHz mono WAV', async function () {
    const fetchedBefore = suite.mediaRequests.filter((r) => r.url === '/music/hold.mp3').length;
    const channel = await callAndWait(suite, '15551290002');
    const [uri] = suite.playedMedia(channel);
    expect(suite.describe(channel)).to.deep.equal(['POST answer', `POST play ${String(uri)}`, 'DELETE 16']);
    mediaId(uri);
    // The engine fetched the mp3 from the customer's server once, for this call.
    expect(suite.mediaRequests.filter((r) => r.url === '/music/hold.mp3')).to.have.length(fetchedBefore + 1);
    // The same URL now resolves to the same stored file, without a new request.
    const again = await suite.audio.fromUrl(mp3Url, new AbortController().signal);
    expect(again).to.deep.equal({ kind: 'sound', uri });
    expect(suite.mediaRequests.filter((r) => r.url === '/music/hold.mp3')).to.have.length(fetchedBefore + 1);

    const url = String(uri).slice('sound:'.length);
    expect(suite.fake.mediaFetches).to.deep.include({ url, status: 200 });
    const served = await suite.fetchAsAsterisk(String(uri));
    expect({ status: served.status, type: served.contentType }).to.deep.equal({ status: 200, type: 'audio/wav' });
    const wav = await parseWav(served.body);
    expect(wav).to.include({ sampleRate: 8000, channels: 1, bitsPerSample: 16 });
    // mp3 encoders pad the ends a little.
    expect(wav.dataBytes / 2 / 8000, 'seconds').to.be.within(MP3_SECONDS - 0.05, MP3_SECONDS + 0.15);
    const stored = suite.store.get(mediaId(uri));
    if (!stored) expect.fail(`${String(uri)} is not in the store`);
    expect(rms((await readPcm(stored.path)).samples)).to.be.greaterThan(3000);
  });

  it('renders a <Say> once: a second call with the same text plays the stored file', async function () {
    const uri = suite.sayUri(REPEATED);
    const path = join(suite.store.dir, `${mediaId(uri)}.wav`);
    expect(existsSync(path), 'rendered before any call').to.equal(false);

    const first = await callAndWait(suite, '15551290003');
    expect(suite.describe(first)).to.deep.equal(['POST answer', `POST play say:${REPEATED}`, 'DELETE 16']);
    const rendered = await stat(path);
    const files = (await readdir(suite.store.dir)).sort();
    const size = suite.store.size;

    const second = await callAndWait(suite, '15551290003');
    expect(suite.describe(second)).to.deep.equal(['POST answer', `POST play say:${REPEATED}`, 'DELETE 16']);
    expect(suite.playedMedia(second)).to.deep.equal([uri]);
    // A new rendering would be a new file renamed over the old one (another inode, a new
    // modification time), and would pass through a temporary file in the directory.
    const after = await stat(path);
    expect({ ino: after.ino, mtimeMs: after.mtimeMs, size: after.size }).to.deep.equal({ ino: rendered.ino, mtimeMs: rendered.mtimeMs, size: rendered.size });
    expect((await readdir(suite.store.dir)).sort()).to.deep.equal(files);
    expect(suite.store.size).to.equal(size);
  });
});

describe('e2e: speech and media with MEDIA_DIR (Asterisk reads the files by path)', function () {
  this.timeout(30_000);
  const suite = new AriSuite('e2e-media-dir');
  const SAID = 'Files are shared with Asterisk.';

  before(async function () {
    const { welcome } = await suite.prompts();
    await suite.start(
      apps([{ uuid: 'app-dir', name: 'Dir', numbers: ['15551290004'], xml: `<Response><Say>${SAID}</Say><Play>${welcome}</Play><Hangup/></Response>` }]),
      {
        delivery: 'directory',
        // As Asterisk plays `sound:<path>`: the file `<path>.wav` (it adds the format's extension).
        fake: { mediaExists: (media) => media.startsWith('sound:/') && existsSync(`${media.slice('sound:'.length)}.wav`) },
      },
    );
  });

  after(() => suite.close());

  it('plays sound:<dir>/<sha256> for speech and remote audio, and <dir>/<sha256>.wav is the WAV', async function () {
    const channel = await callAndWait(suite, '15551290004');
    expect(suite.describe(channel)).to.deep.equal(['POST answer', `POST play say:${SAID}`, 'POST play welcome.wav', 'DELETE 16']);
    const played = suite.playedMedia(channel);
    expect(played).to.have.length(2);
    for (const uri of played) {
      const id = new RegExp(`^sound:${suite.store.dir}/([0-9a-f]{64})$`).exec(uri)?.[1];
      if (id === undefined) expect.fail(`${uri} is not sound:<dir>/<id>`);
      const file = join(suite.store.dir, `${id}.wav`);
      expect(existsSync(file), file).to.equal(true);
      expect(await parseWav(await readFile(file))).to.include({ sampleRate: 8000, channels: 1, bitsPerSample: 16 });
    }
    // Nothing went over HTTP to Asterisk.
    expect(suite.fake.mediaFetches).to.deep.equal([]);
  });
});
