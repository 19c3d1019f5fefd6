// An ARI request that fails during a verb is a verb failure of its own kind, never an
// internal error: the verb's error branch runs, with a reason a caller may hear.
import { VerbFailure } from '../flow/failure.js';
import { AriRequestError, AriTimeoutError } from './errors.js';

/** Spoken by `<Error say="true">` as "Play failed: Asterisk did not answer in time." */
export const ARI_TIMEOUT_REASON = 'Asterisk did not answer in time';
export const ARI_UNAVAILABLE_REASON = 'Asterisk refused the request';

/**
 * `ari_timeout` when Asterisk did not answer within ARI_REQUEST_TIMEOUT_MS;
 * `ari_unavailable` when it answered with an error, refused or reset the connection, or
 * the engine has no ARI connection. A 404 for a channel that is gone is not a failure:
 * callers end the call first.
 */
export function ariVerbFailure(error: AriRequestError): VerbFailure {
  if (error instanceof AriTimeoutError) return new VerbFailure('ari_timeout', ARI_TIMEOUT_REASON, { cause: error });
  return new VerbFailure('ari_unavailable', ARI_UNAVAILABLE_REASON, { cause: error });
}
