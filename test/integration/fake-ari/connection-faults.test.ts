import { expect } from 'chai';
import client, { type ChannelDtmfReceived, type StasisStart } from 'ari-client';
import { APP, answeredCall, ariError, connected, harness, type Harness } from './helpers.js';

describe('fake ARI: the application connection drops, Asterisk restarts', () => {
  let h: Harness;
  afterEach(async () => h.close());

  it('keeps the channel in Stasis when the WebSocket drops; after the reconnect: no new StasisStart, later events arrive, gap events are lost', async () => {
    h = await harness();
    const { channel, id } = await answeredCall(h);
    const reconnected = connected(h.ari);
    await h.fake.dropWebSockets();
    expect(h.fake.applications()).to.deep.equal([]);

    // During the gap the caller presses a key: Asterisk has nobody to tell.
    await h.fake.pressDigits(id, '5');
    expect(h.fake.droppedEvents.map((e) => `${e.type}:${e.digit}`)).to.deep.equal(['ChannelDtmfReceived:5']);
    expect(h.fake.channel(id)?.inStasis).to.equal(true);

    await reconnected;
    await h.fake.waitForApplication(APP);
    const app = await h.ari.applications.get({ applicationName: APP });
    expect(app.channel_ids).to.deep.equal([id]);

    const dtmf = new Promise<string>((resolve) => channel.once('ChannelDtmfReceived', (e: ChannelDtmfReceived) => resolve(e.digit)));
    await h.fake.pressDigits(id, '7');
    expect(await dtmf).to.equal('7');
    const playback = h.ari.Playback();
    const finished = new Promise<void>((resolve) => playback.once('PlaybackFinished', () => resolve()));
    await channel.play({ media: 'sound:after-reconnect' }, playback);
    await finished;
    expect(h.seen.filter((t) => t === 'StasisStart')).to.have.length(1);
    expect(h.seen).to.not.include('StasisEnd');
  });

  it('sends ApplicationReplaced to the old socket when another connection takes the application over', async () => {
    h = await harness();
    const replaced = h.next('ApplicationReplaced');
    const second = await client.connect(h.fake.url, h.fake.username, h.fake.password);
    try {
      await second.start(APP);
      const event = await replaced;
      expect(event).to.include({ type: 'ApplicationReplaced', application: APP });
      const onSecond = new Promise<StasisStart>((resolve) => second.once('StasisStart', (e: StasisStart) => resolve(e)));
      await h.fake.placeCall({ from: '1', did: '2' });
      expect((await onSecond).application).to.equal(APP);
      expect(h.seen).to.not.include('StasisStart');
    } finally {
      second.stop();
    }
  });

  it('comes back on the same port after restart(), with no channels left (a restarted Asterisk has no calls)', async () => {
    h = await harness();
    const { id } = await answeredCall(h);
    const url = h.fake.url;
    const reconnected = connected(h.ari);
    await h.fake.stop();
    await h.fake.restart();
    expect(h.fake.url).to.equal(url);
    await reconnected;
    await h.fake.waitForApplication(APP);
    expect(h.fake.channels()).to.deep.equal([]);
    expect(await ariError(h.ari.channels.get({ channelId: id }))).to.deep.equal({ message: 'Channel not found' });
    const again = new Promise<StasisStart>((resolve) => h.ari.once('StasisStart', (e: StasisStart) => resolve(e)));
    await h.fake.placeCall({ from: '1', did: '2' });
    expect((await again).args).to.deep.equal(['2']);
  });

  it('keeps the calls over restart({ keepChannels: true }), like a network cut', async () => {
    h = await harness();
    const { channel, id } = await answeredCall(h);
    const reconnected = connected(h.ari);
    await h.fake.restart({ keepChannels: true });
    await reconnected;
    await h.fake.waitForApplication(APP);
    expect((await h.ari.channels.get({ channelId: id })).state).to.equal('Up');
    const hungUp = new Promise<void>((resolve) => channel.once('StasisEnd', () => resolve()));
    await h.fake.callerHangup(id);
    await hungUp;
  });
});
