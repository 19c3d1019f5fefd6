// Any common wav or mp3 → 8 kHz mono 16-bit PCM WAV, the format Asterisk plays without
// converting, with sox run as a child process (an argument array, no shell).
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { detectAudioType, sniffFile } from './audio-type.js';
import { isTelephonyWav, readWavFile, WavError, type WavInfo } from './wav.js';

export const SOX_INSTALL_HINT = 'apt-get install -y sox libsox-fmt-mp3';

export type TranscodeErrorCode =
  | 'unsupported' // neither wav nor mp3
  | 'invalid_audio' // sox could not decode it
  | 'empty' // it decoded to no samples
  | 'sox_missing'
  | 'mp3_missing' // sox without its mp3 format library
  | 'bad_output' // sox succeeded but wrote something else than asked (a bug)
  | 'timeout'
  | 'cancelled';

const REASONS: Record<TranscodeErrorCode, string> = {
  unsupported: 'the audio is not a wav or mp3 file',
  invalid_audio: 'the audio file could not be decoded',
  empty: 'the audio file holds no sound',
  sox_missing: 'audio conversion is not available',
  mp3_missing: 'mp3 audio cannot be converted',
  bad_output: 'the audio could not be converted',
  timeout: 'the audio took too long to convert',
  cancelled: 'the conversion was cancelled',
};

export class TranscodeError extends Error {
  readonly code: TranscodeErrorCode;
  /** Short and speakable; `message` has the details (sox's own words, the install command). */
  readonly reason: string;

  constructor(code: TranscodeErrorCode, detail: string, options?: { cause?: unknown }) {
    super(`${REASONS[code]}: ${detail}`, options);
    this.name = 'TranscodeError';
    this.code = code;
    this.reason = REASONS[code];
  }
}

export interface TranscodeOptions {
  /** The input's Content-Type, when it came over HTTP (a hint; the bytes decide first). */
  readonly contentType?: string;
  /** sox is killed after this long. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** The sox executable (default `sox` on the PATH). */
  readonly sox?: string;
}

const STDERR_LIMIT = 4096;
const MP3_HANDLER_MISSING = /no handler for (?:given )?file (?:type|extension) [`'"]?mp3/i;

interface SoxExit {
  readonly code: number | null;
  readonly stderr: string;
}

function runSox(sox: string, args: readonly string[], timeoutMs: number, signal: AbortSignal | undefined): Promise<SoxExit> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new TranscodeError('cancelled', 'cancelled before sox started'));
      return;
    }
    const child = spawn(sox, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let stopped: TranscodeError | undefined;
    const stop = (error: TranscodeError): void => {
      stopped ??= error;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => stop(new TranscodeError('timeout', `sox ran longer than ${timeoutMs} ms`)), timeoutMs);
    const onAbort = (): void => stop(new TranscodeError('cancelled', 'cancelled while converting'));
    signal?.addEventListener('abort', onAbort, { once: true });
    const cleanUp = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      if (stderr.length < STDERR_LIMIT) stderr += text.slice(0, STDERR_LIMIT - stderr.length);
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      cleanUp();
      if (error.code === 'ENOENT') {
        reject(new TranscodeError('sox_missing', `"${sox}" was not found; install it: ${SOX_INSTALL_HINT}`, { cause: error }));
      } else reject(new TranscodeError('invalid_audio', `sox could not be started: ${error.message}`, { cause: error }));
    });
    // 'close', not 'exit': stderr is complete and the process is gone, so nothing writes
    // the output file after we return.
    child.on('close', (code) => {
      cleanUp();
      if (stopped) reject(stopped);
      else resolve({ code, stderr: stderr.trim() });
    });
  });
}

/**
 * Converts `input` (wav or mp3, detected from its bytes, then `contentType`) into an
 * 8 kHz mono 16-bit PCM WAV at `output`. On failure `output` is removed.
 * @returns the output's header
 * @throws TranscodeError
 */
export async function transcodeToTelephony(input: string, output: string, options: TranscodeOptions): Promise<WavInfo> {
  const sox = options.sox ?? 'sox';
  const type = detectAudioType(await sniffFile(input), options.contentType);
  if (!type) {
    const label = options.contentType ? ` (served as ${options.contentType})` : '';
    throw new TranscodeError('unsupported', `the input is neither RIFF/WAVE nor MPEG audio${label}`);
  }
  // --no-glob: a path is a path, never a wildcard. -V1: failures only on stderr.
  const args = ['--no-glob', '-V1', '-t', type, input, '-t', 'wav', '-e', 'signed-integer', '-b', '16', '-c', '1', '-r', '8000', output];
  try {
    const exit = await runSox(sox, args, options.timeoutMs, options.signal);
    if (exit.code !== 0) {
      if (MP3_HANDLER_MISSING.test(exit.stderr)) {
        throw new TranscodeError('mp3_missing', `sox has no mp3 support; install it: ${SOX_INSTALL_HINT}`);
      }
      throw new TranscodeError('invalid_audio', `sox exited with ${exit.code ?? 'a signal'} on ${type} input: ${exit.stderr}`);
    }
    const info = await readOutput(output);
    if (info.dataBytes === 0) throw new TranscodeError('empty', `the ${type} input decoded to no samples`);
    return info;
  } catch (error) {
    await rm(output, { force: true });
    throw error;
  }
}

async function readOutput(output: string): Promise<WavInfo> {
  let info: WavInfo;
  try {
    info = await readWavFile(output);
  } catch (error) {
    const detail = error instanceof WavError ? error.message : String(error);
    throw new TranscodeError('bad_output', `sox wrote an unreadable file: ${detail}`, { cause: error });
  }
  if (!isTelephonyWav(info)) {
    const what = `${info.sampleRate} Hz, ${info.channels} channel(s), ${info.bitsPerSample} bit, format ${info.formatTag}`;
    throw new TranscodeError('bad_output', `sox wrote ${what}`);
  }
  return info;
}
