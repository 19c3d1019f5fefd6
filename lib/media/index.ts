export { MediaStore, MediaStoreError, type StoredMedia, type MediaStoreOptions, type ObtainOptions, type Producer } from './store.js';
export { httpLocator, directoryLocator, MediaLocatorError, type MediaLocator } from './locator.js';
export { RemoteAudio, NO_RECORDINGS, REMOTE_AUDIO_DEFAULTS, type RecordingLookup, type RemoteAudioOptions } from './remote-audio.js';
export { mediaRoutes, matchesIfNoneMatch, MEDIA_CACHE_CONTROL, MEDIA_CONTENT_TYPE, type MediaRoutesOptions } from './route.js';
export { transcodeToTelephony, TranscodeError, SOX_INSTALL_HINT, type TranscodeErrorCode, type TranscodeOptions } from './transcode.js';
export { probeSox, type SoxCapabilities } from './sox-probe.js';
export { detectAudioType, sniffFile, type AudioType } from './audio-type.js';
export { parseWav, readWavFile, isTelephonyWav, WavError, type WavErrorCode, type WavInfo } from './wav.js';
