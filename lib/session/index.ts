export { ALIVE_MS, CallStates, CallStateUnavailableError, type CallIdentity, type CallStatesOptions, type Claim } from './call-states.js';
export { decodeSavedCall, decodeSavedDial, encodeSavedCall, SavedCallError, type SavedCall, type SavedDial } from './saved-call.js';
