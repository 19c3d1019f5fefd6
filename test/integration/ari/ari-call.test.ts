// AriCall, the Call port over one channel, driven directly against the fake ARI.
import { expect } from 'chai';
import { AriCall, AriConnection, AriTimeoutError, ChannelDispatcher, type AriEvent } from '../../../lib/ari/index.js';
import { CallEndedError, VerbFailure } from '../../../lib/flow/index.js';
import { FakeAri } from '../../support/fake-ari/index.js';
import { stderrLogger } from '../../support/stderr-logger.js';

const APP = 'ari-call-test';
const TONE = 'tone:ring';
const BEEP = 'sound:beep';

describe('ARI: AriCall', function () {
  const log = stderrLogger('error');
  const dispatcher = new ChannelDispatcher();
  const waiting = new Map<string, (call: AriCall) => void>();
  let fake: FakeAri;
  let connection: AriConnection;

  before(async function () {
    fake = await FakeAri.start({ playbackMs: (media) => (media === TONE ? Infinity : media.includes('missing') ? 10 : 30), mediaExists: (m) => !m.includes('missing') });
    connection = new AriConnection(
      { url: fake.url, username: fake.username, password: fake.password, app: APP, requestTimeoutMs: 200 },
      log,
    );
    connection.start({
      event(event: AriEvent) {
        if (event.type === 'StasisStart' && event.channel) {
          const call = new AriCall({ channel: event.channel, call: 'c', sca: 's', from: event.channel.caller.number, tn: '1', rest: connection.rest, log });
          dispatcher.register(call.channelId, (e) => call.handle(e));
          waiting.get(call.channelId)?.(call);
          return;
        }
        dispatcher.dispatch(event);
      },
      connected: () => undefined,
    });
    await connection.whenState('connected');
  });

  after(async function () {
    await connection.stop();
    await fake.close();
  });

  async function newCall(): Promise<AriCall> {
    const id = `chan-${Math.random().toString(16).slice(2)}`;
    const ready = new Promise<AriCall>((resolve) => waiting.set(id, resolve));
    await fake.placeCall({ from: '15550001111', did: '1', app: APP, channelId: id });
    const call = await ready;
    waiting.delete(id);
    return call;
  }

  function requests(call: AriCall): string[] {
    return fake.requests.filter((r) => r.path.includes(call.channelId) || r.path.startsWith('/ari/playbacks/')).map((r) => `${r.method} ${r.path.replace(`/ari/channels/${call.channelId}`, '')}`);
  }

  it('answers once and reports the call live', async function () {
    const call = await newCall();
    expect(call.info.state).to.equal('ringing');
    await call.answer();
    await call.answer();
    expect(call.info.state).to.equal('live');
    expect(requests(call)).to.deep.equal(['POST /answer']);
  });

  it('plays `loop` times in sequence, each to its PlaybackFinished', async function () {
    const call = await newCall();
    expect(await call.play({ kind: 'sound', uri: BEEP }, { loop: 3 })).to.deep.equal({});
    const plays = fake.requests.filter((r) => r.path === `/ari/channels/${call.channelId}/play`);
    expect(plays.map((r) => r.query['media'])).to.deep.equal([BEEP, BEEP, BEEP]);
    expect(new Set(plays.map((r) => r.query['playbackId'])).size).to.equal(3);
  });

  it('maps recordings and URLs to media URIs, and refuses unrendered speech', async function () {
    const call = await newCall();
    fake.addStoredRecording('greeting');
    await call.play({ kind: 'recording', tag: 'greeting' }, { loop: 1 });
    await call.play({ kind: 'url', url: 'http://media.invalid/a.wav' }, { loop: 1 });
    const media = fake.requests.filter((r) => r.path.endsWith('/play') && r.path.includes(call.channelId)).map((r) => r.query['media']);
    expect(media).to.deep.equal(['recording:greeting', 'sound:http://media.invalid/a.wav']);
    const error = await call.play({ kind: 'speech', text: 'hi', voice: { lang: 'en-US', gender: 'FEMALE', type: 'Standard' } }, { loop: 1 }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(VerbFailure).with.property('code', 'speech');
  });

  it('stops a playback on a stop key (DELETE /playbacks/{id}) and resolves with it', async function () {
    const call = await newCall();
    const playing = call.play({ kind: 'sound', uri: TONE }, { loop: 1, stopOnDigits: '#*' });
    const play = await fake.waitForRequest((r) => r.path === `/ari/channels/${call.channelId}/play`);
    await fake.pressDigits(call.channelId, '5#');
    expect(await playing).to.deep.equal({ digit: '#' });
    expect(fake.requests.some((r) => r.method === 'DELETE' && r.path === `/ari/playbacks/${play.query['playbackId']}`)).to.equal(true);
  });

  it('fails with VerbFailure media when the playback fails', async function () {
    const call = await newCall();
    const error = await call.play({ kind: 'sound', uri: 'sound:missing' }, { loop: 1 }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(VerbFailure).with.property('code', 'media');
  });

  it('pauses for its length, or until a stop key', async function () {
    const call = await newCall();
    const started = Date.now();
    expect(await call.pause(50, { stopOnDigits: '' })).to.deep.equal({});
    expect(Date.now() - started).to.be.at.least(45);
    const pausing = call.pause(10_000, { stopOnDigits: '9' });
    await fake.pressDigits(call.channelId, '19');
    expect(await pausing).to.deep.equal({ digit: '9' });
  });

  it('collects digits up to maxDigits, a finish key, or the inter-digit time-out', async function () {
    const call = await newCall();
    let collecting = call.collectDigits({ maxDigits: 3, finishOnKey: '#', timeout: 5000 });
    await fake.pressDigits(call.channelId, '123');
    expect(await collecting).to.equal('123');
    collecting = call.collectDigits({ maxDigits: 10, finishOnKey: '#', timeout: 5000 });
    await fake.pressDigits(call.channelId, '42#');
    expect(await collecting).to.equal('42');
    collecting = call.collectDigits({ maxDigits: 10, finishOnKey: '#', timeout: 80 });
    await fake.pressDigits(call.channelId, '7');
    expect(await collecting).to.equal('7');
  });

  it('rejects a wait with CallEndedError when the caller hangs up, and sends nothing more', async function () {
    const call = await newCall();
    const playing = call.play({ kind: 'sound', uri: TONE }, { loop: 1, stopOnDigits: '#' }).catch((e: unknown) => e);
    await fake.waitForRequest((r) => r.path === `/ari/channels/${call.channelId}/play`);
    await fake.callerHangup(call.channelId);
    const error = await playing;
    expect(error).to.be.instanceOf(CallEndedError);
    expect(call.ended.aborted).to.equal(true);
    const count = requests(call).length;
    expect(await call.pause(10, {}).catch((e: unknown) => e)).to.be.instanceOf(CallEndedError);
    expect(await call.hangup({ cause: 'normal_clearing', reason: 'test' }).catch((e: unknown) => e)).to.be.instanceOf(CallEndedError);
    expect(requests(call)).to.have.length(count);
  });

  it('treats 404 "Channel not found" as the end of the call, not an error', async function () {
    const call = await newCall();
    fake.failNext({ method: 'POST', path: `/channels/${call.channelId}/answer` }, { status: 404, message: 'Channel not found' });
    expect(await call.answer().catch((e: unknown) => e)).to.be.instanceOf(CallEndedError);
    expect(call.ended.aborted).to.equal(true);
    expect(log.entries.filter((e) => e.level === 'warn' || e.level === 'error')).to.deep.equal([]);
  });

  it('times out a request Asterisk does not answer, leaving nothing pending: a VerbFailure ari_timeout', async function () {
    const call = await newCall();
    fake.delayNext({ method: 'POST', path: `/channels/${call.channelId}/answer` }, 600);
    const started = Date.now();
    const error = await call.answer().catch((e: unknown) => e);
    expect(error).to.be.instanceOf(VerbFailure).with.property('code', 'ari_timeout');
    expect((error as VerbFailure).reason).to.equal('Asterisk did not answer in time');
    expect((error as VerbFailure).cause).to.be.instanceOf(AriTimeoutError);
    expect(Date.now() - started).to.be.below(500);
    expect(call.ended.aborted).to.equal(false);
  });

  it('makes a refused or timed-out play and hang-up a VerbFailure (ari_unavailable, ari_timeout), the call still up', async function () {
    const call = await newCall();
    fake.failNext({ method: 'POST', path: `/channels/${call.channelId}/play` }, { status: 503, message: 'Service Unavailable' });
    const refused = await call.play({ kind: 'sound', uri: BEEP }, { loop: 1 }).catch((e: unknown) => e);
    expect(refused).to.be.instanceOf(VerbFailure).with.property('code', 'ari_unavailable');
    expect((refused as VerbFailure).reason).to.equal('Asterisk refused the request');
    fake.delayNext({ method: 'POST', path: `/channels/${call.channelId}/play` }, 600);
    const late = await call.play({ kind: 'sound', uri: BEEP }, { loop: 1 }).catch((e: unknown) => e);
    expect(late).to.be.instanceOf(VerbFailure).with.property('code', 'ari_timeout');
    fake.delayNext({ method: 'DELETE', path: `/channels/${call.channelId}` }, 600);
    const hangup = await call.hangup({ cause: 'normal_clearing', reason: 'test' }).catch((e: unknown) => e);
    expect(hangup).to.be.instanceOf(VerbFailure).with.property('code', 'ari_timeout');
    expect(call.ended.aborted).to.equal(false);
    expect(await call.play({ kind: 'sound', uri: BEEP }, { loop: 1 })).to.deep.equal({});
  });

  it('hangs up with the Q.850 cause of the request', async function () {
    const causes = { normal_clearing: '16', unallocated_number: '1', temporary_failure: '41', no_circuit_available: '34' } as const;
    for (const [cause, code] of Object.entries(causes)) {
      const call = await newCall();
      await call.hangup({ cause: cause as keyof typeof causes, reason: 'test', tag: 't1' });
      const request = fake.requests.find((r) => r.method === 'DELETE' && r.path === `/ari/channels/${call.channelId}`);
      expect(request?.query['reason_code']).to.equal(code);
      expect(call.ended.aborted).to.equal(true);
      const logged = log.entries.find((e) => e.msg === 'hanging up' && (e.obj as { channel?: string }).channel === call.channelId);
      expect(logged?.obj).to.include({ reason: 'test', tag: 't1', reasonCode: Number(code) });
    }
  });
});
