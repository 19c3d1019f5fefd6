// Shared set-up for the ARI suites, on real parts: the fake Asterisk (fetching every
// `sound:http…` media as Asterisk's HTTP media cache does), loopback callback servers, a
// loopback "customer media server" with small WAV prompts, and the engine's roles as
// `start` wires them (test/support/engine.ts) on the run's Redis with a prefix per suite.
// Everything is closed in the suite's after-all hook.
import type http from 'node:http';
import type { HttpRole } from '../../../app/roles/http.js';
import type { StasisRole } from '../../../app/roles/stasis.js';
import { parseApps, type CallControlApp } from '../../../lib/config/index.js';
import type { MediaStore, RemoteAudio } from '../../../lib/media/index.js';
import type { Metrics } from '../../../lib/metrics/index.js';
import type { Voice } from '../../../lib/xml/index.js';
import { Engine, type EngineOptions } from '../../support/engine.js';
import { FakeAri, type FakeAriOptions, type RecordedAriRequest } from '../../support/fake-ari/index.js';
import { startServer, type ScriptedHandler, type ScriptedServer } from '../../support/http-servers.js';
import { uniquePrefix } from '../../support/redis.js';
import { stderrLogger, type TestLogger } from '../../support/stderr-logger.js';
import { pcmWav, tone } from '../../support/wav.js';

export { DEFAULT_VOICE } from '../../support/engine.js';
export const APP_NAME = 'opentact';
export const CALLER = '15550001111';

/**
 * The prompts the customer media server serves: distinct 8 kHz tones, so that each is
 * its own content (the store names files by content). Each is labelled `<name>.wav` in
 * `describe()`.
 */
export const PROMPTS = { welcome: 440, next: 550, sorry: 660, long: 770, short: 880 } as const;
export type PromptName = keyof typeof PROMPTS;
export type Prompts = { readonly [name in PromptName]: string };

/** Raw app entries as in an apps file; validated with the real parser. */
export type RawApp = Record<string, unknown>;

export function apps(raw: readonly RawApp[]): CallControlApp[] {
  return parseApps({ apps: raw }, 'test-apps.yaml', { maxBytes: 256 * 1024, env: process.env });
}

export interface SuiteOptions {
  readonly fake?: FakeAriOptions;
  /** How long a play lasts on the fake, by the label of its media (see `describe`); default the fake's 20 ms. */
  readonly playbackMs?: (label: string) => number;
  readonly requestTimeoutMs?: number;
  readonly shutdownGraceMs?: number;
  readonly workerConcurrency?: number;
  /** Faster reconnects for the tests (production: 0.5 s doubling to 30 s). */
  readonly backoff?: { initialMs: number; maxMs: number };
  /** TTS_RENDER_TIMEOUT_MS (default 5000, as in production). */
  readonly renderTimeoutMs?: number;
  /** `http` (default): sound:<http role>/media/<id>.wav; `directory`: sound:<store dir>/<id>, as with MEDIA_DIR. */
  readonly delivery?: 'http' | 'directory';
  /**
   * Say texts (default voice) labelled `say:<text>` besides those of the apps' own
   * documents, e.g. the Says of documents a callback server returns.
   */
  readonly says?: readonly string[];
  /** The engine's metrics (served at the http role's /metrics), as `start` wires them. */
  readonly metrics?: Metrics;
  /** Call trails in Redis (CALL_TRAIL_TTL), served at /admin/calls with `admin`. */
  readonly trail?: { readonly ttlSeconds: number; readonly maxEvents?: number };
  /** ADMIN_USERNAME / ADMIN_PASSWORD for the http role's /admin. */
  readonly admin?: { readonly username: string; readonly password: string };
  /** Call events through the events queue and an events worker (see EngineOptions.events). */
  readonly events?: EngineOptions['events'];
  /** Signing secrets by app UUID. */
  readonly secrets?: Readonly<Record<string, string>>;
  /** Saved call state (CALL_STATE_TTL): calls are handed over on close and resumed by restartEngine's engine. */
  readonly resume?: EngineOptions['resume'];
  /** Admission control (MAX_CALLS…) with an optional clock of the test's; default none. */
  readonly admission?: EngineOptions['admission'];
}

/** What a GET of a media URL answered, as Asterisk's media cache would see it. */
export interface ServedMedia {
  readonly status: number;
  readonly contentType: string | null;
  readonly cacheControl: string | null;
  readonly body: Buffer;
}

export class AriSuite {
  readonly prefix: string;
  readonly logger: TestLogger = stderrLogger('error');
  fake!: FakeAri;
  engine!: Engine;
  private mediaServer: ScriptedServer | undefined;
  private readonly mediaFiles = new Map<string, { body: Buffer; contentType: string }>();
  private readonly closers: (() => Promise<void>)[] = [];
  private engineOptions!: EngineOptions;

  constructor(name: string) {
    this.prefix = uniquePrefix(`ari-${name}`);
  }

  get role(): StasisRole {
    return this.engine.role;
  }

  get http(): HttpRole {
    return this.engine.http;
  }

  get store(): MediaStore {
    return this.engine.store;
  }

  get audio(): RemoteAudio {
    return this.engine.audio;
  }

  /** `sound:` URIs played by calls → readable labels (`welcome.wav`, `say:Hello`). */
  get labels(): ReadonlyMap<string, string> {
    return this.engine.labels;
  }

  /** Starts the customer media server (once) and gives the URLs of the prompts. */
  async prompts(): Promise<Prompts> {
    const server = await this.customerMedia();
    const urls: Partial<Record<PromptName, string>> = {};
    for (const [name, hz] of Object.entries(PROMPTS) as [PromptName, number][]) {
      const path = `/prompts/${name}.wav`;
      if (!this.mediaFiles.has(path)) this.mediaFiles.set(path, { body: pcmWav(tone(300, hz), 8000), contentType: 'audio/wav' });
      urls[name] = `${server.origin}${path}`;
    }
    return urls as Prompts;
  }

  /** Serves another file from the customer media server; gives its URL. */
  async serveMedia(path: string, body: Buffer, contentType: string): Promise<string> {
    const server = await this.customerMedia();
    this.mediaFiles.set(path, { body, contentType });
    return `${server.origin}${path}`;
  }

  /** Requests the customer media server received (the engine fetching `<Play>` audio). */
  get mediaRequests(): readonly { readonly method: string; readonly url: string }[] {
    return this.mediaServer?.requests ?? [];
  }

  /**
   * Starts the fake, then the engine's roles against it (test/support/engine.ts) with
   * these apps; waits until ARI is connected.
   */
  async start(appList: readonly CallControlApp[], options: SuiteOptions = {}): Promise<void> {
    const playbackMs = options.playbackMs;
    this.fake = await FakeAri.start({
      fetchHttpMedia: true,
      ...options.fake,
      ...(playbackMs === undefined ? {} : { playbackMs: (media: string) => playbackMs(this.labels.get(media) ?? media) }),
    });
    this.closers.push(() => this.fake.close());
    const prompts = this.mediaServer ? Object.fromEntries(Object.entries(await this.prompts()).map(([name, url]) => [url, `${name}.wav`])) : {};
    this.engineOptions = {
      ari: { url: this.fake.url, username: this.fake.username, password: this.fake.password },
      app: APP_NAME,
      apps: appList,
      prefix: this.prefix,
      logger: this.logger,
      prompts,
      says: options.says ?? [],
      ...(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs }),
      ...(options.shutdownGraceMs === undefined ? {} : { shutdownGraceMs: options.shutdownGraceMs }),
      ...(options.workerConcurrency === undefined ? {} : { workerConcurrency: options.workerConcurrency }),
      ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
      ...(options.renderTimeoutMs === undefined ? {} : { renderTimeoutMs: options.renderTimeoutMs }),
      ...(options.delivery === undefined ? {} : { delivery: options.delivery }),
      ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
      ...(options.trail === undefined ? {} : { trail: options.trail }),
      ...(options.admin === undefined ? {} : { admin: options.admin }),
      ...(options.events === undefined ? {} : { events: options.events }),
      ...(options.secrets === undefined ? {} : { secrets: options.secrets }),
      ...(options.admission === undefined ? {} : { admission: options.admission }),
      ...(options.resume === undefined ? {} : { resume: options.resume }),
    };
    this.engine = await Engine.start(this.engineOptions);
    this.closers.push(() => this.engine.close());
    await this.fake.waitForApplication(APP_NAME, 5000);
  }

  /** Resolves once the role reports ARI connected. */
  /**
   * Stops the engine as SIGTERM does (with `resume`, its calls are handed over) and starts
   * a new one with the same options, Redis prefix included; `meanwhile` runs in between.
   */
  async restartEngine(meanwhile?: () => void): Promise<void> {
    await this.engine.close();
    meanwhile?.();
    this.engine = await Engine.start(this.engineOptions);
  }

  connected(timeoutMs = 5000): Promise<void> {
    return this.engine.connected(timeoutMs);
  }

  async server(handler: ScriptedHandler): Promise<ScriptedServer> {
    const server = await startServer(handler);
    this.closers.push(() => server.close());
    return server;
  }

  /** The `sound:` URI a Say renders to with this suite's engine and locator (nothing is rendered). */
  sayUri(text: string, voice?: Voice): string {
    return this.engine.sayUri(text, voice);
  }

  /** The REST requests made on one channel. */
  channelRequests(channelId: string): RecordedAriRequest[] {
    const path = `/ari/channels/${channelId}`;
    return this.fake.requests.filter((r) => r.path === path || r.path.startsWith(`${path}/`));
  }

  /** The media URIs a channel was asked to play, raw, in order. */
  playedMedia(channelId: string): string[] {
    return this.channelRequests(channelId)
      .filter((r) => /\/play(\/[^/]+)?$/.test(r.path))
      .map((r) => r.query['media'] ?? '');
  }

  /**
   * A compact view of a channel's requests: `POST answer`, `POST play welcome.wav`,
   * `POST play say:Hello`, `DELETE 16`. Media without a label stay raw; a playback the
   * fake ended as failed (e.g. its URL could not be fetched) gets ` (failed)`.
   */
  describe(channelId: string): string[] {
    const failed = new Set(
      this.fake.events.filter((e) => e.type === 'PlaybackFinished' && e.playback?.state === 'failed').map((e) => e.playback?.id),
    );
    const requests = this.channelRequests(channelId);
    return describeRequests(requests, channelId).map((line, i) => {
      const request = requests[i];
      if (request === undefined || !line.startsWith('POST play ')) return line;
      const media = request.query['media'] ?? '';
      return `POST play ${this.labels.get(media) ?? media}${failed.has(request.query['playbackId']) ? ' (failed)' : ''}`;
    });
  }

  /** GETs a played `sound:http…` URI as Asterisk's HTTP media cache would. */
  async fetchAsAsterisk(uri: string): Promise<ServedMedia> {
    if (!uri.startsWith('sound:http')) throw new Error(`${uri} is not played over HTTP`);
    const response = await fetch(uri.slice('sound:'.length));
    return {
      status: response.status,
      contentType: response.headers.get('content-type'),
      cacheControl: response.headers.get('cache-control'),
      body: Buffer.from(await response.arrayBuffer()),
    };
  }

  async close(): Promise<void> {
    const closers = this.closers.splice(0).reverse();
    for (const close of closers) await close();
  }

  private async customerMedia(): Promise<ScriptedServer> {
    if (this.mediaServer) return this.mediaServer;
    const server = await startServer((req: http.IncomingMessage, res: http.ServerResponse) => {
      const file = this.mediaFiles.get(new URL(req.url ?? '/', 'http://x').pathname);
      if (!file) return res.writeHead(404).end();
      return res.writeHead(200, { 'content-type': file.contentType, 'content-length': String(file.body.length) }).end(file.body);
    });
    this.mediaServer = server;
    this.closers.push(() => server.close());
    return server;
  }
}

/** `POST answer`, `POST play sound:…`, `DELETE 16`: a compact view of a channel's requests. */
export function describeRequests(requests: readonly RecordedAriRequest[], channelId: string): string[] {
  return requests.map((r) => {
    const rest = r.path.slice(`/ari/channels/${channelId}`.length).replace(/^\//, '');
    if (r.method === 'DELETE' && rest === '') return `DELETE ${r.query['reason_code'] ?? r.query['reason'] ?? ''}`;
    if (rest.startsWith('play')) return `POST play ${r.query['media'] ?? ''}`;
    return `${r.method} ${rest}`;
  });
}

/** A flow document served by a callback server. */
export function xml(res: import('node:http').ServerResponse, body: string, status = 200): void {
  res.writeHead(status, { 'content-type': 'application/xml' }).end(body);
}
