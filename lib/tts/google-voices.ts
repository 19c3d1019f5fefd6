// From a Say voice to Google Cloud Text-to-Speech's VoiceSelectionParams.
//
// - `code` is the voice name, used as it is (`en-US-Wavenet-D`); its language code is
//   taken from the name's first two parts, else from `lang`.
// - Without `code`, `type` picks the family (Standard → `-Standard-`, WaveNet → `-Wavenet-`)
//   and `gender` the voice inside it, among the voices Google lists for the language
//   (`GET /v1/voices?languageCode=`): the first by name of that family and gender, else
//   of that family. When the list has none (or cannot be read), no name is sent and Google
//   chooses by `languageCode` and `ssmlGender`, as its API documents.
import type { Gender, Voice, VoiceType } from '../xml/index.js';

export interface GoogleVoiceSelection {
  readonly languageCode: string;
  readonly name?: string;
  readonly ssmlGender: Gender;
}

/** One entry of `voices.list`. */
export interface ListedVoice {
  readonly name: string;
  readonly ssmlGender?: string;
  readonly languageCodes?: readonly string[];
}

export const FAMILY: Readonly<Record<VoiceType, string>> = { Standard: 'Standard', WaveNet: 'Wavenet' };

/** BCP-47 with Google's casing: `en-us` → `en-US`, `cmn-hant-tw` → `cmn-Hant-TW`, `es-419`. */
export function canonicalLanguage(lang: string): string {
  const [primary = '', ...rest] = lang.trim().replace(/_/g, '-').split('-');
  const parts = rest.map((part) => {
    if (part.length === 4 && /^[a-z]+$/i.test(part)) return part[0]?.toUpperCase() + part.slice(1).toLowerCase();
    if (part.length === 2 || /^\d{3}$/.test(part)) return part.toUpperCase();
    return part.toLowerCase();
  });
  return [primary.toLowerCase(), ...parts].join('-');
}

const LANGUAGE_OF_NAME = /^([a-z]{2,3}-[a-z0-9]{2,4})-/i;

/** The language code a `code` voice name speaks, or `lang` when the name does not say. */
export function languageOfVoiceName(name: string, lang: string): string {
  const match = LANGUAGE_OF_NAME.exec(name.trim());
  return canonicalLanguage(match?.[1] ?? lang);
}

/** The part of the choice that does not depend on Google's answer: the cache key. */
export function googleVoiceKey(voice: Voice): string {
  if (voice.code !== undefined) return `name=${voice.code.trim()}`;
  return `${canonicalLanguage(voice.lang)}/${FAMILY[voice.type]}/${voice.gender}`;
}

/** Picks a voice name from Google's list for the language (see the top of this file). */
export function pickListedVoice(listed: readonly ListedVoice[], voice: Voice): string | undefined {
  const language = canonicalLanguage(voice.lang).toLowerCase();
  const family = `-${FAMILY[voice.type]}-`.toLowerCase();
  const candidates = listed
    .filter((v) => v.name.toLowerCase().includes(family))
    .filter((v) => (v.languageCodes ?? []).some((code) => code.toLowerCase() === language))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return (candidates.find((v) => v.ssmlGender === voice.gender) ?? candidates[0])?.name;
}
