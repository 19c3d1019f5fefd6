import type { Logger } from '../../lib/flow/index.js';

/** Records what was logged, so tests can assert on warnings without printing them. */
export class RecordingLogger implements Logger {
  /** A child's entries go to its parent's list, its fields merged into each. */
  constructor(
    readonly entries: { level: string; obj: object; msg?: string }[] = [],
    private readonly fields: object = {},
  ) {}
  debug(obj: object, msg?: string): void {
    this.entries.push({ level: 'debug', obj: { ...this.fields, ...obj }, ...(msg === undefined ? {} : { msg }) });
  }
  info(obj: object, msg?: string): void {
    this.entries.push({ level: 'info', obj: { ...this.fields, ...obj }, ...(msg === undefined ? {} : { msg }) });
  }
  warn(obj: object, msg?: string): void {
    this.entries.push({ level: 'warn', obj: { ...this.fields, ...obj }, ...(msg === undefined ? {} : { msg }) });
  }
  error(obj: object, msg?: string): void {
    this.entries.push({ level: 'error', obj: { ...this.fields, ...obj }, ...(msg === undefined ? {} : { msg }) });
  }
  child(fields: object): RecordingLogger {
    return new RecordingLogger(this.entries, { ...this.fields, ...fields });
  }
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silentLogger };
