// Shared set-up for the ARI suites, on real parts: the fake Asterisk (fetching every
// `sound:http…` media as Asterisk's HTTP media cache does), the run's Redis with a prefix
// per suite, an in-process callback worker, loopback callback servers, a loopback
// "customer media server" with small WAV prompts, and the roles as `start` wires them —
// a media store in a temporary directory, the http role serving /media from it, espeak-ng
// speech, remote audio, and the stasis role. Everything is closed in the suite's after-all
// hook.
import { mkdtemp, rm } from 'node:fs/promises';
import type http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHttpRole, type HttpRole, type Readiness } from '../../../app/roles/http.js';
import { startStasisRole, type StasisRole } from '../../../app/roles/stasis.js';
import { UrlPolicy } from '../../../lib/callback/url-policy.js';
import { parseApps, type CallControlApp } from '../../../lib/config/index.js';
import type { MediaRef } from '../../../lib/flow/ports.js';
import {
  directoryLocator,
  httpLocator,
  MediaStore,
  NO_RECORDINGS,
  REMOTE_AUDIO_DEFAULTS,
  RemoteAudio,
  type MediaLocator,
} from '../../../lib/media/index.js';
import { CallbackWorker } from '../../../lib/queue/index.js';
import { EspeakEngine, saysOf, TtsSpeech } from '../../../lib/tts/index.js';
import type { FlowDocument, Voice } from '../../../lib/xml/index.js';
import { FakeAri, type FakeAriOptions, type RecordedAriRequest } from '../../support/fake-ari/index.js';
import { startServer, type ScriptedHandler, type ScriptedServer } from '../../support/http-servers.js';
import { sharedRedisUrl, uniquePrefix } from '../../support/redis.js';
import { stderrLogger, type TestLogger } from '../../support/stderr-logger.js';
import { pcmWav, tone } from '../../support/wav.js';

export const APP_NAME = 'opentact';
export const CALLER = '15550001111';
/** The voice of a `<Say>` without attributes. */
export const DEFAULT_VOICE: Voice = { lang: 'en-US', gender: 'FEMALE', type: 'Standard' };

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
  role!: StasisRole;
  http!: HttpRole;
  store!: MediaStore;
  speech!: TtsSpeech;
  audio!: RemoteAudio;
  locator!: MediaLocator;
  /** `sound:` URIs played by calls → readable labels (`welcome.wav`, `say:Hello`). */
  readonly labels = new Map<string, string>();
  private mediaServer: ScriptedServer | undefined;
  private readonly mediaFiles = new Map<string, { body: Buffer; contentType: string }>();
  private readonly closers: (() => Promise<void>)[] = [];
  private roleStarted = false;

  constructor(name: string) {
    this.prefix = uniquePrefix(`ari-${name}`);
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
   * Starts the store, the http role, speech, remote audio, the fake, a worker and the
   * stasis role with these apps; waits until ARI is connected.
   */
  async start(appList: readonly CallControlApp[], options: SuiteOptions = {}): Promise<void> {
    const redisUrl = await sharedRedisUrl();
    const policy = new UrlPolicy('127.0.0.0/8');

    const dir = await mkdtemp(join(tmpdir(), 'opentact-ari-media-'));
    this.closers.push(() => rm(dir, { recursive: true, force: true }));
    this.store = await MediaStore.open({ dir, maxBytes: 64 * 1024 * 1024, log: this.logger });
    const readiness = (): Readiness => (this.roleStarted ? this.role.status() : { ready: false });
    this.http = await startHttpRole({ port: 0, host: '127.0.0.1', readiness, store: this.store }, this.logger);
    this.closers.push(() => this.http.stop());
    this.locator = options.delivery === 'directory' ? directoryLocator(dir) : httpLocator(`http://127.0.0.1:${this.http.port}`);

    const engine = await EspeakEngine.create({ log: this.logger });
    this.speech = new TtsSpeech({ engine, store: this.store, locator: this.locator, renderTimeoutMs: options.renderTimeoutMs ?? 5000, log: this.logger });
    const audioOptions = {
      store: this.store,
      locator: this.locator,
      policy,
      recordings: NO_RECORDINGS,
      log: this.logger,
      maxBytes: REMOTE_AUDIO_DEFAULTS.maxBytes,
      fetchTimeoutMs: REMOTE_AUDIO_DEFAULTS.fetchTimeoutMs,
      transcodeTimeoutMs: REMOTE_AUDIO_DEFAULTS.transcodeTimeoutMs,
      revalidateAfterMs: REMOTE_AUDIO_DEFAULTS.revalidateAfterMs,
    };
    this.audio = new RemoteAudio(audioOptions);
    await this.labelMedia(new RemoteAudio(audioOptions), appList, options.says ?? []);

    const playbackMs = options.playbackMs;
    this.fake = await FakeAri.start({
      fetchHttpMedia: true,
      ...options.fake,
      ...(playbackMs === undefined ? {} : { playbackMs: (media: string) => playbackMs(this.labels.get(media) ?? media) }),
    });
    this.closers.push(() => this.fake.close());
    const worker = await CallbackWorker.start(
      {
        connection: redisUrl,
        prefix: this.prefix,
        concurrency: options.workerConcurrency ?? 50,
        policy,
        secrets: { get: () => undefined },
      },
      this.logger,
    );
    this.closers.push(() => worker.close());
    this.role = startStasisRole(
      {
        ari: {
          url: this.fake.url,
          username: this.fake.username,
          password: this.fake.password,
          app: APP_NAME,
          requestTimeoutMs: options.requestTimeoutMs ?? 2000,
          maxConnections: 50,
        },
        apps: appList,
        redisUrl,
        queuePrefix: this.prefix,
        secrets: { get: () => undefined },
        maxBytes: 256 * 1024,
        maxDocumentsPerCall: 100,
        shutdownGraceMs: options.shutdownGraceMs ?? 1000,
        backoff: options.backoff ?? { initialMs: 20, maxMs: 200 },
        speech: this.speech,
        audio: this.audio,
      },
      this.logger,
    );
    this.roleStarted = true;
    this.closers.push(() => this.role.stop());
    await this.fake.waitForApplication(APP_NAME, 5000);
    await this.connected();
  }

  /** Resolves once the role reports ARI connected. */
  async connected(timeoutMs = 5000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`ARI not connected within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.role.connection.whenState('connected'), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  async server(handler: ScriptedHandler): Promise<ScriptedServer> {
    const server = await startServer(handler);
    this.closers.push(() => server.close());
    return server;
  }

  /** The `sound:` URI a Say renders to with this suite's engine and locator (nothing is rendered). */
  sayUri(text: string, voice: Voice = DEFAULT_VOICE): string {
    const ref = this.locator({ id: MediaStore.idFor(this.speech.keyFor(text, voice)), path: '', bytes: 0 });
    return uriOf(ref);
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

  // Labels are found with the same parts the role uses: a second RemoteAudio over the
  // same store (so the role's own first play still fetches from the customer server),
  // and the speech's store key for each Say, which needs no rendering.
  private async labelMedia(labeller: RemoteAudio, appList: readonly CallControlApp[], says: readonly string[]): Promise<void> {
    if (this.mediaServer) {
      const prompts = await this.prompts();
      for (const [name, url] of Object.entries(prompts)) {
        this.labels.set(uriOf(await labeller.fromUrl(url, new AbortController().signal)), `${name}.wav`);
      }
    }
    const documents: FlowDocument[] = [];
    for (const app of appList) {
      if (app.source.kind === 'static') documents.push(app.source.document);
      else if (app.source.fallback) documents.push(app.source.fallback);
    }
    for (const say of documents.flatMap((document) => saysOf(document))) this.labels.set(this.sayUri(say.text, say.voice), `say:${say.text}`);
    for (const text of says) this.labels.set(this.sayUri(text), `say:${text}`);
  }
}

function uriOf(ref: MediaRef): string {
  if (ref.kind !== 'sound') throw new Error(`expected a sound: media reference, got ${JSON.stringify(ref)}`);
  return ref.uri;
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
