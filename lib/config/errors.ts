/** A setting that cannot be used; the message names it. Start-up stops on this. */
export class ConfigError extends Error {
  readonly code: string = 'config_invalid';
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(`${setting}: ${message}`);
    this.name = 'ConfigError';
  }
}
