// The waiting sides (CallbackQueue) of this process, by their reply channel. A worker in
// the same process (`start` with all roles, `simulate`, the tests) hands them outcomes and
// attempt counts with a function call instead of a PUBLISH that Redis sends back to this
// very process: no JSON either way, no round trip, and nothing lost to a reconnecting
// subscriber. The job itself goes through Redis as always (the waiter's look-up, the
// takeover of a dead worker's jobs); only the message skips it.
import type { FetchOutcome } from '../callback/types.js';

export interface LocalWaiter {
  /** A job's outcome, as a reply message would carry it. */
  reply(jobId: string, outcome: FetchOutcome): void;
  /** The attempts a job has made so far, as a progress message would carry it. */
  progress(jobId: string, attempts: number): void;
}

const byChannel = new Map<string, LocalWaiter>();

export const localWaiters = {
  /** Registers the waiting side that subscribes to `replyTo`; its channel is its own (a random instance id). */
  add(replyTo: string, waiter: LocalWaiter): void {
    byChannel.set(replyTo, waiter);
  },
  remove(replyTo: string, waiter: LocalWaiter): void {
    if (byChannel.get(replyTo) === waiter) byChannel.delete(replyTo);
  },
  /** The waiting side of this process behind `replyTo`, if it is one. */
  get(replyTo: string): LocalWaiter | undefined {
    return byChannel.get(replyTo);
  },
};
