// The engine's roles as `opentact-ari start` wires them, in the test process, against any
// ARI server: a media store in a temporary directory, the http role serving /media from
// it, espeak-ng speech, remote audio, an in-process callback worker on the run's Redis and
// the stasis role. The ARI suites (fake ARI) and the shared scenarios (fake or real
// Asterisk) both start the engine with this. `labels` maps the `sound:` URIs the engine
// hands Asterisk to readable names (`welcome.wav`, `say:Hello`) for assertions.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AriRecordingFiles, type Clock } from '../../lib/ari/index.js';
import { startHttpRole, type HttpRole, type Readiness } from '../../app/roles/http.js';
import { startStasisRole, type StasisRole } from '../../app/roles/stasis.js';
import { UrlPolicy } from '../../lib/callback/url-policy.js';
import type { AdmissionSettings, CallControlApp, DialEndpoints } from '../../lib/config/index.js';
import type { MediaRef } from '../../lib/flow/ports.js';
import { directoryLocator, httpLocator, MediaStore, NO_RECORDINGS, REMOTE_AUDIO_DEFAULTS, RemoteAudio, type MediaLocator } from '../../lib/media/index.js';
import type { Metrics } from '../../lib/metrics/index.js';
import { CallbackWorker } from '../../lib/queue/index.js';
import { CallTrails } from '../../lib/trail/index.js';
import { CallStates } from '../../lib/session/index.js';
import { DEFAULT_EVENT_RETRY, EventQueue, EventWorker, type EventRetry } from '../../lib/events/index.js';
import { EspeakEngine, saysOf, TtsSpeech } from '../../lib/tts/index.js';
import type { FlowDocument, Voice } from '../../lib/xml/index.js';
import { sharedRedisUrl } from './redis.js';
import type { TestLogger } from './stderr-logger.js';

/** The voice of a `<Say>` without attributes. */
export const DEFAULT_VOICE: Voice = { lang: 'en-US', gender: 'FEMALE', type: 'Standard' };

export interface EngineOptions {
  readonly ari: { readonly url: string; readonly username: string; readonly password: string };
  readonly app: string;
  readonly apps: readonly CallControlApp[];
  readonly prefix: string;
  readonly logger: TestLogger;
  readonly requestTimeoutMs?: number;
  readonly shutdownGraceMs?: number;
  readonly workerConcurrency?: number;
  readonly backoff?: { initialMs: number; maxMs: number };
  readonly renderTimeoutMs?: number;
  /** `http` (default): sound:<http role>/media/<id>.wav; `directory`: sound:<store dir>/<id>, as with MEDIA_DIR. */
  readonly delivery?: 'http' | 'directory';
  /** Remote prompts to label by name (URL → label), e.g. `welcome.wav`. */
  readonly prompts?: Readonly<Record<string, string>>;
  /** Say texts (default voice) to label `say:<text>` besides those of the apps' own documents. */
  readonly says?: readonly string[];
  /** `<Dial>` endpoint templates (DIAL_NUMBER_ENDPOINT, DIAL_SIP_ENDPOINT); default the role's. */
  readonly dial?: DialEndpoints;
  /** ADMIN_USERNAME / ADMIN_PASSWORD: the http role serves recordings (from `ari`) with them. */
  readonly admin?: { readonly username: string; readonly password: string };
  /** The process's metrics, as `start` wires them: served at the http role's /metrics. */
  readonly metrics?: Metrics;
  /**
   * Keeps each call's trail in Redis under `prefix`, as `start` does (CALL_TRAIL_TTL), and
   * serves it at /admin/calls with `admin`.
   */
  readonly trail?: { readonly ttlSeconds: number; readonly maxEvents?: number };
  /**
   * Sends call events (the apps' `events_url`) through the `events` queue under `prefix`,
   * with an events worker, as `start` does; `retry` for a short backoff, `requestTimeoutMs`
   * for one POST.
   */
  readonly events?: { readonly retry?: Partial<EventRetry>; readonly requestTimeoutMs?: number };
  /**
   * Saves each call's state under `prefix` (CALL_STATE_TTL), as `start` does: a drain hands
   * the calls over, and an engine started later on the same prefix resumes them.
   */
  readonly resume?: { readonly ttlSeconds: number; readonly sweepIntervalMs?: number };
  /** Signing secrets by app UUID (SIGNING_SECRETS / an app's `secret`); default none. */
  readonly secrets?: Readonly<Record<string, string>>;
  /** Admission control (MAX_CALLS…), as `start` wires it, with a clock of the test's; default none: every call is taken. */
  readonly admission?: { readonly settings: AdmissionSettings; readonly clock?: Clock };
  /**
   * The http role's port (default 0: a free one). An engine started again on the same port
   * serves the media URLs the one before handed Asterisk, as a stable PUBLIC_BASE_URL does.
   */
  readonly httpPort?: number;
  /**
   * The media store's directory (MEDIA_DIR), kept on close so that an engine started again
   * finds its files; default a temporary directory of its own, removed on close.
   */
  readonly mediaDir?: string;
}

export class Engine {
  role!: StasisRole;
  /** The call trails' writer, when `trail` was asked for. */
  trails: CallTrails | undefined;
  /** The call events' queue, when `events` was asked for. */
  events: EventQueue | undefined;
  /** The calls' saved state, when `resume` was asked for. */
  states: CallStates | undefined;
  http!: HttpRole;
  store!: MediaStore;
  speech!: TtsSpeech;
  audio!: RemoteAudio;
  locator!: MediaLocator;
  /** `sound:` URIs → readable labels (`welcome.wav`, `say:Hello`). */
  readonly labels = new Map<string, string>();
  private readonly closers: (() => Promise<void>)[] = [];
  private roleStarted = false;

  /** Starts every role; resolves once the stasis role is connected to ARI. */
  static async start(options: EngineOptions): Promise<Engine> {
    const engine = new Engine();
    try {
      await engine.startRoles(options);
    } catch (error) {
      await engine.close();
      throw error;
    }
    return engine;
  }

  private async startRoles(options: EngineOptions): Promise<void> {
    const { logger } = options;
    const redisUrl = await sharedRedisUrl();
    const policy = new UrlPolicy('127.0.0.0/8');
    const dir = options.mediaDir ?? (await mkdtemp(join(tmpdir(), 'opentact-ari-media-')));
    if (options.mediaDir === undefined) this.closers.push(() => rm(dir, { recursive: true, force: true }));
    this.store = await MediaStore.open({ dir, maxBytes: 64 * 1024 * 1024, log: logger });
    const readiness = (): Readiness => (this.roleStarted ? this.role.status() : { ready: false });
    const files = new AriRecordingFiles({ ...options.ari, timeoutMs: options.requestTimeoutMs ?? 2000 });
    const recordings = { files, ...(options.admin === undefined ? {} : { credentials: options.admin }) };
    const metrics = options.metrics === undefined ? {} : { metrics: options.metrics };
    const trailRoutes =
      options.trail === undefined || options.admin === undefined ? {} : { admin: options.admin, trails: { connection: redisUrl, prefix: options.prefix } };
    this.http = await startHttpRole({ port: options.httpPort ?? 0, host: '127.0.0.1', readiness, store: this.store, recordings, ...metrics, ...trailRoutes }, logger);
    this.closers.push(() => this.http.stop());
    this.locator = options.delivery === 'directory' ? directoryLocator(dir) : httpLocator(`http://127.0.0.1:${this.http.port}`);

    const tts = await EspeakEngine.create({ log: logger });
    this.speech = new TtsSpeech({ engine: tts, store: this.store, locator: this.locator, renderTimeoutMs: options.renderTimeoutMs ?? 5000, log: logger, ...metrics });
    const audioOptions = { ...REMOTE_AUDIO_DEFAULTS, store: this.store, locator: this.locator, policy, recordings: NO_RECORDINGS, log: logger };
    this.audio = new RemoteAudio({ ...audioOptions, ...metrics });
    // Labels come from the same parts the role uses: a second RemoteAudio over the same
    // store (so the role's own first play still fetches from the customer's server), and
    // the speech's store key for each Say, which needs no rendering.
    const labeller = new RemoteAudio(audioOptions);
    for (const [url, label] of Object.entries(options.prompts ?? {})) this.labels.set(uriOf(await labeller.fromUrl(url, new AbortController().signal)), label);
    const documents: FlowDocument[] = [];
    for (const app of options.apps) {
      if (app.source.kind === 'static') documents.push(app.source.document);
      else if (app.source.fallback) documents.push(app.source.fallback);
    }
    for (const say of documents.flatMap((document) => saysOf(document))) this.labels.set(this.sayUri(say.text, say.voice), `say:${say.text}`);
    for (const text of options.says ?? []) this.labels.set(this.sayUri(text), `say:${text}`);

    const table = options.secrets ?? {};
    const secrets = { get: (keyId: string) => table[keyId] };
    const worker = await CallbackWorker.start(
      { connection: redisUrl, prefix: options.prefix, concurrency: options.workerConcurrency ?? 50, policy, secrets },
      logger,
    );
    this.closers.push(() => worker.close());
    if (options.trail !== undefined) {
      const trails = new CallTrails({ connection: redisUrl, prefix: options.prefix, ...options.trail, log: logger });
      this.trails = trails;
      this.closers.push(() => trails.close());
    }
    if (options.events !== undefined) {
      const { retry, requestTimeoutMs } = options.events;
      const eventWorker = new EventWorker({ connection: redisUrl, prefix: options.prefix, policy, secrets, ...(requestTimeoutMs === undefined ? {} : { requestTimeoutMs }) }, logger);
      await eventWorker.ready();
      this.closers.push(() => eventWorker.close(1000));
      const events = new EventQueue({ connection: redisUrl, prefix: options.prefix, retry: { ...DEFAULT_EVENT_RETRY, ...retry }, log: logger });
      this.events = events;
      this.closers.push(() => events.close());
    }
    if (options.resume !== undefined) {
      const states = new CallStates({ connection: redisUrl, prefix: options.prefix, ttlSeconds: options.resume.ttlSeconds, log: logger });
      this.states = states;
      this.closers.push(() => states.close());
    }
    this.role = startStasisRole(
      {
        ari: { ...options.ari, app: options.app, requestTimeoutMs: options.requestTimeoutMs ?? 2000, maxConnections: 50 },
        apps: options.apps,
        redis: redisUrl,
        queuePrefix: options.prefix,
        secrets,
        maxBytes: 256 * 1024,
        maxDocumentsPerCall: 100,
        shutdownGraceMs: options.shutdownGraceMs ?? 1000,
        backoff: options.backoff ?? { initialMs: 20, maxMs: 200 },
        speech: this.speech,
        audio: this.audio,
        ...(options.dial === undefined ? {} : { dialEndpoints: options.dial }),
        ...metrics,
        ...(this.trails === undefined ? {} : { trails: this.trails }),
        ...(this.events === undefined ? {} : { events: this.events }),
        ...(this.states === undefined ? {} : { states: this.states }),
        ...(options.resume?.sweepIntervalMs === undefined ? {} : { sweepIntervalMs: options.resume.sweepIntervalMs }),
        ...(options.admission === undefined ? {} : { admission: options.admission.settings }),
        ...(options.admission?.clock === undefined ? {} : { admissionClock: options.admission.clock }),
      },
      logger,
    );
    this.roleStarted = true;
    this.closers.push(() => this.role.stop());
    await this.connected();
  }

  /** Resolves once the role reports ARI connected. */
  connected(timeoutMs = 5000): Promise<void> {
    return Promise.race([
      this.role.connection.whenState('connected'),
      new Promise<never>((_resolve, reject) => AbortSignal.timeout(timeoutMs).addEventListener('abort', () => reject(new Error(`ARI not connected within ${timeoutMs} ms`)))),
    ]);
  }

  /** The `sound:` URI a Say renders to with this engine's speech and locator (nothing is rendered). */
  sayUri(text: string, voice: Voice = DEFAULT_VOICE): string {
    return uriOf(this.locator({ id: MediaStore.idFor(this.speech.keyFor(text, voice)), path: '', bytes: 0 }));
  }

  /** A media URI's label, or the URI itself. */
  label(uri: string): string {
    return this.labels.get(uri) ?? uri;
  }

  async close(): Promise<void> {
    for (const close of this.closers.splice(0).reverse()) await close();
  }
}

export function uriOf(ref: MediaRef): string {
  if (ref.kind !== 'sound') throw new Error(`expected a sound: media reference, got ${JSON.stringify(ref)}`);
  return ref.uri;
}
