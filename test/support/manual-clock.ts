// A Clock (lib/ari/admission.ts) whose time moves only when the test says so: timers run
// when time passes theirs, and stall() stands for a busy event loop (timers then run late).
import type { Clock } from '../../lib/ari/index.js';

export class ManualClock implements Clock {
  private time = 0;
  private readonly timers = new Set<{ at: number; run: () => void }>();

  now(): number {
    return this.time;
  }

  after(ms: number, run: () => void): () => void {
    const timer = { at: this.time + ms, run };
    this.timers.add(timer);
    return () => this.timers.delete(timer);
  }

  /** Moves time on by `ms`, running each timer due on the way at its own time (or now, if overdue). */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = [...this.timers].filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.timers.delete(due);
      this.time = Math.max(this.time, due.at);
      due.run();
    }
    this.time = end;
  }

  /** The event loop is busy for `ms`: time passes and no timer runs (they run late, at the next advance). */
  stall(ms: number): void {
    this.time += ms;
  }

  /** Timers not run yet. */
  get pending(): number {
    return this.timers.size;
  }
}
