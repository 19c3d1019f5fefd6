import type { Logger } from '../../lib/flow/index.js';

/** Records what was logged, so tests can assert on warnings without printing them. */
export class RecordingLogger implements Logger {
  readonly entries: { level: string; obj: object; msg?: string }[] = [];
  debug(obj: object, msg?: string): void {
    this.entries.push({ level: 'debug', obj, ...(msg === undefined ? {} : { msg }) });
  }
  info(obj: object, msg?: string): void {
    this.entries.push({ level: 'info', obj, ...(msg === undefined ? {} : { msg }) });
  }
  warn(obj: object, msg?: string): void {
    this.entries.push({ level: 'warn', obj, ...(msg === undefined ? {} : { msg }) });
  }
  error(obj: object, msg?: string): void {
    this.entries.push({ level: 'error', obj, ...(msg === undefined ? {} : { msg }) });
  }
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
