import { expect } from 'chai';
import type { Channel, ChannelDestroyed, Dial, LiveRecording, RecordingFinished, StasisStart } from 'ari-client';
import { APP, answeredCall, ariError, harness, type Harness } from './helpers.js';

describe('fake ARI: outbound channels, bridges, recordings', () => {
  let h: Harness;
  afterEach(async () => h.close());

  it('originates: 200 with the channel Down, then Dial/ringing, Up, and StasisStart with the appArgs', async () => {
    h = await harness();
    const outbound: Channel = h.ari.Channel();
    const stasisStart = new Promise<StasisStart>((resolve) => outbound.once('StasisStart', (e: StasisStart) => resolve(e)));
    const created = await outbound.originate({
      endpoint: 'PJSIP/15550001111@trunk',
      app: APP,
      appArgs: 'dial,call-1',
      callerId: '"Opentact" <15551234567>',
    });
    expect(created.id).to.equal(outbound.id);
    expect(created.state).to.equal('Down');
    expect(created.name).to.match(/^PJSIP\/trunk-[0-9a-f]{8}$/);
    expect(created.caller).to.deep.equal({ name: 'Opentact', number: '15551234567' });
    const started = await stasisStart;
    expect(started.args).to.deep.equal(['dial', 'call-1']);
    expect(started.channel.state).to.equal('Up');
    const dials = h.fake.events.filter((e) => e.type === 'Dial').map((e) => e.dialstatus);
    expect(dials).to.deep.equal(['', 'RINGING', 'ANSWER']);
    expect(h.seen).to.deep.equal(['Dial', 'ChannelStateChange', 'Dial', 'ChannelStateChange', 'Dial', 'StasisStart']);
  });

  it('reports a busy callee as Asterisk 22.10.1 does: Dial BUSY, then ChannelDestroyed with cause 0, never StasisStart', async () => {
    h = await harness({ outbound: () => ({ outcome: 'busy' }) });
    const destroyed = h.next<ChannelDestroyed>('ChannelDestroyed');
    await h.ari.channels.originate({ endpoint: 'PJSIP/15550002222@trunk', app: APP, appArgs: 'dial' });
    // Only the Dial event says busy: the originated leg itself is destroyed with cause 0.
    expect(await destroyed).to.include({ cause: 0 });
    expect(h.fake.events.find((e) => e.type === 'Dial' && e.dialstatus === 'BUSY')).to.not.equal(undefined);
    expect(h.seen).to.not.include('StasisStart');
  });

  it('creates a channel into Stasis (Down, 412 for media until dialled), dials it, bridges it with the caller', async () => {
    h = await harness({ outbound: () => ({ outcome: 'wait' }) });
    const { id: callerId } = await answeredCall(h);
    const created = new Promise<StasisStart>((resolve) => h.ari.once('StasisStart', (e: StasisStart) => resolve(e)));
    const callee = await h.ari.channels.create({ endpoint: 'PJSIP/15550003333@trunk', app: APP, appArgs: 'callee' });
    expect(callee.state).to.equal('Down');
    expect((await created).args).to.deep.equal(['callee']);
    expect(await ariError(callee.play({ media: 'sound:x' }, h.ari.Playback()))).to.deep.equal({ message: 'Channel in invalid state' });

    const answered = h.fake.waitForEvent((e) => e.type === 'Dial' && e.dialstatus === 'ANSWER');
    await callee.dial({ caller: callerId });
    await h.fake.waitForEvent((e) => e.type === 'Dial' && e.dialstatus === 'RINGING');
    h.fake.remoteAnswer(callee.id);
    expect((await answered).peer?.state).to.equal('Up');

    const bridge = h.ari.Bridge();
    await bridge.create({ type: 'mixing' });
    const entered: string[] = [];
    const both = new Promise<void>((resolve) =>
      h.ari.on('ChannelEnteredBridge', (e) => {
        entered.push(e.channel?.id ?? '');
        if (entered.length === 2) resolve();
      }),
    );
    await bridge.addChannel({ channel: [callerId, callee.id] });
    await both;
    expect(entered).to.deep.equal([callerId, callee.id]);
    expect((await h.ari.bridges.get({ bridgeId: bridge.id })).channels).to.deep.equal([callerId, callee.id]);

    const end = h.next('StasisEnd');
    await h.fake.callerHangup(callerId);
    await end;
    const mine = h.fake.events.filter((e) => e.channel?.id === callerId).map((e) => e.type);
    expect(mine.slice(-3)).to.deep.equal(['ChannelHangupRequest', 'ChannelLeftBridge', 'StasisEnd']);
    expect((await h.ari.bridges.get({ bridgeId: bridge.id })).channels).to.deep.equal([callee.id]);
    expect(await ariError(bridge.removeChannel({ channel: callerId }))).to.deep.equal({ message: 'Channel not found' });
  });

  it('records: 201 queued, RecordingStarted, and on the terminating digit RecordingFinished and a stored recording', async () => {
    h = await harness({ secondMs: 10 });
    const { channel, id } = await answeredCall(h);
    const recording: LiveRecording = h.ari.LiveRecording();
    const started = new Promise<void>((resolve) => recording.once('RecordingStarted', () => resolve()));
    const finished = new Promise<RecordingFinished>((resolve) => recording.once('RecordingFinished', (e: RecordingFinished) => resolve(e)));
    const live = await channel.record({ name: recording.name, format: 'wav', terminateOn: '#', maxDurationSeconds: 60 }, recording);
    expect(live).to.include({ name: recording.name, format: 'wav', state: 'queued', target_uri: `channel:${id}` });
    const post = h.fake.requests.find((r) => r.path === `/ari/channels/${id}/record`);
    expect(post?.status).to.equal(201);
    await started;
    await h.fake.pressDigits(id, '#');
    const done = await finished;
    expect(done.recording.state).to.equal('done');
    expect(done.recording.duration).to.be.a('number');
    expect(await h.ari.recordings.getStored({ recordingName: recording.name })).to.include({ name: recording.name, format: 'wav' });
    // (A LiveRecording instance passed to channel.record() would replace the name with its own.)
    expect(await ariError(h.ari.channels.record({ channelId: id, name: recording.name, format: 'wav' }))).to.deep.equal({
      message: `Recording '${recording.name}' already exists and can not be overwritten`,
    });
  });

  it('stops a live recording on POST /recordings/live/{name}/stop and ends it at maxDurationSeconds', async () => {
    h = await harness({ secondMs: 10 });
    const { channel } = await answeredCall(h);
    const first = h.ari.LiveRecording();
    const firstDone = new Promise<RecordingFinished>((resolve) => first.once('RecordingFinished', (e: RecordingFinished) => resolve(e)));
    const firstStarted = new Promise<void>((resolve) => first.once('RecordingStarted', () => resolve()));
    await channel.record({ name: first.name, format: 'wav' }, first);
    await firstStarted;
    await first.stop();
    expect((await firstDone).recording.state).to.equal('done');

    const second = h.ari.LiveRecording();
    const secondDone = new Promise<RecordingFinished>((resolve) => second.once('RecordingFinished', (e: RecordingFinished) => resolve(e)));
    await channel.record({ name: second.name, format: 'wav', maxDurationSeconds: 3 }, second);
    expect((await secondDone).recording.duration).to.equal(3);
    expect(await ariError(h.ari.recordings.getLive({ recordingName: second.name }))).to.deep.equal({ message: 'Recording not found' });
  });

  it('ends a recording after maxSilenceSeconds of silence, reporting talking and silence durations', async () => {
    h = await harness({ secondMs: 20 });
    const { channel, id } = await answeredCall(h);
    const recording = h.ari.LiveRecording();
    const started = new Promise<void>((resolve) => recording.once('RecordingStarted', () => resolve()));
    const finished = new Promise<RecordingFinished>((resolve) => recording.once('RecordingFinished', (e: RecordingFinished) => resolve(e)));
    h.fake.setCallerTalking(id, true);
    await channel.record({ name: recording.name, format: 'wav', maxSilenceSeconds: 2 }, recording);
    await started;
    // The caller talks for about 5 Asterisk seconds (100 ms at 20 ms a second), then stops.
    await new Promise((resolve) => setTimeout(resolve, 100));
    h.fake.setCallerTalking(id, false);
    const done = (await finished).recording;
    expect(done.state).to.equal('done');
    // Wide bounds: the 100 ms of talk are wall-clock time, which a loaded machine stretches.
    expect(done.duration).to.be.within(6, 10);
    expect(done.talking_duration).to.be.within(4, 8);
    expect(done.silence_duration).to.equal((done.duration ?? 0) - (done.talking_duration ?? 0));
  });

  it('gives ari-client Dial events with the peer channel and the dial string', async () => {
    h = await harness();
    const dial = h.next<Dial>('Dial');
    const outbound = h.ari.Channel();
    await outbound.originate({ endpoint: 'PJSIP/alice', app: APP });
    const event = await dial;
    expect(event.peer.id).to.equal(outbound.id);
    expect(event.dialstring).to.equal('alice');
  });
});
