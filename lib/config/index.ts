import { AllowListError, UrlPolicy } from '../callback/url-policy.js';
import type { SecretStore } from '../callback/types.js';
import { ConfigError } from './errors.js';
import { parseSigningSecrets, readEnv } from './env.js';

export { ConfigError } from './errors.js';

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
  const secrets = parseSigningSecrets(settings.SIGNING_SECRETS);
  return {
    ...(settings.REDIS_URL === undefined ? {} : { redisUrl: settings.REDIS_URL }),
    queue: { prefix: settings.QUEUE_PREFIX, concurrency: settings.WORKER_CONCURRENCY },
    callback: { timeoutMs: settings.CALLBACK_TIMEOUT_MS, maxBytes: settings.MAX_DOCUMENT_BYTES },
    maxDocumentsPerCall: settings.MAX_DOCUMENTS_PER_CALL,
    policy,
    secrets: { get: (keyId) => secrets.get(keyId) },
    logLevel: settings.LOG_LEVEL,
  };
}
