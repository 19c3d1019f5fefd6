import net from 'node:net';
import { z } from 'zod';
import { ConfigError } from './errors.js';

const wholeNumber = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

const int = (min: number, max: number, fallback: number) => wholeNumber(min, max).default(fallback);

const redisUrl = z
  .string()
  .trim()
  .regex(/^rediss?:\/\/.+/, 'must be a redis:// or rediss:// URL');

const schema = z.object({
  REDIS_URL: redisUrl.optional(),
  REDIS_PASSWORD: z.string().optional(),
  REDIS_TLS_CA_FILE: z.string().trim().optional(),
  REDIS_SENTINELS: z
    .string()
    .trim()
    .regex(/^\s*[^\s,:]+:\d{1,5}\s*(,\s*[^\s,:]+:\d{1,5}\s*)*$/, 'must be host:port pairs separated by commas')
    .optional(),
  REDIS_SENTINEL_NAME: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_.-]+$/, 'may hold letters, digits and _ . - only')
    .optional(),
  REDIS_SENTINEL_PASSWORD: z.string().optional(),
  QUEUE_PREFIX: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_{}.-]+$/, 'may hold letters, digits and _ { } . - only')
    .default('opentact'),
  WORKER_CONCURRENCY: int(1, 1000, 50),
  CALLBACK_TIMEOUT_MS: int(100, 120_000, 5000),
  MAX_DOCUMENT_BYTES: int(1024, 16 * 1024 * 1024, 256 * 1024),
  MAX_DOCUMENTS_PER_CALL: int(1, 10_000, 100),
  OUTBOUND_ALLOW: z.string().default(''),
  SIGNING_SECRETS: z.string().default(''),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ARI_URL: z
    .string()
    .trim()
    .regex(/^https?:\/\/[^/\s]+(\/(ari\/?)?)?$/, 'must be http(s)://host[:port] (ARI is under /ari on it)')
    .optional(),
  ARI_USERNAME: z.string().optional(),
  ARI_PASSWORD: z.string().optional(),
  ARI_APP: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_.-]+$/, 'may hold letters, digits and _ . - only')
    .default('opentact'),
  ARI_REQUEST_TIMEOUT_MS: int(100, 120_000, 5000),
  ARI_MAX_CONNECTIONS: int(1, 10_000, 50),
  APPS_FILE: z.string().trim().optional(),
  DIAL_NUMBER_ENDPOINT: z.string().trim().default('PJSIP/{number}@trunk'),
  DIAL_SIP_ENDPOINT: z.string().trim().default('PJSIP/trunk/{uri}'),
  HTTP_HOST: z
    .string()
    .trim()
    .refine(
      (host) => net.isIP(host) !== 0 || /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(host),
      'must be an IP address (0.0.0.0, 127.0.0.1, ::) or a host name, without brackets or port',
    )
    .default('0.0.0.0'),
  HTTP_PORT: int(0, 65_535, 8080),
  ADMIN_USERNAME: z.string().optional(),
  ADMIN_PASSWORD: z.string().optional(),
  SHUTDOWN_GRACE_MS: int(0, 3_600_000, 30_000),
  /** Calls in progress at most; a new call beyond is refused (cause 42). 0: no limit. */
  MAX_CALLS: int(0, 1_000_000, 0),
  /** New calls taken per second at most (bursts of as many); beyond, refused (cause 42). 0: no limit. */
  MAX_CALLS_PER_SECOND: int(0, 100_000, 0),
  /** Moving event-loop lag, in ms, from which new calls are refused until it falls below half. 0: not watched. */
  OVERLOAD_LAG_MS: int(0, 60_000, 300),
  /** ARI requests in flight from which new calls are refused until they fall below half. 0: not watched. Default: 10 × ARI_MAX_CONNECTIONS. */
  OVERLOAD_ARI_REQUESTS: wholeNumber(0, 1_000_000).optional(),
  /** Seconds a call's trail is kept in Redis; 0: no trail is written. */
  CALL_TRAIL_TTL: int(0, 90 * 86_400, 86_400),
  /** Seconds a live call's saved state outlives its last save; 0: calls are not saved (a restart ends them). */
  CALL_STATE_TTL: int(0, 7 * 86_400, 86_400),
  /** How long, in ms, a call event is retried while the app's events_url fails (then kept as a failed job). */
  EVENTS_RETRY_FOR_MS: int(0, 30 * 86_400_000, 3_600_000),
  TTS_ENGINE: z.enum(['espeak', 'google']).default('espeak'),
  TTS_RENDER_TIMEOUT_MS: int(100, 120_000, 5000),
  TTS_PRERENDER_CONCURRENCY: int(1, 64, 2),
  GOOGLE_TTS_API_KEY: z.string().trim().optional(),
  GOOGLE_TTS_ACCESS_TOKEN: z.string().trim().optional(),
  GOOGLE_TTS_ENDPOINT: z
    .string()
    .trim()
    .regex(/^https?:\/\/[^\s]+$/, 'must be an http(s) URL')
    .default('https://texttospeech.googleapis.com'),
  GOOGLE_TTS_TIMEOUT_MS: int(100, 120_000, 10_000),
  MEDIA_CACHE_DIR: z.string().trim().optional(),
  MEDIA_CACHE_MAX_BYTES: int(1024 * 1024, Number.MAX_SAFE_INTEGER, 1024 * 1024 * 1024),
  MEDIA_DIR: z.string().trim().regex(/^\//, 'must be an absolute path').optional(),
  PUBLIC_BASE_URL: z
    .string()
    .trim()
    .regex(/^https?:\/\/[^\s?#]+$/, 'must be an http(s) URL without query or fragment')
    .optional(),
  MEDIA_FETCH_MAX_BYTES: int(1024, 1024 * 1024 * 1024, 20 * 1024 * 1024),
  MEDIA_FETCH_TIMEOUT_MS: int(100, 600_000, 15_000),
  MEDIA_TRANSCODE_TIMEOUT_MS: int(100, 600_000, 30_000),
  MEDIA_REVALIDATE_MS: int(0, 86_400_000, 60_000),
});

export type EnvSettings = z.infer<typeof schema>;

/** Reads the settings from the environment; throws ConfigError naming the first bad one. */
export function readEnv(env: NodeJS.ProcessEnv = process.env): EnvSettings {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(present);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const setting = String(issue?.path[0] ?? 'environment');
  throw new ConfigError(setting, `${issue?.message ?? 'invalid'} (got "${String(env[setting] ?? '')}")`);
}

/**
 * `SIGNING_SECRETS`: `<app uuid>=<secret>` pairs separated by commas. The secrets stay
 * in this process: queue jobs carry only the app's UUID.
 */
export function parseSigningSecrets(value: string): ReadonlyMap<string, string> {
  const secrets = new Map<string, string>();
  for (const entry of value.split(',').map((e) => e.trim()).filter(Boolean)) {
    const at = entry.indexOf('=');
    const keyId = entry.slice(0, at).trim();
    const secret = entry.slice(at + 1).trim();
    if (at <= 0 || secret === '') {
      throw new ConfigError('SIGNING_SECRETS', `entry "${keyId || entry.slice(0, 8)}…" is not <app uuid>=<secret>`);
    }
    secrets.set(keyId, secret);
  }
  return secrets;
}
