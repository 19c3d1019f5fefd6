import { expect } from 'chai';
import type { Channel, ChannelDtmfReceived, ChannelHangupRequest, Playback, PlaybackFinished, StasisStart } from 'ari-client';
import { APP, ariError, ASTERISK_TIME, harness, type Harness } from './helpers.js';

const CALLER = '15551230000';
const DID = '15551234567';

describe('fake ARI: an inbound call', () => {
  let h: Harness;
  afterEach(async () => h.close());

  /** Places a call and returns ari-client's StasisStart event and Channel instance. */
  async function call(): Promise<{ event: StasisStart; channel: Channel; id: string }> {
    const started = new Promise<{ event: StasisStart; channel: Channel }>((resolve) => {
      h.ari.once('StasisStart', (event, channel) => resolve({ event, channel }));
    });
    const placed = await h.fake.placeCall({ from: CALLER, did: DID });
    const { event, channel } = await started;
    return { event, channel, id: placed.id };
  }

  it('enters Stasis with StasisStart: the DID as argument, state Ring, a realistic channel', async () => {
    h = await harness();
    const { event, channel, id } = await call();
    expect(event.type).to.equal('StasisStart');
    expect(event.application).to.equal(APP);
    expect(event.asterisk_id).to.equal(h.fake.asteriskId);
    expect(event.timestamp).to.match(ASTERISK_TIME);
    expect(event.args).to.deep.equal([DID]);
    expect(channel.id).to.equal(id).and.to.match(/^\d{10}\.\d+$/);
    expect(channel.name).to.match(/^PJSIP\/trunk-[0-9a-f]{8}$/);
    expect(channel.state).to.equal('Ring');
    expect(channel.caller).to.deep.equal({ name: '', number: CALLER });
    expect(channel.connected).to.deep.equal({ name: '', number: '' });
    expect(channel.dialplan).to.deep.include({ exten: DID, app_name: 'Stasis', app_data: `${APP},${DID}` });
    expect(channel.creationtime).to.match(ASTERISK_TIME);
    expect(channel.language).to.equal('en');
    // ari-client gave a Channel instance with the channel operations bound to it.
    expect(channel.answer).to.be.a('function');
    const app = await h.ari.applications.get({ applicationName: APP });
    expect(app.channel_ids).to.deep.equal([id]);
  });

  it('answers with 204, then ChannelStateChange to Up', async () => {
    h = await harness();
    const { channel, id } = await call();
    const stateChange = h.next('ChannelStateChange');
    await channel.answer();
    const answer = h.fake.requests.find((r) => r.path === `/ari/channels/${id}/answer`);
    expect(answer?.status).to.equal(204);
    const event = (await stateChange) as unknown as { channel: { state: string } };
    expect(event.channel.state).to.equal('Up');
    expect((await h.ari.channels.get({ channelId: id })).state).to.equal('Up');
  });

  it('plays media: 201 with the queued playback, then PlaybackStarted and PlaybackFinished (done) on the Playback instance', async () => {
    h = await harness({ playbackMs: () => 30 });
    const { channel, id } = await call();
    await channel.answer();
    const playback: Playback = h.ari.Playback();
    const finished = new Promise<{ event: PlaybackFinished; playback: Playback }>((resolve) => {
      playback.once('PlaybackFinished', (event, pb) => resolve({ event, playback: pb }));
    });
    const started = h.next<PlaybackFinished>('PlaybackStarted');
    const queued = await channel.play({ media: 'sound:hello-world' }, playback);
    expect(queued.id).to.equal(playback.id);
    expect(queued.state).to.equal('queued');
    expect(queued.target_uri).to.equal(`channel:${id}`);
    expect(queued.media_uri).to.equal('sound:hello-world');
    const play = h.fake.requests.find((r) => r.path === `/ari/channels/${id}/play`);
    expect(play?.status).to.equal(201);
    expect(play?.query).to.include({ media: 'sound:hello-world', playbackId: playback.id });
    expect((await started).playback.state).to.equal('playing');
    const done = await finished;
    expect(done.event.playback.state).to.equal('done');
    expect(done.playback.id).to.equal(playback.id);
    expect(h.seen).to.deep.equal(['StasisStart', 'ChannelStateChange', 'PlaybackStarted', 'PlaybackFinished']);
    expect(await ariError(h.ari.playbacks.get({ playbackId: playback.id }))).to.deep.equal({ message: 'Playback not found' });
  });

  it('plays a second media only after the first one finished (one command queue per channel)', async () => {
    h = await harness({ playbackMs: (m) => (m.endsWith('long') ? 80 : 10) });
    const { channel } = await call();
    await channel.answer();
    const first = h.ari.Playback();
    const second = h.ari.Playback();
    await channel.play({ media: 'sound:long' }, first);
    await channel.play({ media: 'sound:short' }, second);
    await h.fake.waitForEvent((e) => e.type === 'PlaybackFinished' && e.playback?.id === second.id);
    const order = h.fake.events.filter((e) => e.playback).map((e) => `${e.type}:${e.playback?.media_uri}`);
    expect(order).to.deep.equal(['PlaybackStarted:sound:long', 'PlaybackFinished:sound:long', 'PlaybackStarted:sound:short', 'PlaybackFinished:sound:short']);
  });

  it('plays a list of media with PlaybackContinuing between them', async () => {
    h = await harness({ playbackMs: () => 10 });
    const { channel, id } = await call();
    await channel.answer();
    const playback = h.ari.Playback();
    const finished = new Promise<void>((resolve) => playback.once('PlaybackFinished', () => resolve()));
    await channel.play({ media: ['sound:one', 'sound:two'] }, playback);
    await finished;
    expect(h.fake.requests.find((r) => r.path === `/ari/channels/${id}/play`)?.query.media).to.equal('sound:one,sound:two');
    const steps = h.fake.events.filter((e) => e.playback).map((e) => `${e.type} ${e.playback?.media_uri} ${e.playback?.next_media_uri ?? '-'} ${e.playback?.state}`);
    expect(steps).to.deep.equal([
      'PlaybackStarted sound:one sound:two playing',
      'PlaybackContinuing sound:one sound:two continuing',
      'PlaybackStarted sound:two - playing',
      'PlaybackFinished sound:two - done',
    ]);
  });

  it('finishes a playback of a missing file quickly with state "failed" (the POST still answers 201)', async () => {
    h = await harness({ mediaExists: (m) => m !== 'sound:nope' });
    const { channel } = await call();
    await channel.answer();
    const playback = h.ari.Playback();
    const finished = new Promise<PlaybackFinished>((resolve) => playback.once('PlaybackFinished', (event) => resolve(event)));
    const queued = await channel.play({ media: 'sound:nope' }, playback);
    expect(queued.state).to.equal('queued');
    expect((await finished).playback.state).to.equal('failed');
    expect(h.seen.slice(-2)).to.deep.equal(['PlaybackStarted', 'PlaybackFinished']);
  });

  it('stops a playback on DELETE /playbacks/{id}: 204, then PlaybackFinished (done)', async () => {
    h = await harness({ playbackMs: () => 60_000 });
    const { channel } = await call();
    await channel.answer();
    const playback = h.ari.Playback();
    const started = new Promise<void>((resolve) => playback.once('PlaybackStarted', () => resolve()));
    const finished = new Promise<PlaybackFinished>((resolve) => playback.once('PlaybackFinished', (event) => resolve(event)));
    await channel.play({ media: 'sound:very-long' }, playback);
    await started;
    await playback.stop();
    expect((await finished).playback.state).to.equal('done');
  });

  it('sends caller DTMF as ChannelDtmfReceived, one per digit, with duration_ms', async () => {
    h = await harness();
    const { channel, id } = await call();
    const digits: string[] = [];
    const all = new Promise<void>((resolve) => {
      channel.on('ChannelDtmfReceived', (event: ChannelDtmfReceived) => {
        expect(event.duration_ms).to.equal(100);
        expect(event.channel.id).to.equal(id);
        digits.push(event.digit);
        if (digits.length === 4) resolve();
      });
    });
    await h.fake.pressDigits(id, '12#*', { gapMs: 5 });
    await all;
    expect(digits).to.deep.equal(['1', '2', '#', '*']);
  });

  it('on a caller hang-up sends ChannelHangupRequest (cause 16) and StasisEnd, and no ChannelDestroyed to the application that owned it', async () => {
    h = await harness();
    const { channel, id } = await call();
    await channel.answer();
    const hangupRequest = h.next<ChannelHangupRequest>('ChannelHangupRequest');
    const end = h.next('StasisEnd');
    const gone = destroyedCause(h, id);
    await h.fake.callerHangup(id, 16);
    expect((await hangupRequest).cause).to.equal(16);
    await end;
    // Seen on Asterisk 22.10.1: the application's subscription ends with StasisEnd.
    expect(await gone).to.equal(16);
    expect(h.fake.events.filter((e) => e.channel?.id === id).map((e) => e.type)).to.deep.equal(['StasisStart', 'ChannelStateChange', 'ChannelHangupRequest', 'StasisEnd']);
  });

  it('ends a playback cut by the hang-up with PlaybackFinished (failed) before StasisEnd', async () => {
    h = await harness({ playbackMs: () => 60_000 });
    const { channel, id } = await call();
    await channel.answer();
    const playback = h.ari.Playback();
    const started = new Promise<void>((resolve) => playback.once('PlaybackStarted', () => resolve()));
    const finished = new Promise<PlaybackFinished>((resolve) => playback.once('PlaybackFinished', (event) => resolve(event)));
    await channel.play({ media: 'sound:long' }, playback);
    await started;
    const end = h.next('StasisEnd');
    await h.fake.callerHangup(id);
    expect((await finished).playback.state).to.equal('failed');
    await end;
    expect(h.seen.slice(-3)).to.deep.equal(['ChannelHangupRequest', 'PlaybackFinished', 'StasisEnd']);
  });

  it('answers 404 "Channel not found" to every operation once the channel is gone', async () => {
    h = await harness();
    const { channel, id } = await call();
    await h.fake.callerHangup(id);
    expect(await ariError(channel.answer())).to.deep.equal({ message: 'Channel not found' });
    expect(await ariError(channel.play({ media: 'sound:x' }, h.ari.Playback()))).to.deep.equal({ message: 'Channel not found' });
    expect(await ariError(channel.hangup())).to.deep.equal({ message: 'Channel not found' });
    expect(await ariError(h.ari.channels.get({ channelId: id }))).to.deep.equal({ message: 'Channel not found' });
    const statuses = h.fake.requests.filter((r) => r.path.startsWith(`/ari/channels/${id}`)).map((r) => r.status);
    expect(statuses).to.deep.equal([404, 404, 404, 404]);
  });

  it('hangs up on DELETE: 204, ChannelHangupRequest (soft, cause 32), StasisEnd; the channel is destroyed with the reason_code', async () => {
    h = await harness();
    const { id } = await call();
    const end = h.next('StasisEnd');
    const destroyed = destroyedCause(h, id);
    const request = h.next<ChannelHangupRequest>('ChannelHangupRequest');
    await h.ari.channels.hangup({ channelId: id, reason_code: '17' } as { channelId: string });
    const del = h.fake.requests.find((r) => r.method === 'DELETE' && r.path === `/ari/channels/${id}`);
    expect(del?.status).to.equal(204);
    expect(del?.query).to.include({ reason_code: '17' });
    expect(await request).to.include({ cause: 32, soft: true });
    await end;
    expect(await destroyed).to.equal(17);
    expect(h.seen).to.deep.equal(['StasisStart', 'ChannelHangupRequest', 'StasisEnd']);
    expect(h.fake.channel(id)?.destroyed).to.equal(true);
  });

  it('answers 409 "Channel not in Stasis application" once the channel left Stasis', async () => {
    h = await harness();
    const { channel } = await call();
    const end = h.next('StasisEnd');
    await channel.continueInDialplan();
    await end;
    expect(await ariError(channel.answer())).to.deep.equal({ message: 'Channel not in Stasis application' });
  });
});

/** The cause a channel is destroyed with, as the far end learns it (the application is not told). */
function destroyedCause(h: Harness, id: string): Promise<number> {
  return new Promise((resolve) => {
    const stop = h.fake.onChannelDestroyed((channel, cause) => {
      if (channel.id !== id) return;
      stop();
      resolve(cause);
    });
  });
}
