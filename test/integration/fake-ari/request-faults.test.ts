import { expect } from 'chai';
import client, { type Channel, type StasisStart } from 'ari-client';
import { APP, ariError, harness, type Harness } from './helpers.js';

describe('fake ARI: failNext and delayNext', () => {
  let h: Harness;
  afterEach(async () => h.close());

  async function call(): Promise<{ channel: Channel; id: string }> {
    const started = new Promise<Channel>((resolve) => h.ari.once('StasisStart', (_e: StasisStart, channel: Channel) => resolve(channel)));
    const placed = await h.fake.placeCall({ from: '15551230000', did: '15551234567' });
    return { channel: await started, id: placed.id };
  }

  it('fails the next matching request with the given status and {"message"} body, without doing it', async () => {
    h = await harness();
    const { channel, id } = await call();
    h.fake.failNext({ method: 'POST', path: `/channels/${id}/answer` }, { status: 500, message: 'Failed to answer channel' });
    expect(await ariError(channel.answer())).to.deep.equal({ message: 'Failed to answer channel' });
    expect(h.fake.channel(id)?.state).to.equal('Ring');
    await channel.answer();
    expect(h.fake.channel(id)?.state).to.equal('Up');
    const answers = h.fake.requests.filter((r) => r.path === `/ari/channels/${id}/answer`).map((r) => r.status);
    expect(answers).to.deep.equal([500, 204]);
  });

  it('matches paths by RegExp and fails `times` requests', async () => {
    h = await harness();
    const { channel } = await call();
    h.fake.failNext({ method: 'POST', path: /\/play$/ }, { status: 503, message: 'Service Unavailable', times: 2 });
    expect(await ariError(channel.play({ media: 'sound:a' }, h.ari.Playback()))).to.deep.equal({ message: 'Service Unavailable' });
    expect(await ariError(channel.play({ media: 'sound:b' }, h.ari.Playback()))).to.deep.equal({ message: 'Service Unavailable' });
    expect((await channel.play({ media: 'sound:c' }, h.ari.Playback())).state).to.equal('queued');
  });

  it('delays the next matching request, other requests going on meanwhile', async () => {
    h = await harness();
    const { channel, id } = await call();
    h.fake.delayNext({ method: 'POST', path: `/ari/channels/${id}/answer` }, 150);
    const t0 = Date.now();
    const answering = channel.answer();
    expect((await h.ari.channels.get({ channelId: id })).state, 'a GET passes the delayed answer').to.equal('Ring');
    await answering;
    expect(Date.now() - t0).to.be.at.least(140);
    const answer = await h.fake.waitForRequest((r) => r.path === `/ari/channels/${id}/answer`);
    expect(answer.durationMs).to.be.at.least(140);
    expect(answer.status).to.equal(204);
  });

  it('can refuse the events WebSocket once: ari-client retries and connects', async () => {
    h = await harness();
    h.fake.failNext({ method: 'GET', path: '/events' }, { status: 503, message: 'Service Unavailable' });
    const other = await client.connect(h.fake.url, h.fake.username, h.fake.password);
    try {
      let reconnecting = 0;
      other.on('WebSocketReconnecting', () => reconnecting++);
      await other.start('second-app');
      expect(reconnecting).to.equal(1);
      const upgrades = h.fake.requests.filter((r) => r.path === '/ari/events' && r.query.app === 'second-app').map((r) => r.status);
      expect(upgrades).to.deep.equal([503, 101]);
      expect(h.fake.applications().sort()).to.deep.equal([APP, 'second-app']);
    } finally {
      other.stop();
    }
  });
});
