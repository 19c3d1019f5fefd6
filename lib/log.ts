import { pino, type Logger as PinoLogger } from 'pino';

export type AppLogger = PinoLogger;

/** What a redacted value is replaced with. */
export const REDACTED = '[redacted]';

/**
 * Fields that hold secrets wherever they appear (top level, one or two levels down):
 * pino's redact replaces their values before the line is written.
 */
const SECRET_KEYS = [
  'password',
  'secret',
  'secrets',
  'signingSecret',
  'signingSecrets',
  'apiKey',
  'api_key',
  'accessToken',
  'access_token',
  'token',
  'authorization',
  'Authorization',
  'credentials',
  'privateKey',
  'private_key',
];
const REDACT_PATHS = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((key) => `*.${key}`),
  ...SECRET_KEYS.map((key) => `*.*.${key}`),
  'headers.authorization',
  'req.headers.authorization',
  'request.headers.authorization',
  'options.headers.authorization',
  'err.options.headers.authorization',
  'err.config.headers.Authorization',
];

/**
 * Query parameters whose value is a credential, by name (case-insensitive): `token`,
 * `key`, `api_key`, `apikey`, `secret`, `password`, `sig`, `signature`, and names that
 * end in one of them (`access_token`, `X-Amz-Signature`, `client_secret`…).
 */
const SECRET_PARAM = /((?:^|[?&;]|\\u0026)[A-Za-z0-9_.-]*(?:token|key|apikey|secret|password|passwd|pwd|sig|signature|auth|credential|credentials)=)([^&;#"\s\\]*)/gi;

/** `scheme://user:password@host`: the password of a URL's user information. */
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^/\s:@"]*:)([^/\s@"]+)(@)/gi;

/** `Authorization: Basic …` / `Bearer …` in a message or a stack. */
const AUTH_HEADER = /((?:authorization|proxy-authorization)["']?\s*[:=]\s*["']?(?:basic|bearer|digest)?\s*)([A-Za-z0-9+/=._~-]{6,})/gi;

/**
 * A URL (or any text holding URLs) without its credentials: the password of its user
 * information and the values of its key-like query parameters become `[redacted]`.
 * Used for every line the engine logs; call it too where a URL leaves the process
 * another way.
 */
export function scrubUrl(text: string): string {
  return text
    .replace(URL_PASSWORD, `$1${REDACTED}$3`)
    .replace(SECRET_PARAM, `$1${REDACTED}`)
    .replace(AUTH_HEADER, `$1${REDACTED}`);
}

/**
 * Known secret values (ARI_PASSWORD, SIGNING_SECRETS, ADMIN_PASSWORD, Google's key…),
 * replaced wherever they would appear in a line: the last guard, for a secret that
 * reaches a log in a place no path or URL rule foresaw (an error message, say). Values
 * shorter than 4 characters are not matched: they would garble ordinary text.
 */
export interface LoggerOptions {
  readonly name?: string;
  readonly secrets?: readonly string[];
}

const MIN_SECRET_LENGTH = 4;

function jsonEscaped(value: string): string {
  return JSON.stringify(value).slice(1, -1);
}

/** The function that scrubs one written line: URLs' credentials, then known secret values. */
export function lineScrubber(secrets: readonly string[] = []): (line: string) => string {
  const values = [...new Set(secrets.filter((s) => s.length >= MIN_SECRET_LENGTH).flatMap((s) => [s, jsonEscaped(s), encodeURIComponent(s)]))]
    // Longest first: a secret that contains another is replaced whole.
    .sort((a, b) => b.length - a.length);
  return (line) => {
    let out = scrubUrl(line);
    for (const value of values) if (out.includes(value)) out = out.split(value).join(REDACTED);
    return out;
  };
}

/**
 * JSON logs on stderr, one object per line, so that stdout stays free for command
 * output. Secrets never appear: fields named like secrets are redacted (pino's redact),
 * and every line is scrubbed of URL credentials and of the known secret values.
 */
export function createLogger(level: string, options: LoggerOptions | string = {}): AppLogger {
  const { name = 'opentact-ari', secrets = [] } = typeof options === 'string' ? { name: options } : options;
  const scrub = lineScrubber(secrets);
  return pino(
    {
      name,
      level,
      base: { pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      hooks: { streamWrite: scrub },
    },
    pino.destination(2),
  );
}
