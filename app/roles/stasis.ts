// The stasis role: the ARI connection and the Stasis application. Callbacks go through
// the queue; workers (this process's or others') run them.
import type { SecretStore } from '../../lib/callback/types.js';
import type { AdmissionSettings, AriSettings, CallControlApp, DialEndpoints } from '../../lib/config/index.js';
import type { AudioSource, Logger, Speech } from '../../lib/flow/ports.js';
import {
  Admission,
  AppDirectory,
  AriConnection,
  StasisApp,
  type BackoffPolicy,
  type Clock,
  type ConnectionState,
  type OverloadReason,
} from '../../lib/ari/index.js';
import { meteredFetcher, type Metrics } from '../../lib/metrics/index.js';
import { CallbackQueue, type RedisTarget } from '../../lib/queue/index.js';
import type { CallTrails } from '../../lib/trail/index.js';
import type { EventQueue } from '../../lib/events/index.js';
import type { CallStates } from '../../lib/session/index.js';
import { queueFetchers } from '../fetchers.js';

export interface StasisRoleOptions {
  readonly ari: AriSettings;
  readonly apps: readonly CallControlApp[];
  /** Redis, as the configuration gives it (REDIS_URL and its companions). */
  readonly redis: RedisTarget;
  readonly queuePrefix: string;
  readonly secrets: SecretStore;
  readonly maxBytes: number;
  readonly maxDocumentsPerCall: number;
  /** How long a drain lets calls in progress go on. */
  readonly shutdownGraceMs: number;
  readonly backoff?: BackoffPolicy;
  /** Renders `<Say>` (app/media.ts: the configured TTS engine). */
  readonly speech: Speech;
  /** Turns `<Play>` sources into what Asterisk plays (app/media.ts: remote audio, converted and served). */
  readonly audio: AudioSource;
  /** `<Dial>` endpoint templates (DIAL_NUMBER_ENDPOINT, DIAL_SIP_ENDPOINT); default PJSIP on the trunk. */
  readonly dialEndpoints?: DialEndpoints;
  /** The process's metrics: calls, verbs, callbacks, ARI requests and reconnections. */
  readonly metrics?: Metrics;
  /** Keeps each call's trail in Redis (CALL_TRAIL_TTL); whoever made it closes it after stop(). */
  readonly trails?: CallTrails;
  /** Sends the call events of the apps with an `events_url`; whoever made it closes it after stop(). */
  readonly events?: EventQueue;
  /** Saves each call's state so that a restart loses no call; whoever made it closes it after stop(). */
  readonly states?: CallStates;
  /** How often the application's channels are checked for calls nobody runs (default 2 s). */
  readonly sweepIntervalMs?: number;
  /** When new calls are refused with cause 42 (MAX_CALLS…); absent: every call is taken. */
  readonly admission?: AdmissionSettings;
  /** The admission's time and timers (tests); default the system's. */
  readonly admissionClock?: Clock;
}

export interface StasisRole {
  readonly app: StasisApp;
  readonly connection: AriConnection;
  /**
   * For /ready: connected to ARI and not draining. `overload` lists the limits a new call
   * would meet now: it does not make the process unready, as refusing is decided per call
   * and the http role must go on serving media to the calls in progress.
   */
  status(): {
    readonly ready: boolean;
    readonly ari: ConnectionState;
    readonly draining: boolean;
    readonly calls: number;
    readonly overload: readonly OverloadReason[];
  };
  /** Drains (see StasisApp.drain), then closes the ARI connection and the queue. */
  stop(): Promise<void>;
}

export function startStasisRole(options: StasisRoleOptions, log: Logger): StasisRole {
  const queue = new CallbackQueue({ connection: options.redis, prefix: options.queuePrefix }, log);
  const { ari, metrics } = options;
  const fetchers = queueFetchers(queue, options.apps, { secrets: options.secrets, maxBytes: options.maxBytes });
  const connection = new AriConnection(
    {
      url: ari.url,
      username: ari.username,
      password: ari.password,
      app: ari.app,
      requestTimeoutMs: ari.requestTimeoutMs,
      maxSockets: ari.maxConnections,
      ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
      ...(metrics === undefined ? {} : { metrics }),
    },
    log,
  );
  if (options.admission !== undefined) {
    const { maxCalls, maxCallsPerSecond, lagMs, ariRequests } = options.admission;
    // 0: that limit is off.
    log.info({ maxCalls, maxCallsPerSecond, overloadLagMs: lagMs, overloadAriRequests: ariRequests }, 'admission control: new calls beyond these are refused with cause 42');
  }
  const admission =
    options.admission === undefined
      ? undefined
      : new Admission({
          settings: options.admission,
          log,
          ariRequestsInFlight: () => connection.requestsInFlight,
          ...(metrics === undefined ? {} : { metrics }),
          ...(options.admissionClock === undefined ? {} : { clock: options.admissionClock }),
        });
  const app = new StasisApp({
    app: ari.app,
    rest: connection.rest,
    directory: new AppDirectory(options.apps),
    fetcherFor: metrics === undefined ? fetchers : (app) => meteredFetcher(fetchers(app), metrics),
    speech: options.speech,
    audio: options.audio,
    log,
    maxDocuments: options.maxDocumentsPerCall,
    ...(options.dialEndpoints === undefined ? {} : { dialEndpoints: options.dialEndpoints }),
    ...(metrics === undefined ? {} : { metrics }),
    ...(options.trails === undefined ? {} : { trails: options.trails }),
    ...(options.events === undefined ? {} : { events: options.events }),
    ...(options.states === undefined ? {} : { states: options.states }),
    maxDocumentBytes: options.maxBytes,
    ...(options.sweepIntervalMs === undefined ? {} : { sweepIntervalMs: options.sweepIntervalMs }),
    // Signed like the app's callbacks: with its secret, named by its UUID.
    signingKeyFor: (app) => (options.secrets.get(app.uuid) === undefined ? undefined : app.uuid),
    ...(admission === undefined ? {} : { admission }),
  });
  connection.start(app);
  let stopping: Promise<void> | undefined;
  return {
    app,
    connection,
    status() {
      const draining = app.isDraining;
      const state = connection.state;
      const overload = admission?.status(app.liveCalls).overload ?? [];
      return { ready: state === 'connected' && !draining, ari: state, draining, calls: app.liveCalls, overload };
    },
    stop() {
      stopping ??= (async () => {
        await app.drain(options.shutdownGraceMs);
        admission?.close();
        await connection.stop();
        await queue.close();
      })();
      return stopping;
    },
  };
}
