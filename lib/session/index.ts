export { ALIVE_MS, CallStates, CallStateUnavailableError, type CallIdentity, type CallStatesOptions, type Claim } from './call-states.js';
export { decodeSavedCall, encodeSavedCall, SavedCallError, type SavedCall } from './saved-call.js';
