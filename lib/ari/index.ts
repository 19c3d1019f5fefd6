// The Asterisk side: the only module that imports ari-client.
export { AriConnection, ARI_MAX_SOCKETS, type AriConnectionOptions, type ConnectionListener, type ConnectionState } from './connection.js';
export { StasisApp, type StasisAppOptions } from './stasis-app.js';
export { Admission, EventLoopLag, OVERLOAD_CAUSE, SYSTEM_CLOCK, type AdmissionOptions, type AdmissionStatus, type Clock, type OverloadReason, type Refusal } from './admission.js';
export { AriCall, type AriCallOptions } from './ari-call.js';
export { AppDirectory } from './directory.js';
export { ChannelDispatcher, type ChannelEventHandler } from './dispatcher.js';
export { OwnChannels, INTERNAL_CHANNEL_ARG } from './own-channels.js';
export { mediaUri } from './media.js';
export { ClientRest, type AriRest } from './rest.js';
export { AriHttp, type AriHttpOptions } from './http-client.js';
export { AriRequestError, AriNotFoundError, AriTimeoutError, AriNotConnectedError } from './errors.js';
export { backoffDelay, RECONNECT_BACKOFF, type BackoffPolicy } from './backoff.js';
export { Q850 } from './causes.js';
export { loadFirstDocument, WEBHOOK_STEP, type FirstDocument } from './first-document.js';
export { parseEvent, channelIdOf, type AriEvent, type ChannelSnapshot, type PlaybackSnapshot } from './events.js';
export { AriRecordingFiles, type AriRecordingFilesOptions, type RecordingFile, type RecordingFileSource } from './recording-files.js';
export { RECORDING_NAME, recordingName } from './recording.js';
