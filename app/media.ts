// Speech and audio for the stasis role, and the store the http role serves /media from.
import type { UrlPolicy } from '../lib/callback/index.js';
import { ConfigError, type MediaSettings, type SpeechSettings } from '../lib/config/index.js';
import type { AudioSource, Logger, Speech } from '../lib/flow/index.js';
import type { Metrics } from '../lib/metrics/index.js';
import { directoryLocator, httpLocator, MediaStore, NO_RECORDINGS, probeSox, RemoteAudio, type MediaLocator } from '../lib/media/index.js';
import { EspeakEngine, GoogleTtsEngine, TtsSpeech, type SpeechEngine } from '../lib/tts/index.js';

export interface CallMedia {
  readonly speech: Speech;
  readonly audio: AudioSource;
}

/** Opens the shared store: every role of a process uses one, roles of other processes share its directory. */
export function openMediaStore(settings: MediaSettings, log: Logger): Promise<MediaStore> {
  return MediaStore.open({ dir: settings.dir, maxBytes: settings.maxBytes, log });
}

/** How Asterisk reaches a stored file. @throws ConfigError when PUBLIC_BASE_URL is needed and missing. */
export function mediaLocator(settings: MediaSettings): MediaLocator {
  if (settings.delivery.kind === 'directory') return directoryLocator(settings.dir);
  const base = settings.delivery.publicBaseUrl;
  if (base === undefined) {
    throw new ConfigError('PUBLIC_BASE_URL', 'is required by the stasis role (the URL Asterisk fetches /media/… from), unless MEDIA_DIR is set');
  }
  return httpLocator(base);
}

async function speechEngine(settings: SpeechSettings, log: Logger): Promise<SpeechEngine> {
  if (settings.engine === 'espeak') return EspeakEngine.create({ log });
  const { endpoint, apiKey, accessToken, timeoutMs } = settings.google;
  return new GoogleTtsEngine({
    log,
    endpoint,
    requestTimeoutMs: timeoutMs,
    ...(apiKey === undefined ? {} : { apiKey }),
    ...(accessToken === undefined ? {} : { bearerToken: accessToken }),
  });
}

/**
 * The speech engine and remote audio of the stasis role. Fails start-up when espeak-ng or
 * sox is missing, with the command that installs them; warns when sox cannot read mp3.
 */
export async function openCallMedia(
  speechSettings: SpeechSettings,
  mediaSettings: MediaSettings,
  store: MediaStore,
  policy: UrlPolicy,
  log: Logger,
  metrics?: Metrics,
): Promise<CallMedia> {
  const locator = mediaLocator(mediaSettings);
  const engine = await speechEngine(speechSettings, log);
  const sox = await probeSox();
  if (!sox.mp3) log.warn({}, '<Play> of mp3 files will fail: sox cannot read mp3 (apt-get install -y libsox-fmt-mp3)');
  const speech = new TtsSpeech({
    engine,
    store,
    locator,
    log,
    renderTimeoutMs: speechSettings.renderTimeoutMs,
    prerenderConcurrency: speechSettings.prerenderConcurrency,
    ...(metrics === undefined ? {} : { metrics }),
  });
  const { fetch } = mediaSettings;
  const audio = new RemoteAudio({
    store,
    locator,
    policy,
    recordings: NO_RECORDINGS,
    log,
    maxBytes: fetch.maxBytes,
    fetchTimeoutMs: fetch.timeoutMs,
    transcodeTimeoutMs: fetch.transcodeTimeoutMs,
    revalidateAfterMs: fetch.revalidateAfterMs,
    ...(metrics === undefined ? {} : { metrics }),
  });
  return { speech, audio };
}
