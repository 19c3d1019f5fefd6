// ClientRest, the engine's ARI operations, against the fake Asterisk: each operation is the
// request ari-client (swagger-client) sent for it (method, path, query), the answers and
// "already gone" 404s come back as the AriRest interface says, and every request is
// measured in opentact_ari_request_duration_seconds.
import { expect } from 'chai';
import { AriConnection, AriNotConnectedError, AriNotFoundError, type AriRest } from '../../../lib/ari/index.js';
import { Metrics } from '../../../lib/metrics/index.js';
import { FakeAri } from '../../support/fake-ari/index.js';
import { stderrLogger } from '../../support/stderr-logger.js';

const APP = 'rest-test';

describe('ARI: the REST operations (ClientRest)', function () {
  const log = stderrLogger('error');
  let fake: FakeAri;
  let connection: AriConnection;
  let rest: AriRest;
  const metrics = new Metrics();

  before(async function () {
    fake = await FakeAri.start({ playbackMs: () => 60_000 });
    connection = new AriConnection({ url: fake.url, username: fake.username, password: fake.password, app: APP, requestTimeoutMs: 2000, metrics }, log);
    rest = connection.rest;
    connection.start({ event: () => undefined, connected: () => undefined });
    await connection.whenState('connected');
  });

  after(async function () {
    await connection.stop();
    await fake.close();
  });

  /** The requests the fake received while `run` ran, as `METHOD path {query} status`, the channel id as CH. */
  async function sent(channelId: string, run: () => Promise<unknown>): Promise<string[]> {
    const from = fake.requests.length;
    await run();
    return fake.requests.slice(from).map((r) => `${r.method} ${r.path.replaceAll(channelId, 'CH')} ${JSON.stringify(r.query).replaceAll(channelId, 'CH')} ${r.status}`);
  }

  it('sends each operation as ari-client did, and reads the answers', async function () {
    const call = await fake.placeCall({ from: '15551230000', did: '15551234567', app: APP });
    const id = call.id;
    const results: unknown[] = [];
    const keep = (value: unknown): void => {
      results.push(value);
    };
    const requests = await sent(id, async () => {
      await rest.answer(id);
      await rest.ring(id, true);
      await rest.ring(id, false);
      await rest.play(id, 'sound:http://127.0.0.1:1/media/a b.wav', 'pb-1');
      keep(await rest.playbackExists('pb-1'));
      await rest.stopPlayback('pb-1');
      await rest.stopPlayback('pb-1');
      keep(await rest.playbackExists('pb-1'));
      await rest.record(id, { name: 'rec-1', format: 'wav', maxDurationSeconds: 0, terminateOn: '#', ifExists: 'overwrite', beep: false });
      await rest.stopRecording('rec-1');
      keep(await rest.storedRecordingExists('rec-1'));
      keep(await rest.storedRecordingExists('no-such-recording'));
      keep((await rest.getChannel(id))?.state);
      keep(await rest.applicationChannels(APP));
      await rest.originate({ channelId: 'out-1', endpoint: 'PJSIP/15551234567@trunk', app: APP, appArgs: 'dial,leg', callerId: '"Bob" <15551230000>', timeoutSeconds: 30 });
      await rest.createBridge('br-1');
      keep(await rest.bridgeChannels('br-1'));
      keep((await rest.listChannels()).some((channel) => channel.id === id));
      await rest.destroyBridge('br-1');
      await rest.destroyBridge('br-1');
      await rest.hangup(id, 17);
      keep(await rest.getChannel(id));
      keep(await rest.bridgeChannels('br-1'));
    });
    expect(results).to.deep.equal([true, false, true, false, 'Up', [id], [], true, undefined, undefined]);
    expect(requests).to.deep.equal([
      'POST /ari/channels/CH/answer {} 204',
      'POST /ari/channels/CH/ring {} 204',
      'DELETE /ari/channels/CH/ring {} 204',
      'POST /ari/channels/CH/play {"media":"sound:http://127.0.0.1:1/media/a b.wav","playbackId":"pb-1"} 201',
      'GET /ari/playbacks/pb-1 {} 200',
      'DELETE /ari/playbacks/pb-1 {} 204',
      'DELETE /ari/playbacks/pb-1 {} 404',
      'GET /ari/playbacks/pb-1 {} 404',
      'POST /ari/channels/CH/record {"name":"rec-1","format":"wav","maxDurationSeconds":"0","terminateOn":"#","ifExists":"overwrite","beep":"false"} 201',
      'POST /ari/recordings/live/rec-1/stop {} 204',
      'GET /ari/recordings/stored/rec-1 {} 200',
      'GET /ari/recordings/stored/no-such-recording {} 404',
      'GET /ari/channels/CH {} 200',
      `GET /ari/applications/${APP} {} 200`,
      `POST /ari/channels {"endpoint":"PJSIP/15551234567@trunk","app":"${APP}","appArgs":"dial,leg","channelId":"out-1","timeout":"30","callerId":"\\"Bob\\" <15551230000>"} 200`,
      'POST /ari/bridges/br-1 {"type":"mixing"} 200',
      'GET /ari/bridges/br-1 {} 200',
      'GET /ari/channels {} 200',
      'DELETE /ari/bridges/br-1 {} 204',
      'DELETE /ari/bridges/br-1 {} 404',
      'DELETE /ari/channels/CH {"reason_code":"17"} 204',
      'GET /ari/channels/CH {} 404',
      'GET /ari/bridges/br-1 {} 404',
    ]);
  });

  it('adds channels to a bridge as one comma-separated list', async function () {
    const [a, b] = await Promise.all([
      fake.placeCall({ from: '15551230001', did: '15551234567', app: APP }),
      fake.placeCall({ from: '15551230002', did: '15551234567', app: APP }),
    ]);
    if (!a || !b) throw new Error('no calls');
    await rest.createBridge('br-2');
    const requests = await sent(a.id, () => rest.addToBridge('br-2', [a.id, b.id]));
    expect(requests).to.deep.equal([`POST /ari/bridges/br-2/addChannel {"channel":"CH,${b.id}"} 204`]);
    expect(fake.bridges().find((bridge) => bridge.id === 'br-2')?.channels).to.have.members([a.id, b.id]);
  });

  it('fails on a channel that is gone with AriNotFoundError "Channel not found"', async function () {
    const error = await rest.answer('no-such-channel').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(AriNotFoundError);
    expect((error as AriNotFoundError).channelGone).to.equal(true);
  });

  it('counts every request by operation and outcome', async function () {
    const text = await metrics.registry.metrics();
    const count = (operation: string, outcome: string): number => {
      const line = text.split('\n').find((l) => l.startsWith(`opentact_ari_request_duration_seconds_count{operation="${operation}",outcome="${outcome}"}`));
      return line === undefined ? 0 : Number(line.split(' ').at(-1));
    };
    expect(count('answer', 'ok')).to.be.at.least(1);
    expect(count('answer', 'not_found')).to.be.at.least(1);
    expect(count('get_playback', 'not_found')).to.equal(1);
    expect(count('destroy_bridge', 'not_found')).to.equal(1);
  });

  it('fails every request with AriNotConnectedError before the first connection', async function () {
    const idle = new AriConnection({ url: fake.url, username: fake.username, password: fake.password, app: 'never-started', requestTimeoutMs: 500 }, log);
    const error = await idle.rest.hangup('x', 16).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(AriNotConnectedError);
  });
});
