// The Speech port over an engine and the media store: each (engine, voice, text) is
// rendered once, kept on disk, and handed to the call as a MediaRef.
import { VerbFailure } from '../flow/failure.js';
import type { Logger, MediaRef, Speech } from '../flow/ports.js';
import type { MediaLocator } from '../media/locator.js';
import type { Metrics } from '../metrics/metrics.js';
import { MediaStoreError, type MediaStore, type StoredMedia } from '../media/store.js';
import type { FlowDocument, Voice } from '../xml/index.js';
import type { SpeechEngine } from './engine.js';
import { SpeechError } from './errors.js';
import { Limiter } from './limiter.js';
import { saysOf } from './says.js';

export interface TtsSpeechOptions {
  readonly engine: SpeechEngine;
  readonly store: MediaStore;
  readonly locator: MediaLocator;
  /** A rendering that takes longer is stopped and the verb fails. */
  readonly renderTimeoutMs: number;
  readonly log: Logger;
  /** Background renderings running at once, over all documents (default 2). */
  readonly prerenderConcurrency?: number;
  /** Background renderings waiting at most; more are dropped (default 1000). */
  readonly prerenderQueueLimit?: number;
  /** Counts renderings (by outcome) and the calls' texts served from the store without one. */
  readonly metrics?: Metrics;
}

// Bump when the rendering pipeline changes what a key sounds like.
const KEY_VERSION = 'tts/1';

export class TtsSpeech implements Speech {
  readonly #engine: SpeechEngine;
  readonly #store: MediaStore;
  readonly #locator: MediaLocator;
  readonly #timeoutMs: number;
  readonly #log: Logger;
  readonly #metrics: Metrics | undefined;
  readonly #background: Limiter;
  // Keys waiting or rendering in the background, so a prompt shared by many documents is queued once.
  readonly #queued = new Map<string, Promise<void>>();

  constructor(options: TtsSpeechOptions) {
    this.#engine = options.engine;
    this.#store = options.store;
    this.#locator = options.locator;
    this.#timeoutMs = options.renderTimeoutMs;
    this.#log = options.log;
    this.#metrics = options.metrics;
    this.#background = new Limiter(options.prerenderConcurrency ?? 2, options.prerenderQueueLimit ?? 1000);
  }

  /** The store key of a rendering: engine, normalised voice and text. */
  keyFor(text: string, voice: Voice): string {
    return JSON.stringify([KEY_VERSION, this.#engine.name, this.#engine.voiceKey(voice), text]);
  }

  /** @throws VerbFailure 'speech' with a short, speakable reason */
  async render(text: string, voice: Voice, signal: AbortSignal): Promise<MediaRef> {
    try {
      let rendered = false;
      const media = await this.#obtainKey(this.keyFor(text, voice), text, voice, signal, () => {
        rendered = true;
      });
      if (!rendered) this.#metrics?.speechCacheHits.inc({ engine: this.#engine.name });
      return this.#locator(media);
    } catch (error) {
      const failure = this.#failure(error);
      if (!signal.aborted) this.#log.warn({ err: error, engine: this.#engine.name, voice }, `speech failed: ${failure.reason}`);
      throw failure;
    }
  }

  /** The interpreter calls this with every document it loads (Speech.prepare). */
  prepare(document: FlowDocument): void {
    void this.prerender(document);
  }

  /**
   * Renders every `<Say>` of the document in the background, in document order, so the
   * caller hears the first words without waiting. Resolves when they are all done;
   * never rejects (failures are logged at debug level).
   */
  async prerender(document: FlowDocument): Promise<void> {
    const jobs: Promise<void>[] = [];
    for (const say of saysOf(document)) {
      const key = this.keyFor(say.text, say.voice);
      let job = this.#queued.get(key);
      if (!job) {
        job = this.#renderInBackground(key, say.text, say.voice, say.path).finally(() => this.#queued.delete(key));
        this.#queued.set(key, job);
      }
      jobs.push(job);
    }
    await Promise.all(jobs);
  }

  async #renderInBackground(key: string, text: string, voice: Voice, path: string): Promise<void> {
    try {
      const outcome = await this.#background.run(() => this.#obtainKey(key, text, voice, undefined));
      if (!outcome.ran) this.#log.debug({ path }, 'pre-render dropped: too many waiting');
    } catch (error) {
      this.#log.debug({ err: error, path }, 'pre-render failed');
    }
  }

  /** `rendering` is called when this request renders the text (not found in the store, nor being rendered). */
  #obtainKey(key: string, text: string, voice: Voice, signal: AbortSignal | undefined, rendering?: () => void): Promise<StoredMedia> {
    const produce = (tmpPath: string, produceSignal: AbortSignal): Promise<void> => {
      rendering?.();
      return this.#synthesize(text, voice, tmpPath, produceSignal);
    };
    return this.#store.obtain(key, produce, {
      timeoutMs: this.#timeoutMs,
      ...(signal === undefined ? {} : { signal }),
    });
  }

  async #synthesize(text: string, voice: Voice, tmpPath: string, signal: AbortSignal): Promise<void> {
    const engine = this.#engine.name;
    try {
      await this.#engine.synthesize(text, voice, tmpPath, signal);
    } catch (error) {
      this.#metrics?.speechRenderings.inc({ engine, outcome: 'error' });
      throw error;
    }
    this.#metrics?.speechRenderings.inc({ engine, outcome: 'ok' });
  }

  #failure(error: unknown): VerbFailure {
    if (error instanceof VerbFailure) return error;
    if (error instanceof SpeechError) {
      return new VerbFailure('speech', error.reason, { cause: error, ...(error.status === undefined ? {} : { status: error.status }) });
    }
    if (error instanceof MediaStoreError) {
      switch (error.code) {
        case 'timeout':
          return new VerbFailure('speech', `speech took longer than ${this.#timeoutMs} ms`, { cause: error });
        case 'aborted':
          return new VerbFailure('speech', 'speech was cancelled', { cause: error });
        case 'empty':
          return new VerbFailure('speech', 'the speech engine returned no audio', { cause: error });
      }
    }
    return new VerbFailure('speech', 'the speech engine failed', { cause: error });
  }
}

