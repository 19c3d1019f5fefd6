export type { SpeechEngine } from './engine.js';
export { SpeechError, TTS_INSTALL_HINT, type SpeechErrorCode } from './errors.js';
export { EspeakEngine, type EspeakEngineOptions } from './espeak.js';
export { chooseEspeakVoice, GENDER_VARIANTS } from './espeak-voices.js';
export { GoogleTtsEngine, GOOGLE_TTS_ENDPOINT, type GoogleTtsOptions } from './google.js';
export { googleVoiceKey } from './google-voices.js';
export { saysOf } from './says.js';
export { TtsSpeech, type TtsSpeechOptions } from './speech.js';
