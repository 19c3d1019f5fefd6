// Admission control on the fake ARI, as a caller and an operator see it: beyond MAX_CALLS,
// beyond MAX_CALLS_PER_SECOND, or while too many ARI requests are in flight, a new call is
// hung up at once with cause 42 without being answered; the calls already taken are served
// to their end; /metrics counts each refusal by reason and the log says it once a second.
import type http from 'node:http';
import { expect } from 'chai';
import { NO_ADMISSION_LIMITS, type AdmissionSettings } from '../../../lib/config/index.js';
import { Metrics } from '../../../lib/metrics/index.js';
import type { FakeChannel } from '../../support/fake-ari/index.js';
import type { ScriptedServer } from '../../support/http-servers.js';
import { ManualClock } from '../../support/manual-clock.js';
import { APP_NAME, AriSuite, CALLER, apps, xml } from './harness.js';

const DID = '15551280001';

/** The customer's server holds each callback until the test releases it: a call in progress for as long as the test wants. */
class HeldCallbacks {
  private readonly held: http.ServerResponse[] = [];
  server!: ScriptedServer;

  constructor(private readonly next: () => string) {}

  readonly handler = (_req: http.IncomingMessage, res: http.ServerResponse): void => void this.held.push(res);

  /** Resolves once `count` callbacks have arrived since the start, released or not. */
  async until(count: number, timeoutMs = 5000): Promise<void> {
    const late = AbortSignal.timeout(timeoutMs);
    await Promise.race([
      this.server.waitForRequests(count),
      new Promise<never>((_resolve, reject) => late.addEventListener('abort', () => reject(new Error(`${this.server.requests.length} callbacks, not ${count}, within ${timeoutMs} ms`)))),
    ]);
  }

  releaseAll(): void {
    for (const res of this.held.splice(0)) if (!res.writableEnded && !res.destroyed) xml(res, this.next());
  }
}

interface Overload {
  readonly suite: AriSuite;
  readonly callbacks: HeldCallbacks;
  readonly clock: ManualClock;
}

/** A suite whose app plays the welcome prompt, holds in a callback, then plays the next prompt and hangs up. */
function overloadSuite(name: string, settings: Partial<AdmissionSettings>, options: { requestTimeoutMs?: number } = {}): Overload {
  const suite = new AriSuite(`admission-${name}`);
  const clock = new ManualClock();
  let next = '';
  const callbacks = new HeldCallbacks(() => `<Response><Play>${next}</Play><Hangup/></Response>`);
  const overload: Overload = { suite, callbacks, clock };
  before(async function () {
    const prompts = await suite.prompts();
    next = prompts.next;
    const server = await suite.server(callbacks.handler);
    callbacks.server = server;
    await suite.start(
      apps([
        {
          uuid: `app-admission-${name}`,
          name: 'Admission',
          numbers: [DID],
          xml: `<Response><Play>${prompts.welcome}</Play><Callback url="${server.origin}/next" timeout="20000"/></Response>`,
        },
      ]),
      { metrics: new Metrics(), admission: { settings: { ...NO_ADMISSION_LIMITS, ...settings }, clock }, ...options },
    );
  });
  after(async function () {
    callbacks.releaseAll();
    await suite.close();
  });
  return overload;
}

function call(suite: AriSuite): Promise<FakeChannel> {
  return suite.fake.placeCall({ from: CALLER, did: DID, app: APP_NAME });
}

/** The engine's hang-up of a channel, once made: its Q.850 cause. */
async function hangupCause(suite: AriSuite, channel: FakeChannel): Promise<string | undefined> {
  const hangup = await suite.fake.waitForRequest((r) => r.method === 'DELETE' && r.path === `/ari/channels/${channel.id}`, 5000);
  return hangup.query['reason_code'];
}

/** What the caller of a refused call got: hung up with cause 42, never answered, nothing played. */
async function expectRefused(suite: AriSuite, channel: FakeChannel): Promise<void> {
  expect(await hangupCause(suite, channel)).to.equal('42');
  expect(suite.describe(channel.id)).to.deep.equal(['DELETE 42']);
  expect(channel.events().some((e) => e.type === 'ChannelStateChange' && e.channel?.state === 'Up')).to.equal(false);
}

/** A call taken and served to its end: the welcome prompt, the callback's document, the hang-up. */
async function expectServed(overload: Overload, channel: FakeChannel): Promise<void> {
  expect(await hangupCause(overload.suite, channel)).to.equal('16');
  expect(overload.suite.describe(channel.id)).to.deep.equal(['POST answer', 'POST play welcome.wav', 'POST play next.wav', 'DELETE 16']);
}

async function refusedMetric(suite: AriSuite, reason: string): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${suite.http.port}/metrics`, { signal: AbortSignal.timeout(5000) });
  const line = (await response.text()).split('\n').find((l) => l.startsWith(`opentact_calls_refused_total{reason="${reason}"} `));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

function overloadLines(suite: AriSuite): Record<string, unknown>[] {
  return suite.logger.entries.filter((e) => e.msg?.startsWith('overload: new calls refused')).map((e) => ({ level: e.level, ...e.obj }));
}

describe('ARI: admission control (fake ARI)', function () {
  this.timeout(30_000);

  describe('MAX_CALLS=1', function () {
    const overload = overloadSuite('calls', { maxCalls: 1 });
    const { suite, callbacks } = overload;

    it('refuses a second call while the first is in progress (cause 42, never answered), serves the first to its end, then takes the next', async function () {
      const first = await call(suite);
      await callbacks.until(1);

      const second = await call(suite);
      await expectRefused(suite, second);
      expect(await refusedMetric(suite, 'overload_calls')).to.equal(1);
      const [line, ...more] = overloadLines(suite);
      expect(more).to.deep.equal([]);
      expect(line).to.deep.include({ level: 'warn', refused: 1, reasons: { overload_calls: 1 }, channels: [second.id], cause: 42, calls: 1 });
      // Refusing is decided per call: the process stays ready, and /ready says why calls are refused.
      const ready = await fetch(`http://127.0.0.1:${suite.http.port}/ready`);
      expect(ready.status).to.equal(200);
      expect(await ready.json()).to.deep.include({ ready: true, calls: 1, overload: ['overload_calls'] });

      callbacks.releaseAll();
      await expectServed(overload, first);
      await suite.role.app.whenIdle();

      const third = await call(suite);
      await callbacks.until(2);
      callbacks.releaseAll();
      await expectServed(overload, third);
      expect(await refusedMetric(suite, 'overload_calls')).to.equal(1);
    });
  });

  describe('MAX_CALLS_PER_SECOND=2 (on a clock of the test)', function () {
    const overload = overloadSuite('rate', { maxCallsPerSecond: 2 });
    const { suite, callbacks, clock } = overload;

    it('takes two calls at once, refuses the next three within the second, logs the first refusal at once and the other two a second later, then takes calls again', async function () {
      const taken = [await call(suite), await call(suite)];
      const refused = [await call(suite), await call(suite), await call(suite)];
      for (const channel of refused) await expectRefused(suite, channel);
      expect(await refusedMetric(suite, 'overload_rate')).to.equal(3);
      expect(overloadLines(suite).map((l) => l['channels'])).to.deep.equal([[refused[0]?.id]]);
      clock.advance(1000);
      const lines = overloadLines(suite);
      expect(lines).to.have.length(2);
      expect(lines[1]).to.deep.include({ refused: 2, reasons: { overload_rate: 2 }, channels: [refused[1]?.id, refused[2]?.id] });

      // A second later there are two tokens again.
      const later = await call(suite);
      await callbacks.until(3);
      callbacks.releaseAll();
      for (const channel of [...taken, later]) await expectServed(overload, channel);
    });
  });

  describe('OVERLOAD_ARI_REQUESTS=2', function () {
    const overload = overloadSuite('ari', { ariRequests: 2 }, { requestTimeoutMs: 10_000 });
    const { suite, callbacks } = overload;

    it('refuses a new call while two ARI requests are waiting for Asterisk, and takes calls again once they are answered', async function () {
      // Asterisk is slow to answer the next two answers.
      suite.fake.delayNext({ method: 'POST', path: /\/answer$/ }, 3000, 2);
      const slow = [await call(suite), await call(suite)];
      for (const channel of slow) await suite.fake.waitForArrival((r) => r.path === `/ari/channels/${channel.id}/answer`);
      expect(suite.role.connection.requestsInFlight).to.equal(2);

      const refused = await call(suite);
      await expectRefused(suite, refused);
      expect(await refusedMetric(suite, 'overload_ari')).to.equal(1);
      expect(overloadLines(suite)[0]).to.deep.include({ reasons: { overload_ari: 1 }, channels: [refused.id], ariRequestsInFlight: 2 });

      // Both answered, both held in their callback: nothing in flight.
      await callbacks.until(2);
      const later = await call(suite);
      await callbacks.until(3);
      callbacks.releaseAll();
      for (const channel of [...slow, later]) await expectServed(overload, channel);
    });
  });
});
