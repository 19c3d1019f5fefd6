// The end-to-end scenarios, written once against the phone line and run on both the fake
// ARI (test/integration/e2e/scenarios.test.ts, in `npm test`) and a real Asterisk 22
// (test/asterisk/scenarios.test.ts, in `npm run test:asterisk`). Each asserts what a
// caller gets (answer, what played and how it ended, the hang-up cause), what the
// customer's server receives, and that nothing is left behind on Asterisk.
import { appendFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type http from 'node:http';
import { expect } from 'chai';
import { startHttpRole } from '../../app/roles/http.js';
import { AriRecordingFiles } from '../../lib/ari/index.js';
import { parseApps, type CallControlApp } from '../../lib/config/index.js';
import type { AriEvent } from '../support/fake-ari/index.js';
import { Metrics } from '../../lib/metrics/index.js';
import { Engine, type EngineOptions } from '../support/engine.js';
import { startEngineProcess, type EngineProcess } from '../support/engine-process.js';
import { startServer, type ScriptedServer } from '../support/http-servers.js';
import { AriProxy } from '../support/phone-line/ari-proxy.js';
import type { Heard, PhoneCall, PhoneLine } from '../support/phone-line/phone-line.js';
import { sharedRedisUrl, uniquePrefix } from '../support/redis.js';
import { Redis } from 'ioredis';
import { stderrLogger, type TestLogger } from '../support/stderr-logger.js';
import { pcmWav, tone } from '../support/wav.js';

/** The application name the shipped dialplan sends calls to (`OPENTACT_APP` in extensions.conf). */
export const APP = 'opentact';
export const CALLER = '15550001111';

/** The customer's prompts: distinct tones of these lengths (ms), 8 kHz WAV. */
const PROMPTS = { welcome: { hz: 440, ms: 400 }, next: { hz: 550, ms: 400 }, sorry: { hz: 660, ms: 400 } } as const;
type PromptName = keyof typeof PROMPTS;

const LONG_SPEECH =
  'Thank you for calling. This announcement is long on purpose, so that the caller can hang up while it is still being spoken, and the engine must stop at once.';

function apps(raw: readonly Record<string, unknown>[]): CallControlApp[] {
  return parseApps({ apps: raw }, 'scenario-apps.yaml', { maxBytes: 256 * 1024, env: process.env });
}

/** A held answer of the callback server: released by the test, or given up by the client. */
interface Held {
  readonly aborted: Promise<void>;
  release(): void;
}

function xml(res: http.ServerResponse, body: string, status = 200): void {
  res.writeHead(status, { 'content-type': 'application/xml' }).end(body);
}

/** What the parts of one scenario group share. */
class World {
  line!: PhoneLine;
  proxy!: AriProxy;
  engine!: Engine;
  media!: ScriptedServer;
  callbacks!: ScriptedServer;
  prompts!: Record<PromptName, string>;
  held: Held[] = [];
  readonly calls: PhoneCall[] = [];
  readonly logger: TestLogger = stderrLogger('error');
  private readonly closers: (() => Promise<void>)[] = [];
  private engineOptions!: EngineOptions;
  get prefix(): string {
    return this.engineOptions.prefix;
  }
  /** The apps as raw entries, for an engine in a process of its own. */
  private rawApps: readonly Record<string, unknown>[] = [];
  /** The call events the customer's `/events` endpoint received. */
  readonly received: Record<string, unknown>[] = [];
  /** Labels of the media of engines stopped by restartEngine. */
  private readonly labels = new Map<string, string>();

  async start(
    startLine: () => Promise<PhoneLine>,
    appList: (w: World) => CallControlApp[] | readonly Record<string, unknown>[],
    engine: Partial<Pick<EngineOptions, 'shutdownGraceMs' | 'says' | 'dial' | 'admin' | 'metrics' | 'trail' | 'resume' | 'events'>> = {},
  ): Promise<void> {
    this.line = await startLine();
    this.closers.push(() => this.line.close());
    const files = new Map<string, Buffer>();
    this.media = await startServer((req, res) => {
      const body = files.get(req.url ?? '');
      if (!body) return res.writeHead(404).end();
      return res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': String(body.length) }).end(body);
    });
    this.closers.push(() => this.media.close());
    const prompts: Partial<Record<PromptName, string>> = {};
    for (const [name, { hz, ms }] of Object.entries(PROMPTS) as [PromptName, { hz: number; ms: number }][]) {
      files.set(`/prompts/${name}.wav`, pcmWav(tone(ms, hz), 8000));
      prompts[name] = `${this.media.origin}/prompts/${name}.wav`;
    }
    this.prompts = prompts as Record<PromptName, string>;
    this.callbacks = await startServer((req, res, recorded) => this.answerCallback(req, res, recorded.body));
    this.closers.push(() => this.callbacks.close());
    this.proxy = await AriProxy.start(this.line.ari.url);
    this.closers.push(() => this.proxy.close());
    this.engineOptions = {
      ari: { ...this.line.ari, url: this.proxy.url },
      app: APP,
      apps: this.appsOf(appList(this)),
      prefix: uniquePrefix(`e2e-${this.line.kind}`),
      logger: this.logger,
      prompts: Object.fromEntries(Object.entries(this.prompts).map(([name, url]) => [url, `${name}.wav`])),
      says: ['Welcome back'],
      ...engine,
    };
    this.engine = await Engine.start(this.engineOptions);
    this.closers.push(() => this.engine.close());
  }

  /**
   * Stops the engine as SIGTERM does (a drain: with `resume`, its calls are handed over)
   * and starts a new one on the same Redis prefix; resolves when the new one is connected.
   */
  async restartEngine(): Promise<void> {
    await this.engine.close();
    for (const [uri, label] of this.engine.labels) this.labels.set(uri, label);
    this.engine = await Engine.start(this.engineOptions);
  }

  /**
   * The engine in a process of its own (to be killed), in place of the in-process one,
   * which is stopped first (it has no calls): same apps, Redis prefix, http port and media directory.
   */
  async startEngineProcess(): Promise<EngineProcess> {
    await this.engine.close();
    for (const [uri, label] of this.engine.labels) this.labels.set(uri, label);
    const { apps: _apps, logger: _logger, ...options } = this.engineOptions;
    const child = await startEngineProcess({ ...options, appsYaml: JSON.stringify({ apps: this.rawApps }), logLevel: 'warn' });
    this.closers.push(async () => {
      await child.kill();
    });
    return child;
  }

  /** After `child` died: the engine in this process again, on the same Redis prefix, http port and media directory. */
  async startEngineAfter(child: EngineProcess, labels: ReadonlyMap<string, string>): Promise<void> {
    for (const [uri, label] of labels) this.labels.set(uri, label);
    this.engine = await Engine.start({ ...this.engineOptions, httpPort: Number(new URL(child.httpOrigin).port), mediaDir: child.mediaDir });
  }

  private appsOf(list: CallControlApp[] | readonly Record<string, unknown>[]): CallControlApp[] {
    if (list.every((entry) => 'source' in entry)) return list as CallControlApp[];
    this.rawApps = list as readonly Record<string, unknown>[];
    return apps(this.rawApps);
  }

  /** A media URI's label, by whichever engine gave it. */
  label(uri: string): string {
    return this.engine.labels.get(uri) ?? this.labels.get(uri) ?? uri;
  }

  /** The customer's web server: `/next` answers a document, `/fail` 500, `/missing` 404, `/slow` holds. */
  private answerCallback(req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/next') return xml(res, `<Response><Say>Welcome back</Say><Play>${this.prompts.next}</Play><Hangup/></Response>`);
    if (path === '/fail') return void res.writeHead(500).end();
    if (path === '/events') {
      this.received.push(JSON.parse(body) as Record<string, unknown>);
      return void res.writeHead(200).end();
    }
    if (path === '/delayed') {
      const timer = setTimeout(() => xml(res, `<Response><Say>Welcome back</Say><Play>${this.prompts.next}</Play><Hangup/></Response>`), 1500);
      res.on('close', () => clearTimeout(timer));
      return undefined;
    }
    if (path === '/slow') {
      let markAborted: () => void = () => undefined;
      const aborted = new Promise<void>((resolve) => (markAborted = resolve));
      res.on('close', () => {
        if (!res.writableEnded) markAborted();
      });
      this.held.push({ aborted, release: () => void (res.writableEnded || res.destroyed || xml(res, '<Response><Hangup/></Response>')) });
      return undefined;
    }
    return void res.writeHead(404).end();
  }

  async call(did: string): Promise<PhoneCall> {
    const call = await this.line.call({ did, from: CALLER, app: APP });
    this.calls.push(call);
    return call;
  }

  /** The events the engine received about a channel, compact: `PlaybackFinished done`, `StasisEnd`. */
  engineEvents(channelId: string): string[] {
    return this.proxy.events
      .filter((e) => e.channel?.id === channelId || e.playback?.target_uri === `channel:${channelId}`)
      .map((e) => {
        const detail = e.playback?.state ?? e.cause ?? e.digit ?? e.variable ?? (e.type === 'ChannelStateChange' ? e.channel?.state : undefined);
        return detail === undefined ? e.type : `${e.type} ${String(detail)}`;
      });
  }

  /** `welcome.wav done`, `say:Hello done`: what a caller heard, readable. */
  heard(list: readonly Heard[]): string[] {
    return list.map((h) => `${this.label(h.media)} ${h.state}`);
  }

  /**
   * The caller hangs up now; resolves once the engine is idle, having checked that it made
   * no request on the channel after the hang-up.
   */
  async hangUpAndCheckSilence(call: PhoneCall, before?: () => Promise<void>): Promise<void> {
    const hungUpAt = Date.now();
    await call.hangUp();
    await call.ended();
    await before?.();
    await this.engine.role.app.whenIdle();
    expect(this.proxy.channelRequests(call.channelId).filter((r) => r.time > hungUpAt)).to.deep.equal([]);
  }

  async expectNothingLeft(): Promise<void> {
    await this.engine.role.app.whenIdle();
    expect(await this.line.leftovers()).to.deep.equal({ channels: [], bridges: [] });
    expect(this.engine.role.app.liveCalls).to.equal(0);
  }

  async close(): Promise<void> {
    for (const held of this.held) held.release();
    for (const close of this.closers.splice(0).reverse()) await close();
  }
}

/**
 * With PHONE_LINE_TRACE=<file>, every test appends the ARI events of its calls to that
 * file (one JSON line per call), so a run on the fake and a run on Asterisk can be diffed.
 */
function traceCalls(world: World): void {
  afterEach(async function () {
    const file = process.env['PHONE_LINE_TRACE'];
    if (!file) return;
    const test = this.currentTest?.title ?? '';
    const lines = world.calls.splice(0).map((call, index) => JSON.stringify({ line: world.line.kind, test, call: index, engine: world.engineEvents(call.channelId), caller: call.trace() }));
    await appendFile(file, lines.map((l) => `${l}\n`).join(''));
  });
}

/** GET on the engine's http role with the operator's credentials; the parsed JSON or text. */
async function adminGet(world: World, path: string, admin: { username: string; password: string }): Promise<unknown> {
  const authorization = `Basic ${Buffer.from(`${admin.username}:${admin.password}`).toString('base64')}`;
  const response = await fetch(`http://127.0.0.1:${world.engine.http.port}${path}`, { headers: { authorization }, signal: AbortSignal.timeout(5000) });
  expect(response.status, `GET ${path}`).to.equal(200);
  return response.headers.get('content-type')?.includes('json') ? response.json() : response.text();
}

export function callScenarios(startLine: () => Promise<PhoneLine>): void {
  describe('calls, one at a time', function () {
    const world = new World();
    traceCalls(world);

    before(async function () {
      await world.start(startLine, (w) =>
        apps([
          { uuid: 'app-say', name: 'Say', numbers: ['15551230001'], xml: '<Response><Say>Hello from the engine</Say><Hangup/></Response>' },
          { uuid: 'app-play', name: 'Play', numbers: ['15551230002'], xml: `<Response><Play>${w.prompts.welcome}</Play><Hangup/></Response>` },
          {
            uuid: 'app-callback',
            name: 'Callback',
            numbers: ['15551230003'],
            xml: `<Response><Play>${w.prompts.welcome}</Play><Callback url="${w.callbacks.origin}/next" timeout="3000"/><Play>${w.prompts.sorry}</Play></Response>`,
          },
          {
            uuid: 'app-callback-fails',
            name: 'Callback fails',
            numbers: ['15551230004'],
            xml: `<Response><Play>${w.prompts.welcome}</Play><Callback url="${w.callbacks.origin}/fail" timeout="800"><Error><Play>${w.prompts.sorry}</Play></Error></Callback><Hangup/></Response>`,
          },
          {
            uuid: 'app-webhook',
            name: 'Webhook',
            numbers: ['15551230005'],
            webhook_url: `${w.callbacks.origin}/missing`,
            webhook_request_timeout: 1000,
            fallback_xml: `<Response><Play>${w.prompts.sorry}</Play><Hangup/></Response>`,
          },
          { uuid: 'app-long-say', name: 'Long speech', numbers: ['15551230006'], xml: `<Response><Say>${LONG_SPEECH}</Say><Play>${w.prompts.next}</Play></Response>` },
          {
            uuid: 'app-pause',
            name: 'Pause',
            numbers: ['15551230007'],
            xml: `<Response><Play>${w.prompts.welcome}</Play><Pause length="10000"/><Play>${w.prompts.next}</Play></Response>`,
          },
          {
            uuid: 'app-slow',
            name: 'Slow callback',
            numbers: ['15551230008'],
            xml: `<Response><Play>${w.prompts.welcome}</Play><Callback url="${w.callbacks.origin}/slow" timeout="10000"/><Play>${w.prompts.next}</Play></Response>`,
          },
          {
            uuid: 'app-gather',
            name: 'Gather',
            numbers: ['15551230012'],
            xml:
              `<Response><Gather numDigits="2" timeout="3000"><Say>${LONG_SPEECH}</Say>` +
              `<DTMF value="12"><Play>${w.prompts.next}</Play></DTMF><Default><Play>${w.prompts.sorry}</Play></Default></Gather><Hangup/></Response>`,
          },
          {
            uuid: 'app-gather-silent',
            name: 'Gather, nothing pressed',
            numbers: ['15551230013'],
            xml: `<Response><Gather timeout="300" attempts="2"><Play>${w.prompts.welcome}</Play><Error><Play>${w.prompts.sorry}</Play></Error></Gather><Hangup/></Response>`,
          },
          {
            uuid: 'app-curl',
            name: 'Curl',
            numbers: ['15551230014'],
            xml:
              `<Response><Curl url="${w.callbacks.origin}/next"/><Play>${w.prompts.welcome}</Play>` +
              `<Curl url="${w.callbacks.origin}/missing" timeout="1000"><Error><Play>${w.prompts.sorry}</Play></Error></Curl><Hangup/></Response>`,
          },
          {
            uuid: 'app-gap',
            name: 'Pause across a reconnect',
            numbers: ['15551230009'],
            xml: `<Response><Play>${w.prompts.welcome}</Play><Pause length="1500"/><Play>${w.prompts.next}</Play><Hangup/></Response>`,
          },
        ]),
      );
    });

    after(() => world.close());

    it('Say: answers, speaks the text to its end and hangs up with cause 16', async function () {
      const call = await world.call('15551230001');
      await call.answered();
      const end = await call.ended();
      expect(world.heard(call.heard())).to.deep.equal(['say:Hello from the engine done']);
      expect(end.cause).to.equal(16);
      await world.expectNothingLeft();
    });

    it('Play: plays the customer\'s remote WAV (fetched, converted and served by the engine) and hangs up', async function () {
      const call = await world.call('15551230002');
      const end = await call.ended();
      expect(world.heard(call.heard())).to.deep.equal(['welcome.wav done']);
      expect(end.cause).to.equal(16);
      await world.expectNothingLeft();
    });

    it('Callback success: the customer\'s server gets the call\'s fields and its answer replaces the flow', async function () {
      const seen = world.callbacks.requests.length;
      const call = await world.call('15551230003');
      const end = await call.ended();
      // The rest of the first document (sorry.wav) never plays: the answer replaced it.
      expect(world.heard(call.heard())).to.deep.equal(['welcome.wav done', 'say:Welcome back done', 'next.wav done']);
      expect(end.cause).to.equal(16);
      const request = world.callbacks.requests[seen];
      const fields = Object.fromEntries(new URL(request?.url ?? '/', 'http://x').searchParams);
      expect(fields).to.include({ from: CALLER, tn: '15551230003', sca: 'app-callback', state: 'live' });
      expect(fields['call']).to.match(/^[0-9a-f-]{36}$/);
      await world.expectNothingLeft();
    });

    it('Callback failure: the caller hears the error branch, then the flow goes on', async function () {
      const call = await world.call('15551230004');
      const end = await call.ended();
      expect(world.heard(call.heard())).to.deep.equal(['welcome.wav done', 'sorry.wav done']);
      expect(end.cause).to.equal(16);
      await world.expectNothingLeft();
    });

    it('webhook app: a webhook that fails runs fallback_xml', async function () {
      const call = await world.call('15551230005');
      const end = await call.ended();
      expect(world.heard(call.heard())).to.deep.equal(['sorry.wav done']);
      expect(end.cause).to.equal(16);
      await world.expectNothingLeft();
    });

    it('unknown DID: hung up with cause 1 (unallocated number), never answered, nothing played', async function () {
      const call = await world.call('15559999999');
      const end = await call.ended();
      expect(end.cause).to.equal(1);
      expect(call.heard()).to.deep.equal([]);
      await world.expectNothingLeft();
    });

    it('Gather: keys pressed during the prompt stop it and choose the DTMF branch', async function () {
      const call = await world.call('15551230012');
      await call.untilStarted(1);
      await call.press('12');
      const end = await call.ended();
      expect(call.heard().map((h) => world.engine.label(h.media))).to.deep.equal([`say:${LONG_SPEECH}`, 'next.wav']);
      expect(world.heard(call.heard())[1]).to.equal('next.wav done');
      expect(end.cause).to.equal(16);
      await world.expectNothingLeft();
    });

    it('Gather: the caller hanging up during the prompt stops the flow: nothing more plays, no request afterwards', async function () {
      const call = await world.call('15551230012');
      await call.untilStarted(1);
      await world.hangUpAndCheckSilence(call);
      expect(call.heard().map((h) => world.engine.label(h.media))).to.deep.equal([`say:${LONG_SPEECH}`]);
      await world.expectNothingLeft();
    });

    it('Gather: the caller hanging up during collection (one key of two pressed) stops the flow: no branch runs', async function () {
      const call = await world.call('15551230012');
      await call.untilStarted(1);
      await call.press('1');
      // The key stopped the prompt; the engine now waits for the second digit.
      await call.untilFinished(1);
      await world.hangUpAndCheckSilence(call);
      expect(call.heard().map((h) => world.engine.label(h.media))).to.deep.equal([`say:${LONG_SPEECH}`]);
      await world.expectNothingLeft();
    });

    it('Gather: nothing pressed after every attempt runs the error branch', async function () {
      const call = await world.call('15551230013');
      const end = await call.ended();
      expect(world.heard(call.heard())).to.deep.equal(['welcome.wav done', 'welcome.wav done', 'sorry.wav done']);
      expect(end.cause).to.equal(16);
      await world.expectNothingLeft();
    });

    it('Curl: the customer\'s server gets the call\'s fields as JSON, the flow is not replaced; a failing Curl runs its error branch', async function () {
      const seen = world.callbacks.requests.length;
      const call = await world.call('15551230014');
      const end = await call.ended();
      expect(world.heard(call.heard())).to.deep.equal(['welcome.wav done', 'sorry.wav done']);
      expect(end.cause).to.equal(16);
      const sent = world.callbacks.requests.slice(seen).find((r) => r.url === '/next');
      expect(sent?.method).to.equal('POST');
      expect(JSON.parse(sent?.body ?? '{}')).to.include({ from: CALLER, tn: '15551230014', sca: 'app-curl', state: 'live' });
      await world.expectNothingLeft();
    });

    it('the caller hanging up during speech stops the flow: no request on the channel afterwards', async function () {
      const call = await world.call('15551230006');
      await call.untilStarted(1);
      await world.hangUpAndCheckSilence(call);
      // Cut off: how a stopped playback ends is Asterisk's business, what was played is not.
      expect(call.heard().map((h) => world.engine.label(h.media))).to.deep.equal([`say:${LONG_SPEECH}`]);
      await world.expectNothingLeft();
    });

    it('the caller hanging up during a pause stops the flow: nothing more plays', async function () {
      const call = await world.call('15551230007');
      await call.untilFinished(1);
      await world.hangUpAndCheckSilence(call);
      expect(world.heard(call.heard())).to.deep.equal(['welcome.wav done']);
      await world.expectNothingLeft();
    });

    it('the caller hanging up during a fetch cancels it (the customer\'s request is given up) and nothing runs after', async function () {
      const held = world.held.length;
      const seen = world.callbacks.requests.length;
      const call = await world.call('15551230008');
      await world.callbacks.waitForRequests(seen + 1);
      const fetch = world.held[held];
      if (fetch === undefined) throw new Error('the callback server did not hold the request');
      // The customer's server sees its request given up: the job was cancelled.
      await world.hangUpAndCheckSilence(call, () => fetch.aborted);
      fetch.release();
      expect(world.heard(call.heard())).to.deep.equal(['welcome.wav done']);
      await world.expectNothingLeft();
    });

    it('the engine\'s ARI connection dropping mid-call: it reconnects and the call goes on', async function () {
      const call = await world.call('15551230009');
      await call.untilFinished(1);
      world.proxy.cut();
      const end = await call.ended();
      expect(world.heard(call.heard())).to.deep.equal(['welcome.wav done', 'next.wav done']);
      expect(end.cause).to.equal(16);
      expect(world.engine.role.connection.state).to.equal('connected');
      await world.expectNothingLeft();
    });
  });

  describe('50 calls at once', function () {
    const world = new World();
    traceCalls(world);

    before(async function () {
      await world.start(startLine, (w) =>
        apps([{ uuid: 'app-many', name: 'Many', numbers: ['15551230010'], xml: `<Response><Say>Hello from the engine</Say><Play>${w.prompts.welcome}</Play><Hangup/></Response>` }]),
      );
    });

    after(() => world.close());

    it('serves every call to its end and leaves no channel, bridge or call behind', async function () {
      this.timeout(60_000);
      const calls = await Promise.all(Array.from({ length: 50 }, () => world.call('15551230010')));
      const ends = await Promise.all(calls.map((call) => call.ended(30_000)));
      expect(ends.map((end) => end.cause)).to.deep.equal(calls.map(() => 16));
      for (const call of calls) expect(world.heard(call.heard())).to.deep.equal(['say:Hello from the engine done', 'welcome.wav done']);
      await world.expectNothingLeft();
    });
  });

  describe('drain without saved call state (what SIGTERM runs with CALL_STATE_TTL=0)', function () {
    const world = new World();
    traceCalls(world);

    before(async function () {
      await world.start(
        startLine,
        (w) => apps([{ uuid: 'app-drain', name: 'Drain', numbers: ['15551230011'], xml: `<Response><Play>${w.prompts.welcome}</Play><Pause length="20000"/><Hangup/></Response>` }]),
        { shutdownGraceMs: 1000 },
      );
    });

    after(() => world.close());

    it('refuses a new call with cause 34 (SIP 503, so a trunk fails over), gives calls in progress the grace period, then hangs them up with cause 41', async function () {
      const inProgress = await world.call('15551230011');
      await inProgress.untilFinished(1);
      const drainStarted = Date.now();
      const stopped = world.engine.role.stop();
      expect(world.engine.role.status()).to.include({ draining: true, ready: false });
      const late = await world.call('15551230011');
      expect((await late.ended()).cause).to.equal(34);
      expect(late.heard()).to.deep.equal([]);
      const end = await inProgress.ended();
      expect(end.cause).to.equal(41);
      expect(Date.now() - drainStarted).to.be.at.least(900);
      await stopped;
      expect(await world.line.leftovers()).to.deep.equal({ channels: [], bridges: [] });
    });
  });

  describe('restart without losing a call: a deploy (SIGTERM) hands the calls over', function () {
    const world = new World();
    traceCalls(world);

    before(async function () {
      await world.start(
        startLine,
        (w) =>
          apps([
            {
              uuid: 'app-r-say',
              name: 'Restart during a Say',
              numbers: ['15551230051'],
              xml: `<Response><Play>${w.prompts.welcome}</Play><Say>${LONG_SPEECH}</Say><Play>${w.prompts.next}</Play><Hangup/></Response>`,
            },
            {
              uuid: 'app-r-pause',
              name: 'Restart during a Pause',
              numbers: ['15551230052'],
              xml: `<Response><Play>${w.prompts.welcome}</Play><Pause length="4000"/><Play>${w.prompts.next}</Play><Hangup/></Response>`,
            },
          ]),
        { resume: { ttlSeconds: 600, sweepIntervalMs: 300 }, shutdownGraceMs: 300 },
      );
    });

    after(() => world.close());

    it('a call inside a Say: the next engine stops what was cut off, says it again from its start and runs the rest', async function () {
      const call = await world.call('15551230051');
      await call.untilStarted(2);
      await world.restartEngine();
      const heard = await call.untilStarted(4);
      const end = await call.ended();
      expect(heard.map((h) => world.label(h.media))).to.deep.equal(['welcome.wav', `say:${LONG_SPEECH}`, `say:${LONG_SPEECH}`, 'next.wav']);
      expect(world.heard(call.heard()).at(-1)).to.equal('next.wav done');
      expect(end.cause).to.equal(16);
      await world.expectNothingLeft();
    });

    it('a call inside a Pause: the caller hears the rest of the flow from the next engine', async function () {
      const call = await world.call('15551230052');
      await call.untilFinished(1);
      await world.restartEngine();
      const end = await call.ended();
      expect(world.heard(call.heard())).to.deep.equal(['welcome.wav done', 'next.wav done']);
      expect(end.cause).to.equal(16);
      await world.expectNothingLeft();
    });
  });

  describe('restart without losing a call: the engine killed (kill -9) and started again', function () {
    const world = new World();
    traceCalls(world);
    const restarts: string[] = [];
    // An engine process starts in 2–3 s (tsx), and a long speech is said twice.
    this.timeout(60_000);

    before(async function () {
      await world.start(
        startLine,
        (w) => [
          {
            uuid: 'app-k-say',
            name: 'Killed during a Say',
            numbers: ['15551230061'],
            events_url: `${w.callbacks.origin}/events`,
            xml: `<Response><Play>${w.prompts.welcome}</Play><Say>${LONG_SPEECH}</Say><Play>${w.prompts.next}</Play><Hangup/></Response>`,
          },
          {
            uuid: 'app-k-pause',
            name: 'Killed during a Pause',
            numbers: ['15551230062', '15551230064'],
            events_url: `${w.callbacks.origin}/events`,
            xml: `<Response><Play>${w.prompts.welcome}</Play><Pause length="4000"/><Play>${w.prompts.next}</Play><Hangup/></Response>`,
          },
          {
            uuid: 'app-k-callback',
            name: 'Killed during a Callback',
            numbers: ['15551230063'],
            events_url: `${w.callbacks.origin}/events`,
            xml: `<Response><Play>${w.prompts.welcome}</Play><Callback url="${w.callbacks.origin}/delayed" timeout="10000"/><Play>${w.prompts.sorry}</Play></Response>`,
          },
          {
            uuid: 'app-k-dial',
            name: 'Killed during a Dial',
            numbers: ['15551230065'],
            // 46000 answers, then hangs up after 6 s (test/support/asterisk/launcher.ts).
            xml: `<Response><Dial timeout="5000"><To>46000</To></Dial><Play>${w.prompts.next}</Play><Hangup/></Response>`,
          },
        ],
        {
          resume: { ttlSeconds: 600, sweepIntervalMs: 300 },
          shutdownGraceMs: 300,
          events: { retry: { initialMs: 100, maxMs: 500 } },
          dial: { number: 'Local/{number}@opentact-targets', sip: 'PJSIP/trunk/{uri}' },
        },
      );
    });

    after(async function () {
      if (restarts.length > 0) process.stderr.write(`      engine started again → caller hears audio: ${restarts.join('; ')}\n`);
      await world.close();
    });

    /** Kills the engine once `when` resolves, starts it again, and resolves once the caller hears audio again. */
    async function killDuring(did: string, when: (call: PhoneCall) => Promise<void>): Promise<PhoneCall> {
      const child = await world.startEngineProcess();
      const call = await world.call(did);
      await when(call);
      const labels = await child.refreshLabels();
      await child.kill('SIGKILL');
      const heardBefore = call.heard().length;
      const restarted = Date.now();
      await world.startEngineAfter(child, labels);
      const connected = Date.now() - restarted;
      await call.untilStarted(heardBefore + 1);
      restarts.push(`${Date.now() - restarted} ms (connected to ARI after ${connected} ms)`);
      return call;
    }

    function flowEvents(call: string): string[] {
      return world.received
        .filter((e) => e['call'] === call && e['type'] === 'call_flow')
        .sort((a, b) => Number(a['sequence']) - Number(b['sequence']))
        .map((e) => `${String(e['command'])} ${e['success'] === true ? 'ok' : String(e['code'])}`);
    }

    /** Resolves once the call's saved state has `field` (polled: Redis tells no one). */
    async function savedState(channelId: string, field: string): Promise<void> {
      const redis = new Redis(await sharedRedisUrl());
      try {
        const deadline = Date.now() + 5000;
        while (!(await redis.hexists(`${world.prefix}:call:${channelId}`, field))) {
          if (Date.now() > deadline) throw new Error(`no ${field} in the saved state of ${channelId} within 5 s`);
          await sleep(20);
        }
      } finally {
        redis.disconnect();
      }
    }

    /** The call events of the latest call to `did`, once `until` holds for them. */
    async function eventsOf(did: string, until: (events: Record<string, unknown>[]) => boolean): Promise<Record<string, unknown>[]> {
      for (;;) {
        const init = world.received.findLast((e) => e['state'] === 'init' && e['tn'] === did);
        const mine = init === undefined ? [] : world.received.filter((e) => e['call'] === init['call']);
        if (until(mine)) return mine;
        await world.callbacks.waitForRequests(world.callbacks.requests.length + 1);
      }
    }

    const destroyed = (events: Record<string, unknown>[]): boolean => events.some((e) => e['state'] === 'destroyed');
    /** The engine has told the Play's end (so it has saved the next verb as where the call stands). */
    const playDone = (events: Record<string, unknown>[]): boolean => events.some((e) => e['command'] === 'Play' && e['success'] === true);

    it('killed during a Say: the next engine says it again from its start, then the rest; the call events show the gap', async function () {
      // Killed once the Play's event is out: events still in the killed process's memory are lost with it.
      const call = await killDuring('15551230061', async (c) => {
        await eventsOf('15551230061', playDone);
        await c.untilStarted(2);
      });
      const end = await call.ended();
      expect(call.heard().map((h) => world.label(h.media))).to.deep.equal(['welcome.wav', `say:${LONG_SPEECH}`, `say:${LONG_SPEECH}`, 'next.wav']);
      expect(end.cause).to.equal(16);
      // init, ringing/live, Play, Say interrupted, Say, Play, Hangup, hangup, destroyed
      const events = await eventsOf('15551230061', destroyed);
      const uuid = String(events[0]?.['call']);
      expect(flowEvents(uuid)).to.deep.equal(['Play ok', 'Say interrupted', 'Say ok', 'Play ok', 'Hangup ok']);
      const sequences = events.map((e) => Number(e['sequence']));
      expect(new Set(sequences).size, 'unique sequence numbers').to.equal(sequences.length);
      await world.engine.close();
    });

    it('killed during a Pause: the caller hears the rest of the flow', async function () {
      const call = await killDuring('15551230062', () => eventsOf('15551230062', playDone).then(() => undefined));
      const end = await call.ended();
      expect(world.heard(call.heard())).to.deep.equal(['welcome.wav done', 'next.wav done']);
      expect(end.cause).to.equal(16);
      await world.engine.close();
    });

    it('killed during a Callback: the next engine waits for the same job (taken over from the dead worker) and runs the answer', async function () {
      const seen = world.callbacks.requests.filter((r) => r.url.startsWith('/delayed')).length;
      const call = await killDuring('15551230063', async () => {
        while (world.callbacks.requests.filter((r) => r.url.startsWith('/delayed')).length === seen) await world.callbacks.waitForRequests(world.callbacks.requests.length + 1);
      });
      const end = await call.ended();
      expect(call.heard().map((h) => world.label(h.media))).to.deep.equal(['welcome.wav', 'say:Welcome back', 'next.wav']);
      expect(end.cause).to.equal(16);
      const fetches = world.callbacks.requests.filter((r) => r.url.startsWith('/delayed')).slice(seen);
      const calls = new Set(fetches.map((r) => new URL(r.url, 'http://x').searchParams.get('call')));
      expect(calls.size, 'one call UUID across the restart').to.equal(1);
      expect(fetches.length).to.be.within(1, 2);
      await world.engine.close();
    });

    it('killed during a Dial: the bridge still holds caller and called party, so the Dial goes on; the flow continues when the called party hangs up', async function () {
      const since = world.proxy.requests.length;
      const child = await world.startEngineProcess();
      const call = await world.call('15551230065');
      await world.proxy.untilEvents((e) => e.type === 'ChannelEnteredBridge' && e.channel?.id === call.channelId, 'the caller bridged');
      // Killed once the bridge is in the call's saved state (no event says so: Redis is asked).
      await savedState(call.channelId, 'dial');
      const labels = await child.refreshLabels();
      await child.kill('SIGKILL');
      await world.startEngineAfter(child, labels);
      const end = await call.ended();
      expect(world.heard(call.heard())).to.deep.equal(['next.wav done']);
      expect(end.cause).to.equal(16);
      const originated = world.proxy.requests.slice(since).filter((r) => r.method === 'POST' && r.path === '/ari/channels');
      expect(originated.length, 'dialled once, not again after the restart').to.equal(1);
      await world.expectNothingLeft();
    });

    it('a call whose saved state was lost is hung up with cause 41, never left in silence', async function () {
      const child = await world.startEngineProcess();
      const call = await world.call('15551230064');
      await eventsOf('15551230064', playDone);
      await child.kill('SIGKILL');
      const redis = new Redis(await sharedRedisUrl());
      try {
        expect(await redis.del(`${world.prefix}:call:${call.channelId}`)).to.equal(1);
      } finally {
        redis.disconnect();
      }
      await world.startEngineAfter(child, child.labels);
      const end = await call.ended();
      expect(end.cause).to.equal(41);
      expect(world.heard(call.heard())).to.deep.equal(['welcome.wav done']);
      await world.expectNothingLeft();
    });
  });

  describe('Dial', function () {
    const world = new World();
    traceCalls(world);
    const BUSY_SAID = 'Dial failed: busy (cause 17).';
    const CONGESTION_SAID = 'Dial failed: congestion (cause 34).';
    const NO_ANSWER_SAID = 'Dial failed: no answer within 1000 ms (cause 19).';

    before(async function () {
      const dial = (did: string, body: string, rest = ''): Record<string, unknown> => ({ uuid: `app-dial-${did}`, name: `Dial ${did}`, numbers: [did], xml: `<Response>${body}${rest}</Response>` });
      await world.start(
        startLine,
        (w) =>
          apps([
            // 4SMMM answers and hangs up after S.MMM s; 3SMMM answers after S.MMM s (test/support/asterisk/launcher.ts).
            dial('15551230020', '<Dial timeout="5000"><To>41000</To></Dial>', `<Play>${w.prompts.next}</Play><Hangup/>`),
            dial('15551230021', '<Dial timeout="5000"><To>33000</To><To>41000</To></Dial>', `<Play>${w.prompts.next}</Play><Hangup/>`),
            dial('15551230022', `<Dial timeout="1000"><To>2004</To><Error say="true"><Play>${w.prompts.sorry}</Play></Error></Dial>`, '<Hangup/>'),
            dial('15551230023', `<Dial><To>2002</To><Error say="true"><Play>${w.prompts.sorry}</Play></Error></Dial>`, '<Hangup/>'),
            dial('15551230024', `<Dial><To>2003</To><Error say="true"><Play>${w.prompts.sorry}</Play></Error></Dial>`, '<Hangup/>'),
            dial('15551230025', '<Dial timeout="10000"><To>2004</To><To>2004</To></Dial>', `<Play>${w.prompts.next}</Play>`),
            dial('15551230026', '<Dial callerId="15557776666"><To>2001</To></Dial>', `<Play>${w.prompts.next}</Play>`),
          ]),
        { says: [BUSY_SAID, CONGESTION_SAID, NO_ANSWER_SAID], dial: { number: 'Local/{number}@opentact-targets', sip: 'PJSIP/trunk/{uri}' } },
      );
    });

    after(() => world.close());

    /** The legs the engine originated for the call, in order: id, endpoint, caller ID. */
    const legsSince = (since: number): { id: string; endpoint: string; callerId: string }[] =>
      world.proxy.requests
        .slice(since)
        .filter((r) => r.method === 'POST' && r.path === '/ari/channels')
        .map((r) => ({ id: r.query['channelId'] ?? '', endpoint: r.query['endpoint'] ?? '', callerId: r.query['callerId'] ?? '' }));
    /** What the engine was told about a leg, compact: `Dial RINGING`, `StasisStart`, `ChannelDestroyed 26`. */
    const legEvents = (id: string): string[] =>
      world.proxy.events
        .filter((e) => (e.type === 'Dial' ? e.peer?.id : e.channel?.id) === id)
        .filter((e) => ['Dial', 'StasisStart', 'StasisEnd', 'ChannelDestroyed', 'ChannelEnteredBridge'].includes(e.type))
        .map((e) => (e.type === 'Dial' ? `Dial ${e.dialstatus ?? ''}`.trim() : e.type === 'ChannelDestroyed' ? `ChannelDestroyed ${String(e.cause)}` : e.type));
    const isLegGone = (id: string) => (e: AriEvent): boolean => (e.type === 'ChannelDestroyed' || e.type === 'StasisEnd') && e.channel?.id === id;
    const ringing = (callId: string): string[] =>
      world.proxy
        .channelRequests(callId)
        .filter((r) => r.path.endsWith('/ring'))
        .map((r) => r.method);

    it('answered and bridged: the caller hears ringing until the answer, talks to the called party, and the flow goes on when they hang up', async function () {
      const since = world.proxy.requests.length;
      const call = await world.call('15551230020');
      const end = await call.ended();
      expect(world.heard(call.heard())).to.deep.equal(['next.wav done']);
      expect(end.cause).to.equal(16);
      const [leg, ...others] = legsSince(since);
      expect(others).to.deep.equal([]);
      expect(leg).to.include({ endpoint: 'Local/41000@opentact-targets', callerId: CALLER });
      expect(ringing(call.channelId)).to.deep.equal(['POST', 'DELETE']);
      expect(legEvents(leg?.id ?? '')).to.include.members(['Dial ANSWER', 'StasisStart', 'ChannelEnteredBridge']);
      expect(world.engineEvents(call.channelId)).to.include.members(['ChannelEnteredBridge', 'ChannelLeftBridge']);
      await world.expectNothingLeft();
    });

    it('two targets: the first to answer is bridged, the other is hung up at once without ever answering', async function () {
      const since = world.proxy.requests.length;
      const call = await world.call('15551230021');
      const end = await call.ended();
      expect(world.heard(call.heard())).to.deep.equal(['next.wav done']);
      expect(end.cause).to.equal(16);
      const legs = legsSince(since);
      expect(legs.map((l) => l.endpoint)).to.deep.equal(['Local/33000@opentact-targets', 'Local/41000@opentact-targets']);
      const [slow, fast] = legs;
      expect(legEvents(fast?.id ?? '')).to.include.members(['Dial ANSWER', 'StasisStart', 'ChannelEnteredBridge']);
      expect(legEvents(slow?.id ?? '')).to.not.include('StasisStart');
      expect(legEvents(slow?.id ?? '')).to.include('ChannelDestroyed 26');
      await world.expectNothingLeft();
    });

    it('nobody answers within the timeout: the error branch says "no answer" and runs; the target is cancelled', async function () {
      const since = world.proxy.requests.length;
      const call = await world.call('15551230022');
      const end = await call.ended();
      expect(world.heard(call.heard())).to.deep.equal([`say:${NO_ANSWER_SAID} done`, 'sorry.wav done']);
      expect(end.cause).to.equal(16);
      const [leg] = legsSince(since);
      expect(legEvents(leg?.id ?? '')).to.not.include('StasisStart');
      expect(ringing(call.channelId)).to.deep.equal(['POST', 'DELETE']);
      await world.expectNothingLeft();
    });

    it('busy: the error branch says "busy (cause 17)" and runs', async function () {
      const call = await world.call('15551230023');
      const end = await call.ended();
      expect(world.heard(call.heard())).to.deep.equal([`say:${BUSY_SAID} done`, 'sorry.wav done']);
      expect(end.cause).to.equal(16);
      await world.expectNothingLeft();
    });

    it('congestion: the error branch says "congestion (cause 34)" and runs', async function () {
      const call = await world.call('15551230024');
      const end = await call.ended();
      expect(world.heard(call.heard())).to.deep.equal([`say:${CONGESTION_SAID} done`, 'sorry.wav done']);
      expect(end.cause).to.equal(16);
      await world.expectNothingLeft();
    });

    it('the caller hanging up while the targets ring cancels every one of them and nothing runs after', async function () {
      const since = world.proxy.requests.length;
      const call = await world.call('15551230025');
      await world.proxy.untilEvents((e) => e.type === 'Dial' && e.dialstatus === 'RINGING' && legsSince(since).some((l) => l.id === e.peer?.id), 'Dial RINGING of the targets', 2);
      await call.hangUp();
      await call.ended();
      const legs = legsSince(since);
      expect(legs).to.have.length(2);
      for (const leg of legs) await world.proxy.untilEvents(isLegGone(leg.id), `the end of leg ${leg.id}`);
      await world.engine.role.app.whenIdle();
      expect(call.heard()).to.deep.equal([]);
      for (const leg of legs) expect(legEvents(leg.id)).to.not.include('StasisStart');
      await world.expectNothingLeft();
      expect(world.engine.role.app.ownChannels.size).to.equal(0);
      expect(world.engine.role.app.dispatcher.size).to.equal(0);
    });

    it('the caller hanging up while bridged hangs up the called party and destroys the bridge', async function () {
      const since = world.proxy.requests.length;
      const call = await world.call('15551230026');
      await world.proxy.untilEvents((e) => e.type === 'ChannelEnteredBridge' && e.channel?.id === call.channelId, 'the caller entering the bridge');
      const [leg] = legsSince(since);
      expect(leg).to.include({ endpoint: 'Local/2001@opentact-targets', callerId: '15557776666' });
      await call.hangUp();
      await call.ended();
      await world.proxy.untilEvents(isLegGone(leg?.id ?? ''), 'the end of the called leg');
      await world.proxy.untilEvents((e) => e.type === 'BridgeDestroyed', 'the bridge destroyed');
      await world.engine.role.app.whenIdle();
      expect(call.heard()).to.deep.equal([]);
      await world.expectNothingLeft();
      expect(world.engine.role.app.ownChannels.size).to.equal(0);
      expect(world.engine.role.app.dispatcher.size).to.equal(0);
    });
  });

  describe('Record', function () {
    const world = new World();
    traceCalls(world);
    const admin = { username: 'operator', password: 'a long secret' };
    const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

    before(async function () {
      await world.start(
        startLine,
        (w) =>
          apps([
            { uuid: 'app-record', name: 'Record', numbers: ['15551230021'], xml: '<Response><Record tag="greeting" timeout="10000"/><Play record="greeting"/><Hangup/></Response>' },
            {
              uuid: 'app-record-children',
              name: 'Record with children',
              numbers: ['15551230022'],
              xml: '<Response><Record tag="memo" timeout="10000"><Pause length="8000" dtmf_stop="#"/></Record><Play record="memo"/><Hangup/></Response>',
            },
            { uuid: 'app-record-long', name: 'Long record', numbers: ['15551230023'], xml: `<Response><Record tag="long" timeout="20000"/><Play>${w.prompts.next}</Play></Response>` },
            {
              uuid: 'app-play-unknown',
              name: 'Play of an unknown recording',
              numbers: ['15551230024'],
              xml: `<Response><Play record="never"><Error><Play>${w.prompts.sorry}</Play></Error></Play><Hangup/></Response>`,
            },
          ]),
        { admin },
      );
    });

    after(() => world.close());

    /** The recording's name, from the media of its playback (`recording:<name>`). */
    function recordingOf(media: string): string {
      expect(media).to.match(/^recording:/);
      return media.slice('recording:'.length);
    }

    function recordingStarted(call: PhoneCall): Promise<AriEvent[]> {
      return world.proxy.untilEvents((e) => e.type === 'RecordingStarted' && e.recording?.target_uri === `channel:${call.channelId}`, 'RecordingStarted');
    }

    async function recordingFile(name: string, authorization?: string, port = world.engine.http.port): Promise<Response> {
      return fetch(`http://127.0.0.1:${port}/admin/recordings/${name}.wav`, {
        ...(authorization === undefined ? {} : { headers: { authorization } }),
        signal: AbortSignal.timeout(5000),
      });
    }

    it('Record, ended by #, then <Play record> plays the caller\'s words back; the operator fetches the WAV with credentials, and gets 401 without', async function () {
      const call = await world.call('15551230021');
      // The beep, then the recording: the caller talks for 1.5 s, then presses #.
      await call.untilFinished(1);
      await recordingStarted(call);
      await call.talk(true);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await call.talk(false);
      await call.press('#');
      const end = await call.ended();
      const heard = call.heard();
      expect(heard.map((h) => h.media)).to.have.length(2);
      expect(heard[0]?.media).to.equal('tone:1000');
      const name = recordingOf(heard[1]?.media ?? '');
      expect(name).to.match(/^[0-9a-f-]{36}-greeting$/);
      expect(heard.map((h) => h.state)).to.deep.equal(['done', 'done']);
      expect(end.cause).to.equal(16);
      await world.expectNothingLeft();

      const file = await recordingFile(name, basic(admin.username, admin.password));
      expect(file.status).to.equal(200);
      expect(file.headers.get('content-type')).to.equal('audio/wav');
      const wav = Buffer.from(await file.arrayBuffer());
      expect(wav.subarray(0, 4).toString('latin1')).to.equal('RIFF');
      expect(wav.length).to.be.greaterThan(8000); // more than half a second of 8 kHz 16-bit audio
      const refused = await recordingFile(name);
      expect(refused.status).to.equal(401);
      expect(refused.headers.get('www-authenticate')).to.match(/^Basic realm=/);
      expect((await recordingFile(name, basic(admin.username, 'wrong'))).status).to.equal(401);
      expect((await recordingFile(`${name}x`, basic(admin.username, admin.password))).status).to.equal(404);
    });

    it('Record with children records while they run and stops when they end (# ends the Pause), then plays it back', async function () {
      const call = await world.call('15551230022');
      await call.untilFinished(1);
      await recordingStarted(call);
      // The caller speaks a memo for 0.5 s, then presses # to end the Pause.
      await call.talk(true);
      await new Promise((resolve) => setTimeout(resolve, 500));
      await call.talk(false);
      const pressed = Date.now();
      await call.press('#');
      await call.untilStarted(2);
      // Long before the Pause's 8 s: the key ended the children, and with them the recording.
      expect(Date.now() - pressed).to.be.below(4000);
      const end = await call.ended();
      const heard = call.heard();
      expect(heard[0]?.media).to.equal('tone:1000');
      expect(recordingOf(heard[1]?.media ?? '')).to.match(/-memo$/);
      expect(end.cause).to.equal(16);
      await world.expectNothingLeft();
    });

    it('the caller hanging up while recording ends the flow: no live recording, no channel, nothing more plays', async function () {
      const call = await world.call('15551230023');
      await call.untilFinished(1);
      const [started] = await recordingStarted(call);
      const name = started?.recording?.name ?? '';
      await world.hangUpAndCheckSilence(call);
      expect(call.heard().map((h) => h.media)).to.deep.equal(['tone:1000']);
      const { url, username, password } = world.line.ari;
      const live = await fetch(`${url}/ari/recordings/live/${name}`, { headers: { authorization: basic(username, password) }, signal: AbortSignal.timeout(5000) });
      expect(live.status).to.equal(404);
      await world.expectNothingLeft();
    });

    it('<Play record> of a tag this call never recorded fails ("no recording named …") and runs the error branch', async function () {
      const call = await world.call('15551230024');
      const end = await call.ended();
      expect(world.heard(call.heard())).to.deep.equal(['sorry.wav done']);
      expect(end.cause).to.equal(16);
      await world.expectNothingLeft();
    });

    it('without ADMIN_USERNAME/ADMIN_PASSWORD the http role does not serve recordings at all (404)', async function () {
      const { url, username, password } = world.line.ari;
      const files = new AriRecordingFiles({ url, username, password, timeoutMs: 2000 });
      const bare = await startHttpRole({ port: 0, host: '127.0.0.1', readiness: () => ({ ready: true }), store: world.engine.store, recordings: { files } }, world.logger);
      try {
        expect((await recordingFile('anything', basic(admin.username, admin.password), bare.port)).status).to.equal(404);
      } finally {
        await bare.stop();
      }
    });
  });

  describe('what the operator sees of a call: its trail and the metrics', function () {
    const world = new World();
    const admin = { username: 'operator', password: 'scenario-admin-password' };
    traceCalls(world);

    before(async function () {
      await world.start(
        startLine,
        (w) =>
          apps([
            {
              uuid: 'app-ops',
              name: 'Operations',
              numbers: ['15551230040'],
              xml: `<Response><Play>${w.prompts.welcome}</Play><Callback url="${w.callbacks.origin}/missing" timeout="1000"><Error tag="fallback"><Play>${w.prompts.sorry}</Play></Error></Callback><Hangup tag="done"/></Response>`,
            },
          ]),
        { admin, metrics: new Metrics(), trail: { ttlSeconds: 3600 } },
      );
    });

    after(() => world.close());

    it('a call whose callback fails: /admin/calls lists it and gives its trail; /metrics counts the failed callback and the ending', async function () {
      const call = await world.call('15551230040');
      expect((await call.ended()).cause).to.equal(16);
      await world.engine.role.app.whenIdle();
      // The trail is written in the background: read it until its last line is there.
      type Trail = { call: Record<string, unknown>; events: Record<string, unknown>[] };
      let trail: Trail | undefined;
      for (const deadline = Date.now() + 5000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 50))) {
        const list = (await adminGet(world, '/admin/calls?did=15551230040', admin)) as { calls: { call: string }[] };
        const uuid = list.calls[0]?.call;
        if (uuid === undefined) continue;
        trail = (await adminGet(world, `/admin/calls/${uuid}`, admin)) as Trail;
        if (trail.events.some((e) => e['event'] === 'end')) break;
      }
      expect(trail?.call).to.include({ did: '15551230040', from: CALLER, channel: call.channelId, reason: 'hangup' });
      expect(trail?.call['app']).to.deep.equal({ uuid: 'app-ops', name: 'Operations' });
      const lines = (trail?.events ?? []).map((e) => `${String(e['event'])} ${String(e['path'])}${e['code'] === undefined ? '' : ` ${String(e['code'])}`}`);
      expect(lines).to.deep.equal([
        'verb Response/Play[0]',
        'callback Response/Callback[1] http_status',
        'failed Response/Callback[1] http_status',
        'error-branch Response/Callback[1]/Error[0] http_status',
        'verb Response/Callback[1]/Error[0]/Play[0]',
        'hangup Response/Hangup[2]',
        'verb Response/Hangup[2]',
        'end Response',
      ]);
      expect(trail?.events.find((e) => e['event'] === 'callback')).to.include({ status: 404, attempts: 1 });
      expect(trail?.events.find((e) => e['event'] === 'hangup')).to.include({ cause: 'normal_clearing', tag: 'done' });

      const scrape = (await adminGet(world, '/metrics', admin)) as string;
      expect(scrape).to.include('opentact_callbacks_total{outcome="error",code="http_status"} 1');
      expect(scrape).to.include('opentact_verbs_total{verb="Callback",outcome="http_status"} 1');
      expect(scrape).to.include('opentact_calls_ended_total{reason="hangup"} 1');
      expect(scrape).to.include('opentact_calls_active 0');
      await world.expectNothingLeft();
    });
  });
}
