import type { FetchErrorCode, FetchFailure } from './ports.js';

/** Why a verb failed: a fetch error code, or one of the verb-level codes. */
export type FailureCode =
  | FetchErrorCode
  | 'not_supported' // parsed and valid, but not executed by this version
  | 'media' // audio could not be fetched, converted or played
  | 'speech' // the speech engine could not render the text
  | 'no_input' // <Gather> collected no digits
  | 'no_answer' // <Dial>: nobody answered in time
  | 'busy' // <Dial>: every target was busy
  | 'congestion' // <Dial>: the network could not reach the targets (congestion)
  | 'dial_failed' // <Dial>: the targets could not be dialled or failed otherwise
  | 'recording' // <Record>: nothing was stored
  | 'ari_timeout' // Asterisk did not answer an ARI request in time (ARI_REQUEST_TIMEOUT_MS)
  | 'ari_unavailable' // Asterisk refused an ARI request, or ARI is not connected
  | 'internal'; // a bug or an unexpected error; logged with its stack

/**
 * A verb's failure: thrown by verb handlers and ports, caught by the interpreter, which
 * runs the verb's error branch. `reason` is short and speakable (`<Error say="true">`).
 */
export class VerbFailure extends Error {
  readonly code: FailureCode;
  readonly reason: string;
  readonly status?: number;

  constructor(code: FailureCode, reason: string, options?: { cause?: unknown; status?: number }) {
    super(`${code}: ${reason}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VerbFailure';
    this.code = code;
    this.reason = reason;
    if (options?.status !== undefined) this.status = options.status;
  }

  static fromFetch(failure: FetchFailure): VerbFailure {
    const opts = failure.status === undefined ? undefined : { status: failure.status };
    return new VerbFailure(failure.code, failure.reason, opts);
  }
}

/** The call ended (the caller hung up, or the channel is gone): nothing more may run. */
export class CallEndedError extends Error {
  readonly code = 'call_ended';
  constructor(message = 'the call has ended') {
    super(message);
    this.name = 'CallEndedError';
  }
}
