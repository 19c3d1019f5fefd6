import { AriNotFoundError, AriRequestError, AriTimeoutError } from './errors.js';

/**
 * Runs one ARI request with a time-out (ari-client has none). Settles exactly once: with
 * the answer, with AriTimeoutError at the time-out (a late answer is dropped), or with
 * the request's failure as an AriRequestError.
 */
export async function timed<T>(operation: string, timeoutMs: number, request: () => PromiseLike<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new AriTimeoutError(operation, timeoutMs)), timeoutMs);
  });
  try {
    // Promise.resolve adopts ari-client's Bluebird promise, so its late rejection is handled.
    return await Promise.race([Promise.resolve().then(request), timeout]);
  } catch (error) {
    throw error instanceof AriRequestError ? error : classify(operation, error);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * ari-client rejects with `new Error(<response body>)` when Asterisk answered an error
 * (the status is lost; the body is `{"message":"Channel not found"}`), with swagger's
 * response object when the body was empty, or with the transport's error.
 */
export function classify(operation: string, error: unknown): AriRequestError {
  const status = statusOf(error);
  const message = messageOf(error);
  if (status === 404 || / not found$/i.test(message)) return new AriNotFoundError(operation, message, { cause: error });
  return new AriRequestError(operation, message, status, { cause: error });
}

function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('status' in error)) return undefined;
  return typeof error.status === 'number' && error.status > 0 ? error.status : undefined;
}

function messageOf(error: unknown): string {
  const raw = error instanceof Error ? error.message : typeof error === 'string' ? error : '';
  try {
    const body: unknown = JSON.parse(raw);
    if (typeof body === 'object' && body !== null && 'message' in body && typeof body.message === 'string') return body.message;
  } catch {
    // not a JSON body: the message as it is
  }
  if (raw !== '') return raw;
  const status = statusOf(error);
  return status === undefined ? 'the request failed' : `Asterisk answered ${status}`;
}
