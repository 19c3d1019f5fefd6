import type { HangupCause } from '../flow/ports.js';

/** Q.850 cause codes sent as ARI's `reason_code`. */
export const Q850: Readonly<Record<HangupCause, number>> = {
  normal_clearing: 16,
  unallocated_number: 1,
  temporary_failure: 41,
  // For a call refused before it is answered: Asterisk 22's chan_pjsip answers it
  // "503 Service Unavailable", which tells a trunk to try another route. Cause 41 would
  // become "603 Decline", a global failure that stops the caller's carrier from failing over.
  no_circuit_available: 34,
};
