import { pino, type Logger as PinoLogger } from 'pino';

export type AppLogger = PinoLogger;

/** JSON logs on stderr, so that stdout stays free for command output. */
export function createLogger(level: string, name = 'opentact-ari'): AppLogger {
  return pino({ name, level, base: { pid: process.pid } }, pino.destination(2));
}
