import type { Voice } from '../xml/index.js';

/** Renders text to an 8 kHz mono 16-bit PCM WAV file. */
export interface SpeechEngine {
  /** Part of every cache key: two engines never share a file. */
  readonly name: string;
  /** The voice choice after normalisation: equal keys mean the same audio for the same text. */
  voiceKey(voice: Voice): string;
  /**
   * Writes the complete WAV at `outPath`. Stops (and kills any child process) soon after
   * `signal` aborts.
   * @throws SpeechError
   */
  synthesize(text: string, voice: Voice, outPath: string, signal: AbortSignal): Promise<void>;
}
