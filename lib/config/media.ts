import os from 'node:os';
import path from 'node:path';
import { ConfigError } from './errors.js';
import type { EnvSettings } from './env.js';

export interface SpeechSettings {
  readonly engine: 'espeak' | 'google';
  readonly renderTimeoutMs: number;
  readonly prerenderConcurrency: number;
  readonly google: {
    readonly endpoint: string;
    readonly apiKey?: string;
    readonly accessToken?: string;
    readonly timeoutMs: number;
  };
}

export interface MediaSettings {
  /** Where rendered speech and converted audio are stored. */
  readonly dir: string;
  readonly maxBytes: number;
  /**
   * How Asterisk reaches a stored file: over HTTP from this engine's /media route, or
   * straight from a directory it shares with the engine (MEDIA_DIR).
   */
  readonly delivery: { readonly kind: 'http'; readonly publicBaseUrl?: string } | { readonly kind: 'directory' };
  readonly fetch: {
    readonly maxBytes: number;
    readonly timeoutMs: number;
    readonly transcodeTimeoutMs: number;
    readonly revalidateAfterMs: number;
  };
}

export function speechSettings(settings: EnvSettings): SpeechSettings {
  const { GOOGLE_TTS_API_KEY: apiKey, GOOGLE_TTS_ACCESS_TOKEN: accessToken } = settings;
  if (settings.TTS_ENGINE === 'google' && apiKey === undefined && accessToken === undefined) {
    throw new ConfigError('GOOGLE_TTS_API_KEY', 'or GOOGLE_TTS_ACCESS_TOKEN is required when TTS_ENGINE=google');
  }
  return {
    engine: settings.TTS_ENGINE,
    renderTimeoutMs: settings.TTS_RENDER_TIMEOUT_MS,
    prerenderConcurrency: settings.TTS_PRERENDER_CONCURRENCY,
    google: {
      endpoint: settings.GOOGLE_TTS_ENDPOINT,
      timeoutMs: settings.GOOGLE_TTS_TIMEOUT_MS,
      ...(apiKey === undefined ? {} : { apiKey }),
      ...(accessToken === undefined ? {} : { accessToken }),
    },
  };
}

export function mediaSettings(settings: EnvSettings): MediaSettings {
  const mediaDir = settings.MEDIA_DIR;
  const base = settings.PUBLIC_BASE_URL?.replace(/\/+$/, '');
  return {
    dir: mediaDir ?? settings.MEDIA_CACHE_DIR ?? path.join(os.tmpdir(), 'opentact-ari-media'),
    maxBytes: settings.MEDIA_CACHE_MAX_BYTES,
    delivery: mediaDir !== undefined ? { kind: 'directory' } : { kind: 'http', ...(base === undefined ? {} : { publicBaseUrl: base }) },
    fetch: {
      maxBytes: settings.MEDIA_FETCH_MAX_BYTES,
      timeoutMs: settings.MEDIA_FETCH_TIMEOUT_MS,
      transcodeTimeoutMs: settings.MEDIA_TRANSCODE_TIMEOUT_MS,
      revalidateAfterMs: settings.MEDIA_REVALIDATE_MS,
    },
  };
}
