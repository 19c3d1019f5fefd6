import { readFileSync } from 'node:fs';
import type { RedisConnection } from '../queue/redis.js';
import { AllowListError, UrlPolicy } from '../callback/url-policy.js';
import type { SecretStore } from '../callback/types.js';
import type { CallControlApp } from './apps.js';
import { loadAppsFile } from './apps-file.js';
import { checkEndpointTemplate, EndpointTemplateError, type DialEndpoints } from './dial-endpoints.js';
import { ConfigError } from './errors.js';
import { parseSigningSecrets, readEnv } from './env.js';
import { mediaSettings, speechSettings, type MediaSettings, type SpeechSettings } from './media.js';
import { secretStore } from './secrets.js';

export { ConfigError } from './errors.js';
export { AppsFileError } from './apps-errors.js';
export { normaliseNumber, type CallControlApp, type FirstDocumentSource } from './apps.js';
export { loadAppsFile, parseApps, type AppsFileOptions } from './apps-file.js';
export type { MediaSettings, SpeechSettings } from './media.js';
export { DEFAULT_DIAL_ENDPOINTS, renderEndpoint, checkEndpointTemplate, EndpointTemplateError, type DialEndpoints } from './dial-endpoints.js';

/** Where Asterisk's ARI is and how this engine registers on it. */
export interface AriSettings {
  /** `http(s)://host:port`; ARI is under `/ari`. */
  readonly url: string;
  readonly username: string;
  readonly password: string;
  /** The Stasis application name (ARI_APP). */
  readonly app: string;
  /** Budget of every ARI REST request, in ms. */
  readonly requestTimeoutMs: number;
  /** HTTP connections to Asterisk at once; keep it under `sessionlimit` in http.conf. */
  readonly maxConnections: number;
}

/** Admission control of the stasis role: when a new call is refused (cause 42) rather than taken. 0 turns a limit off. */
export interface AdmissionSettings {
  /** MAX_CALLS: calls in progress at most. */
  readonly maxCalls: number;
  /** MAX_CALLS_PER_SECOND: new calls taken per second at most, in bursts of as many. */
  readonly maxCallsPerSecond: number;
  /** OVERLOAD_LAG_MS: the moving event-loop lag, in ms, from which new calls are refused. */
  readonly lagMs: number;
  /** OVERLOAD_ARI_REQUESTS: ARI requests in flight (sent or waiting for a connection) from which new calls are refused. */
  readonly ariRequests: number;
}

/** Limits off: every call is taken (what a StasisApp without admission does). */
export const NO_ADMISSION_LIMITS: AdmissionSettings = { maxCalls: 0, maxCallsPerSecond: 0, lagMs: 0, ariRequests: 0 };

/** Everything the roles and commands need from the environment, validated. */
export interface Config {
  /**
   * Where Redis is (REDIS_URL, REDIS_PASSWORD, REDIS_TLS_CA_FILE, REDIS_SENTINELS,
   * REDIS_SENTINEL_NAME, REDIS_SENTINEL_PASSWORD). Absent: fetches run in-process
   * (simulator only).
   */
  readonly redis?: RedisConnection;
  readonly queue: { readonly prefix: string; readonly concurrency: number };
  readonly callback: {
    /** Budget for fetches that have no `timeout` of their own (a URL given to `simulate`). */
    readonly timeoutMs: number;
    readonly maxBytes: number;
  };
  readonly maxDocumentsPerCall: number;
  readonly policy: UrlPolicy;
  readonly secrets: SecretStore;
  readonly logLevel: string;
  /** Absent when ARI_URL is not set (the stasis role requires it). */
  readonly ari?: AriSettings;
  /** The Call Control Apps of APPS_FILE; empty when it is not set. */
  readonly apps: readonly CallControlApp[];
  readonly appsFile?: string;
  /** The http role's address (HTTP_HOST, default 0.0.0.0: every interface) and port. */
  readonly http: { readonly host: string; readonly port: number };
  /** ADMIN_USERNAME / ADMIN_PASSWORD: the operator's routes (recordings) exist only with both. */
  readonly admin?: { readonly username: string; readonly password: string };
  /** How long a drain lets calls in progress go on before hanging them up, in ms. */
  readonly shutdownGraceMs: number;
  /** MAX_CALLS, MAX_CALLS_PER_SECOND, OVERLOAD_LAG_MS, OVERLOAD_ARI_REQUESTS. */
  readonly admission: AdmissionSettings;
  /** CALL_TRAIL_TTL: how long, in seconds, each call's trail is kept in Redis (0: not written). */
  readonly trail: { readonly ttlSeconds: number };
  /** CALL_STATE_TTL: how long, in seconds, a live call's saved state is kept after its last save (0: none is saved). */
  readonly callState: { readonly ttlSeconds: number };
  /** EVENTS_RETRY_FOR_MS: how long a call event is retried while the app's events_url fails. */
  readonly events: { readonly retryForMs: number };
  readonly speech: SpeechSettings;
  readonly media: MediaSettings;
  /** `<Dial>` endpoint templates (DIAL_NUMBER_ENDPOINT, DIAL_SIP_ENDPOINT); an app may override them. */
  readonly dial: DialEndpoints;
  /**
   * Every secret value the configuration holds (ARI, admin, signing, Google, Redis), so
   * that the logger can make sure none of them is ever written.
   */
  readonly secretValues?: readonly string[];
}

/** @throws ConfigError naming the setting that cannot be used. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const settings = readEnv(env);
  let policy: UrlPolicy;
  try {
    policy = new UrlPolicy(settings.OUTBOUND_ALLOW);
  } catch (error) {
    if (error instanceof AllowListError) throw new ConfigError('OUTBOUND_ALLOW', error.message);
    throw error;
  }
  const dial = dialEndpoints(settings);
  const maxBytes = settings.MAX_DOCUMENT_BYTES;
  const apps = settings.APPS_FILE === undefined ? [] : loadAppsFile(settings.APPS_FILE, { maxBytes, env });
  const secrets = secretStore(parseSigningSecrets(settings.SIGNING_SECRETS), apps);
  const ari = ariSettings(settings);
  return {
    ...redisSettings(settings),
    queue: { prefix: settings.QUEUE_PREFIX, concurrency: settings.WORKER_CONCURRENCY },
    callback: { timeoutMs: settings.CALLBACK_TIMEOUT_MS, maxBytes },
    maxDocumentsPerCall: settings.MAX_DOCUMENTS_PER_CALL,
    policy,
    secrets,
    logLevel: settings.LOG_LEVEL,
    ...(ari === undefined ? {} : { ari }),
    apps,
    ...(settings.APPS_FILE === undefined ? {} : { appsFile: settings.APPS_FILE }),
    http: { host: settings.HTTP_HOST, port: settings.HTTP_PORT },
    ...adminSettings(settings),
    shutdownGraceMs: settings.SHUTDOWN_GRACE_MS,
    admission: admissionSettings(settings),
    trail: { ttlSeconds: settings.CALL_TRAIL_TTL },
    callState: { ttlSeconds: settings.CALL_STATE_TTL },
    events: { retryForMs: settings.EVENTS_RETRY_FOR_MS },
    speech: speechSettings(settings),
    media: mediaSettings(settings),
    dial,
    secretValues: secretValues(settings, apps),
  };
}

/** The values of every secret setting: what the logger must never write. */
function secretValues(settings: ReturnType<typeof readEnv>, apps: readonly CallControlApp[]): string[] {
  const values = [
    settings.ARI_PASSWORD,
    settings.ADMIN_PASSWORD,
    settings.GOOGLE_TTS_API_KEY,
    settings.GOOGLE_TTS_ACCESS_TOKEN,
    settings.REDIS_PASSWORD,
    settings.REDIS_SENTINEL_PASSWORD,
    ...parseSigningSecrets(settings.SIGNING_SECRETS).values(),
    ...apps.map((app) => app.secret),
  ];
  if (settings.REDIS_URL !== undefined) {
    try {
      values.push(decodeURIComponent(new URL(settings.REDIS_URL).password));
    } catch {
      // Not a URL the logger could leak a password of.
    }
  }
  return values.filter((value): value is string => value !== undefined && value !== '');
}

/**
 * Redis as the operator gives it: a URL (`redis://` or `rediss://`, with or without a
 * password), REDIS_PASSWORD beside it, a CA to trust for TLS, or Sentinel. With
 * REDIS_SENTINELS, REDIS_URL is optional: its host and port are ignored, its password,
 * database and scheme (rediss: TLS) apply to the master.
 */
function redisSettings(settings: ReturnType<typeof readEnv>): { redis?: RedisConnection } {
  const { REDIS_URL: url, REDIS_SENTINELS: sentinelList, REDIS_SENTINEL_NAME: sentinelName } = settings;
  if (url === undefined && sentinelList === undefined) {
    if (sentinelName !== undefined) throw new ConfigError('REDIS_SENTINELS', 'is required when REDIS_SENTINEL_NAME is set');
    return {};
  }
  let tlsCa: string | undefined;
  if (settings.REDIS_TLS_CA_FILE !== undefined) {
    try {
      tlsCa = readFileSync(settings.REDIS_TLS_CA_FILE, 'utf8');
    } catch (error) {
      throw new ConfigError('REDIS_TLS_CA_FILE', `cannot be read (${error instanceof Error ? error.message : String(error)})`);
    }
    if (!tlsCa.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError('REDIS_TLS_CA_FILE', 'holds no PEM certificate');
  }
  let sentinels: { host: string; port: number }[] | undefined;
  if (sentinelList !== undefined) {
    if (sentinelName === undefined) throw new ConfigError('REDIS_SENTINEL_NAME', 'is required when REDIS_SENTINELS is set (the name of the master the sentinels watch)');
    sentinels = sentinelList.split(',').map((entry) => {
      const at = entry.trim().lastIndexOf(':');
      return { host: entry.trim().slice(0, at), port: Number(entry.trim().slice(at + 1)) };
    });
  } else if (sentinelName !== undefined) {
    throw new ConfigError('REDIS_SENTINELS', 'is required when REDIS_SENTINEL_NAME is set');
  }
  return {
    redis: {
      ...(url === undefined ? {} : { url }),
      ...(settings.REDIS_PASSWORD === undefined ? {} : { password: settings.REDIS_PASSWORD }),
      ...(tlsCa === undefined ? {} : { tlsCa }),
      ...(sentinels === undefined || sentinelName === undefined ? {} : { sentinels, sentinelName }),
      ...(settings.REDIS_SENTINEL_PASSWORD === undefined ? {} : { sentinelPassword: settings.REDIS_SENTINEL_PASSWORD }),
    },
  };
}

function dialEndpoints(settings: ReturnType<typeof readEnv>): DialEndpoints {
  const check = (setting: string, kind: keyof DialEndpoints, template: string): string => {
    try {
      return checkEndpointTemplate(kind, template);
    } catch (error) {
      if (error instanceof EndpointTemplateError) throw new ConfigError(setting, error.problem);
      throw error;
    }
  };
  return {
    number: check('DIAL_NUMBER_ENDPOINT', 'number', settings.DIAL_NUMBER_ENDPOINT),
    sip: check('DIAL_SIP_ENDPOINT', 'sip', settings.DIAL_SIP_ENDPOINT),
  };
}

/** Both or neither: one without the other is a mistake, not a way to turn the routes off. */
function adminSettings(settings: ReturnType<typeof readEnv>): { admin?: { username: string; password: string } } {
  const { ADMIN_USERNAME: username, ADMIN_PASSWORD: password } = settings;
  if (username === undefined && password === undefined) return {};
  if (username === undefined) throw new ConfigError('ADMIN_USERNAME', 'is required when ADMIN_PASSWORD is set');
  if (password === undefined) throw new ConfigError('ADMIN_PASSWORD', 'is required when ADMIN_USERNAME is set');
  return { admin: { username, password } };
}

/** Requests in flight per ARI connection from which new calls are refused, unless OVERLOAD_ARI_REQUESTS says otherwise. */
export const DEFAULT_ARI_REQUESTS_PER_CONNECTION = 10;

function admissionSettings(settings: ReturnType<typeof readEnv>): AdmissionSettings {
  const connections = settings.ARI_MAX_CONNECTIONS;
  const ariRequests = settings.OVERLOAD_ARI_REQUESTS ?? DEFAULT_ARI_REQUESTS_PER_CONNECTION * connections;
  // Up to ARI_MAX_CONNECTIONS requests are sent at once; only those beyond wait, and tell of saturation.
  if (ariRequests > 0 && ariRequests <= connections) {
    throw new ConfigError('OVERLOAD_ARI_REQUESTS', `must be more than ARI_MAX_CONNECTIONS (${connections}), or 0 to not watch ARI requests (got "${ariRequests}")`);
  }
  return { maxCalls: settings.MAX_CALLS, maxCallsPerSecond: settings.MAX_CALLS_PER_SECOND, lagMs: settings.OVERLOAD_LAG_MS, ariRequests };
}

function ariSettings(settings: ReturnType<typeof readEnv>): AriSettings | undefined {
  if (settings.ARI_URL === undefined) return undefined;
  if (settings.ARI_USERNAME === undefined) throw new ConfigError('ARI_USERNAME', 'is required when ARI_URL is set');
  if (settings.ARI_PASSWORD === undefined) throw new ConfigError('ARI_PASSWORD', 'is required when ARI_URL is set');
  return {
    url: settings.ARI_URL.replace(/\/(ari\/?)?$/, ''),
    username: settings.ARI_USERNAME,
    password: settings.ARI_PASSWORD,
    app: settings.ARI_APP,
    requestTimeoutMs: settings.ARI_REQUEST_TIMEOUT_MS,
    maxConnections: settings.ARI_MAX_CONNECTIONS,
  };
}
