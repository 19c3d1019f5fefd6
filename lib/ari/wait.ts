import { CallEndedError } from '../flow/failure.js';

export interface Settle<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

/**
 * Waits for something a call's events decide. `begin` arms the wait (listeners, timers,
 * requests) and returns its clean-up, which runs exactly once when the wait settles. The
 * wait rejects with CallEndedError as soon as `ended` aborts: it never outlives the call.
 */
export function waitFor<T>(ended: AbortSignal, begin: (settle: Settle<T>) => () => void): Promise<T> {
  if (ended.aborted) return Promise.reject(new CallEndedError());
  return new Promise<T>((resolve, reject) => {
    let done = false;
    let cleanUp: (() => void) | undefined;
    const finish = (): boolean => {
      if (done) return false;
      done = true;
      ended.removeEventListener('abort', onEnded);
      cleanUp?.();
      return true;
    };
    const onEnded = (): void => {
      if (finish()) reject(new CallEndedError());
    };
    ended.addEventListener('abort', onEnded, { once: true });
    const settle: Settle<T> = {
      resolve: (value) => {
        if (finish()) resolve(value);
      },
      reject: (error) => {
        if (finish()) reject(error);
      },
    };
    const release = begin(settle);
    if (done) release();
    else cleanUp = release;
  });
}
