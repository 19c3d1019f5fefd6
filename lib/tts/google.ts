// Google Cloud Text-to-Speech over its REST API (v1): `POST /v1/text:synthesize` with
// LINEAR16 at 8000 Hz, the answer's base64 WAV normalised into the telephony format.
import got, { type Headers, type Response } from 'got';
import { z } from 'zod';
import type { Logger } from '../flow/ports.js';
import type { Voice } from '../xml/index.js';
import type { SpeechEngine } from './engine.js';
import { SpeechError } from './errors.js';
import {
  canonicalLanguage,
  googleVoiceKey,
  languageOfVoiceName,
  pickListedVoice,
  type GoogleVoiceSelection,
  type ListedVoice,
} from './google-voices.js';
import { TELEPHONY_RATE, writeTelephonyWav } from './telephony-wav.js';

export const GOOGLE_TTS_ENDPOINT = 'https://texttospeech.googleapis.com';

export interface GoogleTtsOptions {
  readonly log: Logger;
  /** Scheme, host and optional port (default `https://texttospeech.googleapis.com`). */
  readonly endpoint?: string;
  /** Sent as `x-goog-api-key`. One of `apiKey` and `bearerToken` is required. */
  readonly apiKey?: string;
  /** An OAuth access token, sent as `Authorization: Bearer …`. */
  readonly bearerToken?: string;
  /** Time-out of one HTTP request (default 10000 ms). */
  readonly requestTimeoutMs?: number;
  /** The sox executable, used only when Google answers another format than asked for. */
  readonly sox?: string;
}

const SynthesizeAnswer = z.object({ audioContent: z.string().min(1) });
const VoicesAnswer = z.object({
  voices: z
    .array(z.object({ name: z.string(), ssmlGender: z.string().optional(), languageCodes: z.array(z.string()).optional() }))
    .optional(),
});
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
// A language whose voice list could not be read is asked again after this long.
const VOICE_LIST_RETRY_MS = 60_000;
// `lang` comes from documents: past this many languages the remembered lists start over.
const MAX_VOICE_LISTS = 200;
const ERROR_DETAIL_LIMIT = 300;

export class GoogleTtsEngine implements SpeechEngine {
  readonly name = 'google';
  readonly #log: Logger;
  readonly #endpoint: string;
  readonly #headers: Headers;
  readonly #timeoutMs: number;
  readonly #sox: string | undefined;
  readonly #voiceLists = new Map<string, { voices: Promise<readonly ListedVoice[]>; failedAt?: number }>();

  /** @throws SpeechError 'config' without credentials or with an unusable endpoint */
  constructor(options: GoogleTtsOptions) {
    this.#log = options.log;
    this.#endpoint = checkEndpoint(options.endpoint ?? GOOGLE_TTS_ENDPOINT);
    if (options.apiKey) this.#headers = { 'x-goog-api-key': options.apiKey };
    else if (options.bearerToken) this.#headers = { authorization: `Bearer ${options.bearerToken}` };
    else throw new SpeechError('config', 'the Google engine needs an API key or a bearer token');
    this.#timeoutMs = options.requestTimeoutMs ?? 10_000;
    this.#sox = options.sox;
  }

  voiceKey(voice: Voice): string {
    return googleVoiceKey(voice);
  }

  async synthesize(text: string, voice: Voice, outPath: string, signal: AbortSignal): Promise<void> {
    const selection = await this.#select(voice);
    const response = await this.#request('POST', '/v1/text:synthesize', signal, {
      input: { text },
      voice: selection,
      audioConfig: { audioEncoding: 'LINEAR16', sampleRateHertz: TELEPHONY_RATE },
    });
    const answer = SynthesizeAnswer.safeParse(parseJson(response.body));
    if (!answer.success || !BASE64.test(answer.data.audioContent)) {
      throw new SpeechError('bad_audio', 'the answer has no base64 audioContent');
    }
    const audio = Buffer.from(answer.data.audioContent, 'base64');
    await writeTelephonyWav(audio, outPath, { signal, ...(this.#sox === undefined ? {} : { sox: this.#sox }) });
  }

  async #select(voice: Voice): Promise<GoogleVoiceSelection> {
    if (voice.code !== undefined && voice.code.trim() !== '') {
      const name = voice.code.trim();
      return { languageCode: languageOfVoiceName(name, voice.lang), name, ssmlGender: voice.gender };
    }
    const languageCode = canonicalLanguage(voice.lang);
    const name = pickListedVoice(await this.#voicesFor(languageCode), voice);
    return name === undefined ? { languageCode, ssmlGender: voice.gender } : { languageCode, name, ssmlGender: voice.gender };
  }

  /** Google's voices for a language, asked once per process; [] when unknown. */
  #voicesFor(languageCode: string): Promise<readonly ListedVoice[]> {
    const cached = this.#voiceLists.get(languageCode);
    if (cached && (cached.failedAt === undefined || Date.now() - cached.failedAt < VOICE_LIST_RETRY_MS)) return cached.voices;
    const entry: { voices: Promise<readonly ListedVoice[]>; failedAt?: number } = { voices: Promise.resolve([]) };
    // Not tied to one caller's signal: the list serves every later caller.
    const listSignal = AbortSignal.timeout(this.#timeoutMs);
    entry.voices = this.#request('GET', `/v1/voices?languageCode=${encodeURIComponent(languageCode)}`, listSignal)
      .then((response) => VoicesAnswer.parse(parseJson(response.body)).voices ?? [])
      .catch((error: unknown) => {
        entry.failedAt = Date.now();
        this.#log.warn({ err: error, languageCode }, 'could not list the Google voices; Google chooses by language and gender');
        return [];
      });
    if (this.#voiceLists.size >= MAX_VOICE_LISTS) this.#voiceLists.clear();
    this.#voiceLists.set(languageCode, entry);
    return entry.voices;
  }

  async #request(method: 'GET' | 'POST', path: string, signal: AbortSignal, json?: object): Promise<Response<string>> {
    let response: Response<string>;
    try {
      response = await got(`${this.#endpoint}${path}`, {
        method,
        headers: { ...this.#headers, accept: 'application/json' },
        ...(json === undefined ? {} : { json }),
        timeout: { request: this.#timeoutMs },
        retry: { limit: 0 },
        throwHttpErrors: false,
        followRedirect: false,
        responseType: 'text',
        signal,
      });
    } catch (error) {
      if (signal.aborted) throw new SpeechError('cancelled', `${method} ${path} cancelled`, { cause: error });
      const code = error instanceof Error && 'code' in error ? String(error.code) : '';
      if (code === 'ETIMEDOUT') throw new SpeechError('timeout', `${method} ${path}: no answer within ${this.#timeoutMs} ms`, { cause: error });
      throw new SpeechError('network', `${method} ${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    if (response.statusCode !== 200) {
      const status = response.statusCode;
      throw new SpeechError('http_status', `${method} ${path} answered ${status}: ${errorDetail(response.body)}`, { status });
    }
    return response;
  }
}

function checkEndpoint(endpoint: string): string {
  const base = endpoint.replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new SpeechError('config', `the Google endpoint "${endpoint}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new SpeechError('config', `the Google endpoint "${endpoint}" is not an http or https URL`);
  }
  return base;
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw new SpeechError('bad_audio', 'the answer is not JSON');
  }
}

/** Google's error message (`{ error: { message } }`), else the start of the body. */
function errorDetail(body: string): string {
  const parsed = z.object({ error: z.object({ message: z.string() }) }).safeParse(safeJson(body));
  return (parsed.success ? parsed.data.error.message : body).slice(0, ERROR_DETAIL_LIMIT);
}

function safeJson(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}
