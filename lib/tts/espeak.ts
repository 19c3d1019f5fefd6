// The offline engine: espeak-ng speaks the text (22050 Hz WAV on its stdout) and sox
// resamples it to 8 kHz mono 16-bit, the format Asterisk plays without converting.
import { execFile } from 'node:child_process';
import type { Logger } from '../flow/ports.js';
import { isTelephonyWav, readWavFile, WavError } from '../media/wav.js';
import type { Voice } from '../xml/index.js';
import type { SpeechEngine } from './engine.js';
import { SpeechError, TTS_INSTALL_HINT } from './errors.js';
import { chooseEspeakVoice, parseVariantList, parseVoiceList, type EspeakCatalogue } from './espeak-voices.js';
import { runPipeline } from './pipeline.js';

export interface EspeakEngineOptions {
  readonly log: Logger;
  /** The espeak-ng executable (default `espeak-ng` on the PATH). */
  readonly espeak?: string;
  /** The sox executable (default `sox` on the PATH). */
  readonly sox?: string;
  /** Speaking rate in words per minute (espeak-ng's default, 175, when absent). */
  readonly wordsPerMinute?: number;
}

const PROBE_TIMEOUT_MS = 10_000;
// Notes are keyed by `lang`/`code`, which come from documents: bound what is remembered.
const MAX_NOTES = 1000;

export class EspeakEngine implements SpeechEngine {
  readonly name = 'espeak-ng';
  readonly #catalogue: EspeakCatalogue;
  readonly #log: Logger;
  readonly #espeak: string;
  readonly #sox: string;
  readonly #wordsPerMinute: number | undefined;
  readonly #noted = new Set<string>();

  private constructor(options: EspeakEngineOptions, catalogue: EspeakCatalogue) {
    this.#catalogue = catalogue;
    this.#log = options.log;
    this.#espeak = options.espeak ?? 'espeak-ng';
    this.#sox = options.sox ?? 'sox';
    this.#wordsPerMinute = options.wordsPerMinute;
  }

  /**
   * Reads the installed voices and checks that sox is there.
   * @throws SpeechError 'engine_missing' (with the install command) or 'engine_failed'
   */
  static async create(options: EspeakEngineOptions): Promise<EspeakEngine> {
    const espeak = options.espeak ?? 'espeak-ng';
    const [voices, variants] = await Promise.all([probe(espeak, ['--voices']), probe(espeak, ['--voices=variant'])]);
    await probe(options.sox ?? 'sox', ['--version']);
    const languages = new Set(parseVoiceList(voices));
    if (languages.size === 0) throw new SpeechError('engine_failed', `${espeak} --voices listed no voices`);
    return new EspeakEngine(options, { languages, variants: new Set(parseVariantList(variants)) });
  }

  voiceKey(voice: Voice): string {
    return this.#choose(voice);
  }

  async synthesize(text: string, voice: Voice, outPath: string, signal: AbortSignal): Promise<void> {
    const speak = ['-v', this.#choose(voice), '-b', '1', '--stdin', '--stdout'];
    if (this.#wordsPerMinute !== undefined) speak.push('-s', String(this.#wordsPerMinute));
    // --no-glob: a path is a path. -D: no dither, so a text always gives the same bytes.
    // -V1: failures only on stderr.
    const resample = ['--no-glob', '-D', '-V1', '-t', 'wav', '-', '-t', 'wav', '-e', 'signed-integer', '-b', '16', '-c', '1', '-r', '8000', outPath];
    // The text goes on stdin: a text starting with '-' is never taken for an option.
    await runPipeline(
      [
        { command: this.#espeak, args: speak },
        { command: this.#sox, args: resample },
      ],
      text,
      signal,
    );
    await checkOutput(outPath);
  }

  #choose(voice: Voice): string {
    const choice = chooseEspeakVoice(voice, this.#catalogue);
    if (choice.note && !this.#noted.has(choice.note.key)) {
      if (this.#noted.size >= MAX_NOTES) this.#noted.clear();
      this.#noted.add(choice.note.key);
      this.#log.info({ lang: voice.lang, code: voice.code, espeakVoice: choice.spec }, choice.note.message);
    }
    return choice.spec;
  }
}

async function checkOutput(path: string): Promise<void> {
  try {
    const info = await readWavFile(path);
    if (!isTelephonyWav(info)) {
      throw new SpeechError('bad_audio', `sox wrote ${info.sampleRate} Hz, ${info.channels} channel(s), ${info.bitsPerSample} bit`);
    }
    if (info.dataBytes === 0) throw new SpeechError('bad_audio', 'the rendering holds no samples');
  } catch (error) {
    if (error instanceof WavError) throw new SpeechError('bad_audio', `sox wrote an unreadable file: ${error.message}`, { cause: error });
    throw error;
  }
}

function probe(command: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, [...args], { timeout: PROBE_TIMEOUT_MS, encoding: 'utf8' }, (error, stdout) => {
      if (!error) {
        resolve(stdout);
        return;
      }
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new SpeechError('engine_missing', `"${command}" was not found; install it: ${TTS_INSTALL_HINT}`, { cause: error }));
      } else reject(new SpeechError('engine_failed', `${command} ${args.join(' ')} failed: ${error.message}`, { cause: error }));
    });
  });
}
