// <Play> sources as something Asterisk can play. A remote file is fetched once,
// converted to 8 kHz mono 16-bit WAV and kept in the media store; later plays of the same
// URL reuse it, revalidating with the server's validators at most once per interval.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PolicyRefusal, type UrlPolicy } from '../callback/url-policy.js';
import { VerbFailure } from '../flow/failure.js';
import type { Metrics, RemoteAudioOutcome } from '../metrics/metrics.js';
import type { AudioSource, Logger, MediaRef } from '../flow/ports.js';
import { detectAudioType, sniffFile } from './audio-type.js';
import { download, type DownloadResult, type Validators } from './download.js';
import type { MediaLocator } from './locator.js';
import { MediaStore, MediaStoreError, type StoredMedia } from './store.js';
import { TranscodeError, transcodeToTelephony } from './transcode.js';
import { waitUnlessAborted } from './abortable.js';

/** Finds a stored recording by its `<Record tag>`. */
export interface RecordingLookup {
  find(tag: string): Promise<MediaRef | undefined>;
}

/** Until recordings exist: every tag is unknown. */
export const NO_RECORDINGS: RecordingLookup = { find: async () => undefined };

export interface RemoteAudioOptions {
  readonly store: MediaStore;
  readonly locator: MediaLocator;
  readonly policy: UrlPolicy;
  readonly recordings: RecordingLookup;
  readonly log: Logger;
  /** Largest remote file accepted, in bytes (refused while streaming). */
  readonly maxBytes: number;
  /** Limit for one fetch, redirects and body included. */
  readonly fetchTimeoutMs: number;
  /** Limit for one conversion. */
  readonly transcodeTimeoutMs: number;
  /**
   * A URL fetched or revalidated less than this long ago is played from the store with no
   * request at all. See `DEFAULTS`.
   */
  readonly revalidateAfterMs: number;
  /** URLs whose validators are remembered (least recently used forgotten first). */
  readonly maxUrls?: number;
  /** Where downloads wait for conversion (default: the OS temporary directory). */
  readonly tmpDir?: string;
  readonly sox?: string;
  readonly now?: () => number;
  /** Counts fetches and revalidations by outcome. */
  readonly metrics?: Metrics;
}

export const REMOTE_AUDIO_DEFAULTS = {
  maxBytes: 20 * 1024 * 1024,
  fetchTimeoutMs: 15_000,
  transcodeTimeoutMs: 30_000,
  // A prompt is typically played on every call of an app. Asking the server each time
  // would put a round trip before every playback and send the customer's server one
  // request per call; once a minute bounds both, and a changed file is heard within a
  // minute. (A 304 costs a round trip but no download or conversion.)
  revalidateAfterMs: 60_000,
  maxUrls: 1000,
} as const;

interface Known {
  readonly id: string;
  readonly validators: Validators;
  checkedAt: number;
}

// Bump when the conversion changes: stored files made the old way are then not reused.
const PROFILE = 'remote-audio:8k-mono-s16:v1';

const TRANSIENT = new Set(['timeout', 'connect', 'dns', 'tls']);

export class RemoteAudio implements AudioSource {
  readonly #options: RemoteAudioOptions;
  readonly #now: () => number;
  // Insertion order is recency: the first entry is the least recently used.
  readonly #known = new Map<string, Known>();
  readonly #flights = new Map<string, Promise<StoredMedia>>();

  constructor(options: RemoteAudioOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  async fromUrl(url: string, signal: AbortSignal): Promise<MediaRef> {
    if (signal.aborted) throw cancelled();
    let href: string;
    try {
      href = this.#options.policy.checkUrl(url).href;
    } catch (error) {
      if (error instanceof PolicyRefusal) throw new VerbFailure('policy', error.reason);
      throw error;
    }
    const media = this.#fresh(href) ?? (await waitUnlessAborted(this.#flight(href), signal, cancelled));
    return this.#options.locator(media);
  }

  async fromRecording(tag: string, signal: AbortSignal): Promise<MediaRef> {
    if (signal.aborted) throw cancelled();
    const found = await waitUnlessAborted(this.#options.recordings.find(tag), signal, cancelled);
    if (!found) throw new VerbFailure('media', `no recording named "${tag}"`);
    return found;
  }

  /** The stored file of a URL checked recently enough to play without asking. */
  #fresh(href: string): StoredMedia | undefined {
    const known = this.#known.get(href);
    if (!known || this.#now() - known.checkedAt >= this.#options.revalidateAfterMs) return undefined;
    const media = this.#options.store.get(known.id);
    if (media) this.#remember(href, known);
    return media;
  }

  // One fetch or revalidation per URL at a time, shared by every call that wants it. It
  // is not aborted when callers leave (bounded by its time limits): its result is kept,
  // and the next call playing the same prompt gets it at once.
  #flight(href: string): Promise<StoredMedia> {
    let flight = this.#flights.get(href);
    if (!flight) {
      flight = this.#resolve(href)
        .catch((error: unknown) => {
          if (error instanceof VerbFailure) throw error;
          this.#options.log.error({ err: error, url: href }, 'remote audio failed unexpectedly');
          throw new VerbFailure('media', 'the audio could not be fetched', { cause: error });
        })
        .finally(() => this.#flights.delete(href));
      flight.catch(() => undefined);
      this.#flights.set(href, flight);
    }
    return flight;
  }

  async #resolve(href: string): Promise<StoredMedia> {
    const count = (outcome: RemoteAudioOutcome, code?: string): void => {
      this.#options.metrics?.remoteAudioFetches.inc(code === undefined ? { outcome } : { outcome, code });
    };
    try {
      const { media, outcome } = await this.#fetch(href);
      count(outcome);
      return media;
    } catch (error) {
      count('error', error instanceof VerbFailure ? error.code : 'internal');
      throw error;
    }
  }

  async #fetch(href: string): Promise<{ readonly media: StoredMedia; readonly outcome: RemoteAudioOutcome }> {
    const known = this.#known.get(href);
    const held = known && this.#options.store.get(known.id);
    const path = join(this.#options.tmpDir ?? tmpdir(), `opentact-audio-${randomBytes(8).toString('hex')}`);
    const started = this.#now();
    try {
      const result = await download(href, {
        policy: this.#options.policy,
        maxBytes: this.#options.maxBytes,
        timeoutMs: this.#options.fetchTimeoutMs,
        path,
        ...(held && known ? { conditional: known.validators } : {}),
      });
      if (result.kind === 'not-modified' && held && known) {
        known.checkedAt = this.#now();
        this.#remember(href, known);
        this.#options.log.debug({ url: href, id: held.id }, 'remote audio not modified');
        return { media: held, outcome: 'not_modified' };
      }
      if (result.kind === 'failure') {
        if (!held || !known || !isTransient(result)) throw VerbFailure.fromFetch(result.failure);
        // The server is unreachable for now, but what it served before is still good.
        known.checkedAt = this.#now();
        this.#options.log.warn({ url: href, code: result.failure.code, reason: result.failure.reason }, 'remote audio revalidation failed; playing the stored copy');
        return { media: held, outcome: 'stale' };
      }
      if (result.kind !== 'body') throw new VerbFailure('http_status', 'the server answered 304 to a plain request', { status: 304 });
      const media = await this.#store(path, result.sha256, result.contentType);
      this.#remember(href, { id: media.id, validators: result.validators, checkedAt: this.#now() });
      this.#options.log.info({ url: href, bytes: result.bytes, id: media.id, ms: this.#now() - started }, 'remote audio fetched');
      return { media, outcome: 'fetched' };
    } finally {
      await rm(path, { force: true });
    }
  }

  // Keyed by the content, not the URL: a changed file gets a new id (Asterisk's cache
  // keys on the URL it is given), and the same file at two URLs, or served again with
  // new validators, is converted once.
  async #store(path: string, sha256: string, contentType: string | undefined): Promise<StoredMedia> {
    const type = detectAudioType(await sniffFile(path), contentType);
    if (!type) {
      const served = contentType ? ` (served as ${contentType})` : '';
      this.#options.log.warn({ contentType }, `remote audio is neither wav nor mp3${served}`);
      throw new VerbFailure('media', 'the audio is not a wav or mp3 file');
    }
    const transcode = (tmpPath: string, signal: AbortSignal): Promise<void> =>
      transcodeToTelephony(path, tmpPath, {
        ...(contentType === undefined ? {} : { contentType }),
        timeoutMs: this.#options.transcodeTimeoutMs,
        signal,
        ...(this.#options.sox === undefined ? {} : { sox: this.#options.sox }),
      }).then(() => undefined);
    try {
      // The store's own limit is a little longer, so sox's time-out is the one reported.
      return await this.#options.store.obtain(`${PROFILE}:${type}:${sha256}`, transcode, {
        timeoutMs: this.#options.transcodeTimeoutMs + 1000,
      });
    } catch (error) {
      if (error instanceof TranscodeError) {
        this.#options.log.warn({ err: error, code: error.code }, 'remote audio could not be converted');
        throw new VerbFailure('media', error.reason, { cause: error });
      }
      if (error instanceof MediaStoreError) throw new VerbFailure('media', 'the audio could not be converted in time', { cause: error });
      this.#options.log.error({ err: error }, 'remote audio could not be stored');
      throw new VerbFailure('media', 'the audio could not be stored', { cause: error });
    }
  }

  #remember(href: string, known: Known): void {
    this.#known.delete(href);
    this.#known.set(href, known);
    const max = this.#options.maxUrls ?? REMOTE_AUDIO_DEFAULTS.maxUrls;
    for (const oldest of this.#known.keys()) {
      if (this.#known.size <= max) break;
      this.#known.delete(oldest);
    }
  }
}

function isTransient(result: DownloadResult & { kind: 'failure' }): boolean {
  const { code, status } = result.failure;
  return TRANSIENT.has(code) || (code === 'http_status' && status !== undefined && status >= 500);
}

function cancelled(): VerbFailure {
  return new VerbFailure('cancelled', 'the audio fetch was cancelled');
}
