// Call events (spec §6) on the fake ARI: POSTed to the app's events_url through the
// `events` queue, signed with the app's secret, each with its uuid, call, sca, timestamp
// and per-call sequence; an endpoint that fails for a while gets everything afterwards;
// a dead endpoint does not change a call's timing.
import { expect } from 'chai';
import { verifySignature } from '../../../lib/callback/signature.js';
import { ENGINE_QUEUES } from '../../../lib/queue/names.js';
import { attemptsFor, backoffFor, DEFAULT_EVENT_RETRY } from '../../../lib/events/index.js';
import { closedPort, type RecordedRequest, type ScriptedServer } from '../../support/http-servers.js';
import { APP_NAME, AriSuite, CALLER, apps } from '../ari/harness.js';

const SECRET = 'events-secret-0123456789';

interface Received {
  readonly uuid: string;
  readonly type: string;
  readonly call: string;
  readonly sca: string;
  readonly timestamp: string;
  readonly sequence: number;
  readonly [key: string]: unknown;
}

function parsed(requests: readonly RecordedRequest[]): Received[] {
  return requests.filter((r) => r.method === 'POST').map((r) => JSON.parse(r.body) as Received);
}

/** The distinct events of one call (by uuid), ordered by sequence. */
function eventsOfCall(requests: readonly RecordedRequest[], call: string): Received[] {
  const byUuid = new Map<string, Received>();
  for (const event of parsed(requests)) if (event.call === call) byUuid.set(event.uuid, event);
  return [...byUuid.values()].sort((a, b) => a.sequence - b.sequence);
}

/** Waits until the server has received a `destroyed` event (each call's last), or fails. */
async function waitForDestroyed(server: ScriptedServer, count: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const destroyed = new Set(parsed(server.requests).filter((e) => e['state'] === 'destroyed').map((e) => e.call));
    if (destroyed.size >= count) return;
    if (Date.now() > until) throw new Error(`only ${destroyed.size} of ${count} calls' destroyed events arrived within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function summary(events: readonly Received[]): string[] {
  return events.map((e) => (e.type === 'call_state' ? `state:${String(e['state'])}` : `flow:${String(e['command'])}:${String(e['success'])}`));
}

describe('call events: the events queue', function () {
  it('is one of the engine queues (the dashboard shows it)', function () {
    expect(ENGINE_QUEUES).to.include('events');
  });

  it('retries for at least EVENTS_RETRY_FOR_MS: the waits between the attempts add up to an hour by default', function () {
    const attempts = attemptsFor(DEFAULT_EVENT_RETRY);
    let waited = 0;
    for (let made = 1; made < attempts; made += 1) waited += backoffFor(made, DEFAULT_EVENT_RETRY);
    expect(waited).to.be.at.least(3_600_000);
    expect(waited - backoffFor(attempts - 1, DEFAULT_EVENT_RETRY)).to.be.below(3_600_000);
    expect(backoffFor(1, DEFAULT_EVENT_RETRY)).to.equal(1000);
    expect(backoffFor(30, DEFAULT_EVENT_RETRY)).to.equal(DEFAULT_EVENT_RETRY.maxMs);
  });
});

describe('call events: a call with a callback, its error branch and a hang-up', function () {
  this.timeout(30_000);
  const suite = new AriSuite('events');
  const DID = '15551260001';
  const CALLER_HANGS_UP_DID = '15551260002';
  let events: ScriptedServer;
  let failingUrl: string;

  before(async function () {
    events = await suite.server((_req, res) => res.writeHead(204).end());
    const callbacks = await suite.server((_req, res) => res.writeHead(404).end());
    failingUrl = `${callbacks.origin}/fail`;
    await suite.start(
      apps([
        {
          uuid: 'app-events',
          name: 'Events',
          numbers: [DID],
          events_url: `${events.origin}/events`,
          xml: `<Response><Answer/><Callback url="${failingUrl}" timeout="3000"><Error><Say>Sorry</Say></Error></Callback><Hangup/></Response>`,
        },
        {
          uuid: 'app-events-caller',
          name: 'Caller hangs up',
          numbers: [CALLER_HANGS_UP_DID],
          events_url: `${events.origin}/events`,
          xml: `<Response><Answer/><Pause length="10000"/><Hangup/></Response>`,
        },
      ]),
      { events: {}, secrets: { 'app-events': SECRET, 'app-events-caller': SECRET } },
    );
  });

  after(() => suite.close());

  it('sends init, ringing, live, a call_flow per verb (the callback with its URL and status), the hang-up by the engine with its cause, destroyed: in sequence, each signed', async function () {
    const channel = await suite.fake.placeCall({ from: CALLER, did: DID, app: APP_NAME });
    await suite.fake.waitForRequest((r) => r.method === 'DELETE' && r.path === `/ari/channels/${channel.id}`, 5000);
    await suite.role.app.whenIdle();
    await waitForDestroyed(events, 1, 10_000);
    const call = parsed(events.requests).find((e) => e.sca === 'app-events')?.call ?? '';
    const received = eventsOfCall(events.requests, call);

    expect(summary(received)).to.deep.equal([
      'state:init',
      'state:ringing',
      'state:live',
      'flow:Answer:true',
      'flow:Callback:false',
      'flow:Say:true',
      'state:hangup',
      'flow:Hangup:true',
      'state:destroyed',
    ]);
    expect(received.map((e) => e.sequence)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(new Set(received.map((e) => e.uuid)).size).to.equal(received.length);
    for (const event of received) {
      expect(event.call).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-/);
      expect(event.sca).to.equal('app-events');
      expect(Date.parse(event.timestamp)).to.be.a('number').and.not.NaN;
    }
    const times = received.map((e) => Date.parse(e.timestamp));
    expect(times).to.deep.equal([...times].sort((a, b) => a - b));
    expect(received[0]).to.include({ state: 'init', from: CALLER, tn: DID });
    expect(received[4]).to.include({ command: 'Callback', path: 'Response/Callback[1]', success: false, code: 'http_status', reason: 'the server answered 404', url: failingUrl, method: 'POST', status: 404, attempts: 1 });
    expect(received[5]).to.include({ command: 'Say', path: 'Response/Callback[1]/Error[0]/Say[0]', success: true });
    expect(received[6]).to.include({ state: 'hangup', by: 'engine', cause: 16, cause_name: 'normal_clearing', reason: '<Hangup>' });

    // Each request signed with the app's secret, over exactly the body received.
    const requests = events.requests.filter((r) => (JSON.parse(r.body) as Received).call === call);
    expect(requests.length).to.be.at.least(received.length);
    for (const request of requests) {
      expect(request.headers['content-type']).to.equal('application/json');
      const ok = verifySignature({ header: request.headers['x-opentact-signature'], secret: SECRET, method: 'POST', url: `${events.origin}${request.url}`, body: request.body, acceptV1: false });
      expect(ok, `signature of ${request.body}`).to.equal(true);
    }
  });

  it('says the caller hung up, with the cause Asterisk gave', async function () {
    const channel = await suite.fake.placeCall({ from: CALLER, did: CALLER_HANGS_UP_DID, app: APP_NAME });
    await suite.fake.waitForRequest((r) => r.method === 'POST' && r.path === `/ari/channels/${channel.id}/answer`, 5000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await channel.hangup(17);
    await suite.role.app.whenIdle();
    await waitForDestroyed(events, 2, 10_000);
    const call = parsed(events.requests).find((e) => e.sca === 'app-events-caller')?.call ?? '';
    const received = eventsOfCall(events.requests, call);
    const hangup = received.find((e) => e['state'] === 'hangup');
    expect(hangup).to.include({ by: 'caller', cause: 17 });
    expect(summary(received).at(-1)).to.equal('state:destroyed');
    expect(received.map((e) => e.sequence)).to.deep.equal(received.map((_e, i) => i + 1));
  });
});

describe('call events: an endpoint that fails for a while', function () {
  this.timeout(30_000);
  const suite = new AriSuite('events-503');
  const DID = '15551260011';
  const EXPECTED = ['state:init', 'state:ringing', 'state:live', 'flow:Answer:true', 'flow:Pause:true', 'state:hangup', 'flow:Hangup:true', 'state:destroyed'];
  let events: ScriptedServer;
  let failUntil = Number.POSITIVE_INFINITY;
  /** Bodies answered 200. */
  const accepted: RecordedRequest[] = [];

  before(async function () {
    events = await suite.server((_req, res, recorded) => {
      if (Date.now() < failUntil) return res.writeHead(503).end();
      accepted.push(recorded);
      return res.writeHead(200).end();
    });
    await suite.start(
      apps([{ uuid: 'app-events-503', name: 'Events 503', numbers: [DID], events_url: `${events.origin}/events`, xml: `<Response><Answer/><Pause length="100"/><Hangup/></Response>` }]),
      // A short backoff (50 ms doubling to 400 ms, for 20 s) and a short budget per POST.
      { events: { retry: { initialMs: 50, maxMs: 400, retryForMs: 20_000 }, requestTimeoutMs: 300 } },
    );
  });

  after(() => suite.close());

  it('gets every event of the call once it answers again', async function () {
    failUntil = Date.now() + 2000;
    const channel = await suite.fake.placeCall({ from: CALLER, did: DID, app: APP_NAME });
    await suite.fake.waitForRequest((r) => r.method === 'DELETE' && r.path === `/ari/channels/${channel.id}`, 5000);
    await suite.role.app.whenIdle();
    const until = Date.now() + 15_000;
    let received: Received[] = [];
    while (Date.now() < until) {
      received = eventsOfCall(accepted, parsed(accepted)[0]?.call ?? '');
      if (received.length >= EXPECTED.length) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(summary(received)).to.deep.equal(EXPECTED);
    expect(received.map((e) => e.sequence)).to.deep.equal(EXPECTED.map((_e, i) => i + 1));
    // Each was refused (503) first, then POSTed again.
    const refused = events.requests.length - accepted.length;
    expect(refused).to.be.at.least(EXPECTED.length);
  });
});

describe('call events: a dead endpoint does not slow a call', function () {
  this.timeout(60_000);
  const suite = new AriSuite('events-dead');
  const PLAIN = '15551260021';
  const HANGING = '15551260022';
  const REFUSED = '15551260023';
  const XML = `<Response><Answer/><Pause length="300"/><Pause length="300"/><Hangup/></Response>`;

  before(async function () {
    // Never answers: takes the request and keeps it open.
    const hanging = await suite.server(() => new Promise<void>(() => undefined));
    const port = await closedPort();
    await suite.start(
      apps([
        { uuid: 'app-plain', name: 'No events', numbers: [PLAIN], xml: XML },
        { uuid: 'app-hanging', name: 'Hanging events', numbers: [HANGING], events_url: `${hanging.origin}/events`, xml: XML },
        { uuid: 'app-refused', name: 'Refused events', numbers: [REFUSED], events_url: `http://127.0.0.1:${port}/events`, xml: XML },
      ]),
      { events: { requestTimeoutMs: 30_000 } },
    );
  });

  after(() => suite.close());

  /** ms from the call entering to its hang-up, the median of three calls. */
  async function duration(did: string): Promise<number> {
    const times: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      const started = performance.now();
      const channel = await suite.fake.placeCall({ from: CALLER, did, app: APP_NAME });
      await suite.fake.waitForRequest((r) => r.method === 'DELETE' && r.path === `/ari/channels/${channel.id}`, 10_000);
      times.push(performance.now() - started);
      await suite.role.app.whenIdle();
    }
    return times.sort((a, b) => a - b)[1] ?? Number.NaN;
  }

  it('takes as long with an endpoint that never answers, or refuses connections, as without events', async function () {
    const plain = await duration(PLAIN);
    const hanging = await duration(HANGING);
    const refused = await duration(REFUSED);
    expect(plain).to.be.at.least(600);
    expect(hanging, `never answers: ${hanging} ms against ${plain} ms`).to.be.below(plain + 250);
    expect(refused, `refused: ${refused} ms against ${plain} ms`).to.be.below(plain + 250);
  });
});
