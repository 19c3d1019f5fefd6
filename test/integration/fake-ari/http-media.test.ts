import { expect } from 'chai';
import type { Channel, PlaybackFinished, StasisStart } from 'ari-client';
import { startServer, type ScriptedServer } from '../../support/http-servers.js';
import { harness, type Harness } from './helpers.js';

describe('fake ARI: sound:http:// media fetched like the HTTP media cache does (fetchHttpMedia)', () => {
  let h: Harness;
  let media: ScriptedServer;
  beforeEach(async () => {
    media = await startServer((req, res) => {
      if (req.url === '/media/ok.wav') res.writeHead(200, { 'Content-Type': 'audio/wav' }).end(Buffer.alloc(44));
      else res.writeHead(404).end();
    });
  });
  afterEach(async () => {
    await h.close();
    await media.close();
  });

  async function play(channel: Channel, uri: string): Promise<string> {
    const playback = h.ari.Playback();
    const finished = new Promise<PlaybackFinished>((resolve) => playback.once('PlaybackFinished', (e: PlaybackFinished) => resolve(e)));
    await channel.play({ media: `sound:${uri}` }, playback);
    return (await finished).playback.state;
  }

  it('plays a URL that answers 200 (fetched once), fails one that answers 404', async () => {
    h = await harness({ fetchHttpMedia: true });
    const started = new Promise<Channel>((resolve) => h.ari.once('StasisStart', (_e: StasisStart, channel: Channel) => resolve(channel)));
    await h.fake.placeCall({ from: '1', did: '2' });
    const channel = await started;
    await channel.answer();
    expect(await play(channel, `${media.origin}/media/ok.wav`)).to.equal('done');
    expect(await play(channel, `${media.origin}/media/ok.wav`)).to.equal('done');
    expect(await play(channel, `${media.origin}/media/missing.wav`)).to.equal('failed');
    expect(h.fake.mediaFetches).to.deep.equal([
      { url: `${media.origin}/media/ok.wav`, status: 200 },
      { url: `${media.origin}/media/missing.wav`, status: 404 },
    ]);
    expect(media.requests.map((r) => r.url)).to.deep.equal(['/media/ok.wav', '/media/missing.wav']);
  });
});
