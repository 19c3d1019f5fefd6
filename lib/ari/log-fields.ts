import type { Logger } from '../flow/ports.js';

/** A logger that adds `fields` to every entry (the Logger port has no child()). */
export function withFields(log: Logger, fields: object): Logger {
  return {
    debug: (obj, msg) => log.debug({ ...fields, ...obj }, msg),
    info: (obj, msg) => log.info({ ...fields, ...obj }, msg),
    warn: (obj, msg) => log.warn({ ...fields, ...obj }, msg),
    error: (obj, msg) => log.error({ ...fields, ...obj }, msg),
  };
}
