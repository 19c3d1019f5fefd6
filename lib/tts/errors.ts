/** What a speech engine tells apart; each code has a short, speakable reason. */
export type SpeechErrorCode =
  | 'engine_missing' // espeak-ng or sox is not installed
  | 'engine_failed' // the engine ran and failed
  | 'bad_audio' // the engine produced something that is not usable audio
  | 'http_status' // the speech service answered with an error status
  | 'network' // the speech service could not be reached
  | 'timeout' // the speech service did not answer in time
  | 'cancelled'
  | 'config'; // the engine is not configured to run

export const TTS_INSTALL_HINT = 'apt-get install -y espeak-ng sox';

export class SpeechError extends Error {
  readonly code: SpeechErrorCode;
  /** Short and speakable; `message` has the details for the logs. */
  readonly reason: string;
  readonly status?: number;

  constructor(code: SpeechErrorCode, detail: string, options?: { cause?: unknown; status?: number }) {
    const reason = reasonFor(code, options?.status);
    super(`${reason}: ${detail}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SpeechError';
    this.code = code;
    this.reason = reason;
    if (options?.status !== undefined) this.status = options.status;
  }
}

function reasonFor(code: SpeechErrorCode, status: number | undefined): string {
  switch (code) {
    case 'engine_missing':
      return 'the speech engine is not installed';
    case 'engine_failed':
      return 'the speech engine failed';
    case 'bad_audio':
      return 'the speech engine returned unusable audio';
    case 'http_status':
      return `the speech service answered ${status ?? 'with an error'}`;
    case 'network':
      return 'the speech service could not be reached';
    case 'timeout':
      return 'the speech service did not answer in time';
    case 'cancelled':
      return 'speech was cancelled';
    case 'config':
      return 'speech is not configured';
  }
}
