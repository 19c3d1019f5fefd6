// A content-addressed store of audio files on disk, shared by speech and remote audio.
// Files are `<sha256 of the key>.wav` in one directory; a file is produced once (single
// flight), written to a temporary name and renamed into place, so a reader never sees a
// partial file. Least-recently-used files are removed when the total passes `maxBytes`.
import { createHash, randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../flow/ports.js';
import { waitUnlessAborted } from './abortable.js';

export interface StoredMedia {
  /** 64 lowercase hex characters: the sha256 of the key. */
  readonly id: string;
  readonly path: string;
  readonly bytes: number;
}

export interface MediaStoreOptions {
  readonly dir: string;
  readonly maxBytes: number;
  readonly log: Logger;
  /**
   * Temporary files older than this are removed by `open` (default 5 minutes). Younger
   * ones may belong to another process writing into the same directory.
   */
  readonly staleTempMs?: number;
}

export interface ObtainOptions {
  /** The production is aborted (and its temporary file removed) after this long. */
  readonly timeoutMs: number;
  /** This caller stops waiting; the shared production goes on (see `obtain`). */
  readonly signal?: AbortSignal;
}

export type Producer = (tmpPath: string, signal: AbortSignal) => Promise<void>;

export type MediaStoreErrorCode = 'timeout' | 'aborted' | 'empty';

export class MediaStoreError extends Error {
  readonly code: MediaStoreErrorCode;
  constructor(code: MediaStoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MediaStoreError';
    this.code = code;
  }
}

const ID = /^[0-9a-f]{64}$/;
const STORED_FILE = /^([0-9a-f]{64})\.wav$/;
const TEMP_FILE = /^\.[0-9a-f]{64}\.[0-9a-f]+\.tmp$/;
const DEFAULT_STALE_TEMP_MS = 5 * 60_000;
// A file's mtime is its last use across restarts; refreshing it on every hit would cost
// a write per play, so it is refreshed at most this often.
const TOUCH_ON_DISK_MS = 60_000;

interface Entry {
  readonly media: StoredMedia;
  touchedOnDisk: number;
}

export class MediaStore {
  readonly #dir: string;
  readonly #maxBytes: number;
  readonly #log: Logger;
  // Map keeps insertion order: the first entry is the least recently used.
  readonly #entries = new Map<string, Entry>();
  readonly #flights = new Map<string, Promise<StoredMedia>>();
  // Evicted files whose unlink has not finished: not adopted from disk, not overwritten.
  readonly #unlinking = new Map<string, Promise<void>>();
  #size = 0;

  private constructor(options: MediaStoreOptions) {
    this.#dir = options.dir;
    this.#maxBytes = options.maxBytes;
    this.#log = options.log;
  }

  /** Creates the directory, indexes the stored files and removes stale temporary files. */
  static async open(options: MediaStoreOptions): Promise<MediaStore> {
    const store = new MediaStore(options);
    await mkdir(options.dir, { recursive: true });
    await store.#index(options.staleTempMs ?? DEFAULT_STALE_TEMP_MS);
    return store;
  }

  static idFor(key: string): string {
    return createHash('sha256').update(key).digest('hex');
  }

  static isId(id: string): boolean {
    return ID.test(id);
  }

  get size(): number {
    return this.#size;
  }

  get dir(): string {
    return this.#dir;
  }

  /**
   * The file for `key`, produced once: concurrent callers share one `produce()`.
   *
   * A caller's abort rejects only that caller (MediaStoreError 'aborted'); the production
   * goes on, bounded by its time-out, and its result is kept: the next caller for the same
   * key (a prompt is usually heard again) gets it at once. Only the time-out aborts it.
   * @throws the producer's own error, or MediaStoreError ('timeout', 'aborted', 'empty')
   */
  async obtain(key: string, produce: Producer, options: ObtainOptions): Promise<StoredMedia> {
    const { signal } = options;
    if (signal?.aborted) throw abortedError(signal);
    const id = MediaStore.idFor(key);
    const held = (await this.#held(id)) ?? this.#adoptFromDisk(id);
    if (held) return held;
    let flight = this.#flights.get(id);
    if (!flight) {
      flight = this.#produce(id, produce, options.timeoutMs).finally(() => this.#flights.delete(id));
      // Every waiter may have gone; the outcome is theirs, not an unhandled rejection.
      flight.catch(() => undefined);
      this.#flights.set(id, flight);
    }
    return signal ? waitUnlessAborted(flight, signal, () => abortedError(signal)) : flight;
  }

  /** A stored file by id (touches its last use), or undefined. */
  get(id: string): StoredMedia | undefined {
    if (!ID.test(id)) return undefined;
    const entry = this.#entries.get(id);
    if (entry) {
      this.#touch(id, entry);
      return entry.media;
    }
    return this.#adoptFromDisk(id);
  }

  async #held(id: string): Promise<StoredMedia | undefined> {
    const entry = this.#entries.get(id);
    if (!entry) return undefined;
    try {
      await stat(entry.media.path);
    } catch {
      // Removed behind our back (an operator, another process): produce it again.
      this.#forget(id);
      return undefined;
    }
    if (this.#entries.get(id) !== entry) return undefined;
    this.#touch(id, entry);
    return entry.media;
  }

  async #produce(id: string, produce: Producer, timeoutMs: number): Promise<StoredMedia> {
    const tmpPath = join(this.#dir, `.${id}.${randomBytes(6).toString('hex')}.tmp`);
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new MediaStoreError('timeout', `not produced within ${timeoutMs} ms`);
        controller.abort(error);
        reject(error);
      }, timeoutMs);
    });
    const produced = Promise.resolve().then(() => produce(tmpPath, controller.signal));
    try {
      await Promise.race([produced, timedOut]);
      const bytes = (await stat(tmpPath)).size;
      if (bytes === 0) throw new MediaStoreError('empty', 'the producer wrote an empty file');
      const path = join(this.#dir, `${id}.wav`);
      await this.#unlinking.get(id);
      await rename(tmpPath, path);
      return this.#add({ id, path, bytes });
    } catch (error) {
      const removeTemp = () => rm(tmpPath, { force: true }).catch(() => undefined);
      await removeTemp();
      // A producer that ignored the abort may still write: clean up again when it stops.
      produced.then(removeTemp, removeTemp);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  #add(media: StoredMedia): StoredMedia {
    this.#forget(media.id);
    this.#entries.set(media.id, { media, touchedOnDisk: Date.now() });
    this.#size += media.bytes;
    this.#evict(media.id);
    return media;
  }

  /** Removes least-recently-used files until the total fits, never `keep`. */
  #evict(keep: string): void {
    for (const [id, entry] of this.#entries) {
      if (this.#size <= this.#maxBytes) return;
      if (id === keep) continue;
      this.#forget(id);
      // Unlinking a file being served is safe on Linux: open descriptors keep reading it.
      const removed = unlink(entry.media.path)
        .catch((error: unknown) => {
          if (!isNotFound(error)) this.#log.warn({ err: error, path: entry.media.path }, 'could not remove an evicted media file');
        })
        .finally(() => {
          if (this.#unlinking.get(id) === removed) this.#unlinking.delete(id);
        });
      this.#unlinking.set(id, removed);
      this.#log.debug({ id, bytes: entry.media.bytes }, 'media evicted');
    }
  }

  #forget(id: string): void {
    const entry = this.#entries.get(id);
    if (!entry) return;
    this.#entries.delete(id);
    this.#size -= entry.media.bytes;
  }

  #touch(id: string, entry: Entry): void {
    this.#entries.delete(id);
    this.#entries.set(id, entry);
    const now = Date.now();
    if (now - entry.touchedOnDisk < TOUCH_ON_DISK_MS) return;
    entry.touchedOnDisk = now;
    const time = new Date(now);
    utimes(entry.media.path, time, time).catch(() => undefined);
  }

  // Another process may write into the same directory (a separate HTTP role on a shared
  // volume): a file not in the index but on disk is served and indexed.
  #adoptFromDisk(id: string): StoredMedia | undefined {
    if (this.#unlinking.has(id) || this.#entries.has(id)) return undefined;
    const path = join(this.#dir, `${id}.wav`);
    try {
      const info = statSync(path);
      if (!info.isFile()) return undefined;
      const media: StoredMedia = { id, path, bytes: info.size };
      this.#entries.set(id, { media, touchedOnDisk: info.mtimeMs });
      this.#size += media.bytes;
      return media;
    } catch {
      return undefined;
    }
  }

  async #index(staleTempMs: number): Promise<void> {
    const found: { media: StoredMedia; mtimeMs: number }[] = [];
    const now = Date.now();
    for (const name of await readdir(this.#dir)) {
      const path = join(this.#dir, name);
      const stored = STORED_FILE.exec(name);
      if (!stored && !TEMP_FILE.test(name)) continue;
      let info;
      try {
        info = await stat(path);
      } catch {
        continue;
      }
      if (!info.isFile()) continue;
      if (stored?.[1]) found.push({ media: { id: stored[1], path, bytes: info.size }, mtimeMs: info.mtimeMs });
      else if (now - info.mtimeMs >= staleTempMs) await rm(path, { force: true });
    }
    found.sort((a, b) => a.mtimeMs - b.mtimeMs);
    for (const { media, mtimeMs } of found) {
      this.#entries.set(media.id, { media, touchedOnDisk: mtimeMs });
      this.#size += media.bytes;
    }
    const newest = found.at(-1);
    if (newest) this.#evict(newest.media.id);
    this.#log.info({ dir: this.#dir, files: this.#entries.size, bytes: this.#size }, 'media store opened');
  }
}

function abortedError(signal: AbortSignal): MediaStoreError {
  return new MediaStoreError('aborted', 'the caller stopped waiting', { cause: signal.reason });
}


function isNotFound(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === 'ENOENT';
}
