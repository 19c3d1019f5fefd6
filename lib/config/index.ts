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

/** Everything the roles and commands need from the environment, validated. */
export interface Config {
  /** Absent: fetches run in-process (simulator only). */
  readonly redisUrl?: string;
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
  readonly speech: SpeechSettings;
  readonly media: MediaSettings;
  /** `<Dial>` endpoint templates (DIAL_NUMBER_ENDPOINT, DIAL_SIP_ENDPOINT); an app may override them. */
  readonly dial: DialEndpoints;
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
    ...(settings.REDIS_URL === undefined ? {} : { redisUrl: settings.REDIS_URL }),
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
    speech: speechSettings(settings),
    media: mediaSettings(settings),
    dial,
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
