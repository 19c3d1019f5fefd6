import { expect } from 'chai';
import type { Channel, ChannelVarset, StasisStart } from 'ari-client';
import { APP, ariError, harness, type Harness } from './helpers.js';

describe('fake ARI: other channel operations and their errors', () => {
  let h: Harness;
  afterEach(async () => h.close());

  async function call(variables: Record<string, string> = {}): Promise<{ channel: Channel; start: StasisStart; id: string }> {
    const started = new Promise<{ start: StasisStart; channel: Channel }>((resolve) =>
      h.ari.once('StasisStart', (start: StasisStart, channel: Channel) => resolve({ start, channel })),
    );
    const placed = await h.fake.placeCall({ from: '15551230000', fromName: 'Alice', did: '15551234567', variables });
    const { start, channel } = await started;
    return { channel, start, id: placed.id };
  }

  it('gets and sets channel variables: {"value"}, ChannelVarset, 404 "Provided variable was not found"', async () => {
    h = await harness();
    const { channel, id } = await call({ SIP_HEADER_X: 'abc' });
    expect(await channel.getChannelVar({ variable: 'SIP_HEADER_X' })).to.deep.equal({ value: 'abc' });
    expect(await channel.getChannelVar({ variable: 'CALLERID(num)' })).to.deep.equal({ value: '15551230000' });
    const varset = h.next<ChannelVarset>('ChannelVarset');
    await channel.setChannelVar({ variable: 'CALL_UUID', value: 'u-1' });
    expect(await varset).to.include({ variable: 'CALL_UUID', value: 'u-1' });
    expect(h.fake.channel(id)?.view.variables.get('CALL_UUID')).to.equal('u-1');
    expect(await ariError(channel.getChannelVar({ variable: 'NOPE' }))).to.deep.equal({ message: 'Provided variable was not found' });
    const missing = h.fake.requests.find((r) => r.query.variable === 'NOPE');
    expect(missing?.status).to.equal(404);
  });

  it('sets a variable through the channel queue: behind a playback, the answer waits for its end; reading does not wait', async () => {
    h = await harness({ playbackMs: () => 300 });
    const { channel, id } = await call();
    await channel.play({ media: 'sound:long' }, h.ari.Playback());
    await h.next('PlaybackStarted');
    expect(await channel.getChannelVar({ variable: 'CALLERID(num)' })).to.deep.equal({ value: '15551230000' });
    await channel.setChannelVar({ variable: 'CALL_UUID', value: 'u-2' });
    const set = h.fake.requests.find((r) => r.path === `/ari/channels/${id}/variable` && r.method === 'POST');
    expect(set?.durationMs).to.be.greaterThan(150);
    expect(h.fake.events.map((e) => e.type).filter((t) => t === 'PlaybackFinished' || t === 'ChannelVarset')).to.deep.equal(['PlaybackFinished', 'ChannelVarset']);
  });

  it('rings (204, no event), lists the channel, and gives the same JSON on GET as in StasisStart', async () => {
    h = await harness();
    const { channel, start, id } = await call();
    await channel.ring();
    await channel.ringStop();
    const statuses = h.fake.requests.filter((r) => r.path === `/ari/channels/${id}/ring`).map((r) => `${r.method} ${r.status}`);
    expect(statuses).to.deep.equal(['POST 204', 'DELETE 204']);
    expect((await h.ari.channels.list()).map((c) => c.id)).to.deep.equal([id]);
    const got = await h.ari.channels.get({ channelId: id });
    expect(got.caller).to.deep.equal({ name: 'Alice', number: '15551230000' });
    expect({ ...got, _client: undefined }).to.deep.include({ ...start.channel, _client: undefined });
    expect(h.seen).to.deep.equal(['StasisStart']);
  });

  it('answers 400 with the handler message for missing parameters', async () => {
    h = await harness();
    const { channel } = await call();
    expect(await ariError(h.ari.channels.originate({ app: APP } as unknown as { endpoint: string }))).to.deep.equal({ message: 'Endpoint must be specified' });
    expect(await ariError(h.ari.channels.originate({ endpoint: 'PJSIP' }))).to.deep.equal({ message: 'Invalid endpoint specified' });
    expect(await ariError(channel.getChannelVar({} as { variable: string }))).to.deep.equal({ message: 'Variable name is required' });
    expect(await ariError(channel.hangup({ reason: 'because' }))).to.deep.equal({ message: 'Invalid reason for hangup reason provided' });
    const bridge = await h.ari.bridges.create({ type: 'mixing' });
    expect(await ariError(bridge.addChannel({} as { channel: string }))).to.deep.equal({ message: 'Missing parameter channel' });
    expect(await ariError(bridge.addChannel({ channel: 'no-such-channel' }))).to.deep.equal({ message: 'Channel not found' });
    const codes = h.fake.requests.filter((r) => r.status >= 400 && r.path !== '/ari/api-docs/resources.json').map((r) => r.status);
    expect(codes).to.deep.equal([400, 400, 400, 400, 400, 400]);
  });

  it('shows ari.conf channelvars in the Channel JSON when configured', async () => {
    h = await harness({ channelVars: ['CALL_UUID'] });
    const { channel, start } = await call({ CALL_UUID: 'u-2' });
    expect(start.channel.channelvars).to.deep.equal({ CALL_UUID: 'u-2' });
    expect((await channel.get()).channelvars).to.deep.equal({ CALL_UUID: 'u-2' });
  });
});
