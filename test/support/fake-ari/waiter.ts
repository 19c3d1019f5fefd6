// Timers and signals for the fake's "channel threads", all cancellable at once.

/** A set of timers that `clear()` cancels together (fake closed or Asterisk restarted). */
export class Timers {
  private readonly pending = new Set<NodeJS.Timeout>();

  /** Calls `fn` after `ms`; `Infinity` never calls it. Returns a cancel function. */
  after(ms: number, fn: () => void): () => void {
    if (!Number.isFinite(ms)) return () => undefined;
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      fn();
    }, Math.max(0, ms));
    this.pending.add(timer);
    return () => {
      clearTimeout(timer);
      this.pending.delete(timer);
    };
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.after(ms, resolve);
    });
  }

  clear(): void {
    for (const timer of this.pending) clearTimeout(timer);
    this.pending.clear();
  }
}

/**
 * A mailbox of signals for one running operation (a playback, a recording): the
 * operation awaits `next(ms)`, which gives the first signal posted, or 'timeout' after
 * `ms` (never, for Infinity).
 */
export class Signals<S extends string> {
  private readonly queue: S[] = [];
  private waiting: ((s: S | 'timeout') => void) | undefined;

  constructor(private readonly timers: Timers) {}

  post(signal: S): void {
    const waiting = this.waiting;
    if (waiting) {
      this.waiting = undefined;
      waiting(signal);
    } else {
      this.queue.push(signal);
    }
  }

  next(ms: number): Promise<S | 'timeout'> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve) => {
      const cancel = this.timers.after(ms, () => {
        if (this.waiting === settle) {
          this.waiting = undefined;
          resolve('timeout');
        }
      });
      const settle = (s: S | 'timeout'): void => {
        cancel();
        resolve(s);
      };
      this.waiting = settle;
    });
  }
}

/** Resolves on the next turn of the event loop, after I/O callbacks queued so far. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
