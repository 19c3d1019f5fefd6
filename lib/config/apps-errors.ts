import { ConfigError } from './errors.js';

/**
 * A problem in the apps file. `field` names the app and the field, e.g.
 * `apps[1] (Sales).webhook_url`; the message reads `APPS_FILE: <file>: <field>: <problem>`.
 */
export class AppsFileError extends ConfigError {
  override readonly code = 'apps_file_invalid';
  constructor(
    readonly file: string,
    readonly field: string,
    readonly problem: string,
  ) {
    super('APPS_FILE', `${file}: ${field ? `${field}: ` : ''}${problem}`);
    this.name = 'AppsFileError';
  }
}
