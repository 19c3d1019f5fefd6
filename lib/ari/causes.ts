import type { HangupCause } from '../flow/ports.js';

/** Q.850 cause codes sent as ARI's `reason_code`. */
export const Q850: Readonly<Record<HangupCause, number>> = {
  normal_clearing: 16,
  unallocated_number: 1,
  temporary_failure: 41,
};
