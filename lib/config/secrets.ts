import type { SecretStore } from '../callback/types.js';
import type { CallControlApp } from './apps.js';
import { ConfigError } from './errors.js';

/**
 * One store for every signing secret, keyed by app UUID: the apps file's `secret` fields
 * and SIGNING_SECRETS. Both naming the same app with different secrets is an error.
 */
export function secretStore(fromEnv: ReadonlyMap<string, string>, apps: readonly CallControlApp[]): SecretStore {
  const secrets = new Map(fromEnv);
  for (const app of apps) {
    if (app.secret === undefined) continue;
    const other = secrets.get(app.uuid);
    if (other !== undefined && other !== app.secret) {
      throw new ConfigError('SIGNING_SECRETS', `gives app ${app.uuid} (${app.name}) a secret other than its secret in APPS_FILE`);
    }
    secrets.set(app.uuid, app.secret);
  }
  return { get: (keyId) => secrets.get(keyId) };
}
