/** Runs at most `concurrency` tasks at once; at most `maxQueued` wait, the rest are refused. */
export class Limiter {
  readonly #concurrency: number;
  readonly #maxQueued: number;
  readonly #queue: (() => void)[] = [];
  #running = 0;

  constructor(concurrency: number, maxQueued: number) {
    this.#concurrency = Math.max(1, concurrency);
    this.#maxQueued = maxQueued;
  }

  /** The task's outcome, or `{ ran: false }` without running it when the queue is full. */
  async run<T>(task: () => Promise<T>): Promise<{ readonly ran: true; readonly value: T } | { readonly ran: false }> {
    if (this.#running < this.#concurrency) this.#running++;
    else if (this.#queue.length >= this.#maxQueued) return { ran: false };
    // A finishing task hands its slot over directly, so nobody can slip in between.
    else await new Promise<void>((resolve) => this.#queue.push(resolve));
    try {
      return { ran: true, value: await task() };
    } finally {
      const next = this.#queue.shift();
      if (next) next();
      else this.#running--;
    }
  }
}
