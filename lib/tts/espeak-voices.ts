// From a Say voice (BCP-47 `lang`, `gender`, `code`) to an espeak-ng voice such as
// `en-us+f3`. The languages and variants come from the installed espeak-ng itself
// (`espeak-ng --voices`, `--voices=variant`), so the choice follows what is there.
import type { Gender, Voice } from '../xml/index.js';

export interface EspeakCatalogue {
  /** Lower-case language names of the installed espeak voices (`en-us`, `pt-br`, `de`…). */
  readonly languages: ReadonlySet<string>;
  /** Variant names (`f3`, `m3`, `klatt`…), used after a `+`. */
  readonly variants: ReadonlySet<string>;
}

export interface EspeakChoice {
  /** What `espeak-ng -v` receives. */
  readonly spec: string;
  /** Set when the choice is not what was asked for: say it once in the logs. */
  readonly note?: { readonly key: string; readonly message: string };
}

export const GENDER_VARIANTS: Readonly<Record<Gender, string>> = { FEMALE: 'f3', MALE: 'm3' };

/**
 * Where the nearest voice is not found by the generic rule (exact tag, then the bare
 * primary language): regional English, Latin-American Spanish, Chinese, Norwegian.
 */
const ALIASES: Readonly<Record<string, string>> = {
  en: 'en-us',
  'en-ca': 'en-us',
  'en-au': 'en-gb',
  'en-nz': 'en-gb',
  'en-ie': 'en-gb',
  'en-za': 'en-gb',
  'en-in': 'en-gb',
  'en-uk': 'en-gb',
  'es-es': 'es',
  fr: 'fr-fr',
  'fr-ca': 'fr-fr',
  'pt-pt': 'pt',
  zh: 'cmn',
  'zh-cn': 'cmn',
  'zh-sg': 'cmn',
  'zh-tw': 'cmn',
  'cmn-cn': 'cmn',
  'cmn-tw': 'cmn',
  'zh-hk': 'yue',
  'yue-hk': 'yue',
  no: 'nb',
  'nb-no': 'nb',
  'no-no': 'nb',
  nn: 'nb',
  'nn-no': 'nb',
  iw: 'he',
  'iw-il': 'he',
};

/** Parses `espeak-ng --voices`; mbrola voices (`mb/…`) need data espeak-ng does not ship. */
export function parseVoiceList(text: string): string[] {
  const languages: string[] = [];
  for (const line of text.split('\n').slice(1)) {
    const [, language, , , file] = line.trim().split(/\s+/);
    if (language && file && !file.startsWith('mb/')) languages.push(language.toLowerCase());
  }
  return languages;
}

/** Parses `espeak-ng --voices=variant`: the file `!v/f3` is the variant `f3`. */
export function parseVariantList(text: string): string[] {
  const variants: string[] = [];
  for (const line of text.split('\n').slice(1)) {
    const file = line.trim().split(/\s+/)[4];
    if (file?.startsWith('!v/')) variants.push(file.slice(3).toLowerCase());
  }
  return variants;
}

export function chooseEspeakVoice(voice: Voice, catalogue: EspeakCatalogue): EspeakChoice {
  const fromCode = voice.code === undefined ? undefined : codeSpec(voice.code, voice.gender, catalogue);
  if (fromCode) return { spec: fromCode };
  const { language, note } = chooseLanguage(voice.lang, catalogue);
  const spec = withGender(language, voice.gender, catalogue);
  const codeNote =
    voice.code === undefined
      ? undefined
      : { key: `code:${voice.code}`, message: `espeak-ng has no voice "${voice.code}"; using ${spec}` };
  const chosenNote = note ?? codeNote;
  return chosenNote ? { spec, note: chosenNote } : { spec };
}

function withGender(language: string, gender: Gender, catalogue: EspeakCatalogue): string {
  const variant = GENDER_VARIANTS[gender];
  return catalogue.variants.has(variant) ? `${language}+${variant}` : language;
}

/** `code` names an espeak voice: `en-gb-scotland` (gender variant added) or `en-us+klatt`. */
function codeSpec(code: string, gender: Gender, catalogue: EspeakCatalogue): string | undefined {
  const [language, variant, ...rest] = code.trim().toLowerCase().split('+');
  if (!language || rest.length > 0 || !catalogue.languages.has(language)) return undefined;
  if (variant === undefined) return withGender(language, gender, catalogue);
  return catalogue.variants.has(variant) ? `${language}+${variant}` : undefined;
}

function chooseLanguage(lang: string, catalogue: EspeakCatalogue): { language: string; note?: EspeakChoice['note'] } {
  const { languages } = catalogue;
  const tag = lang.trim().toLowerCase().replace(/_/g, '-');
  const primary = tag.split('-')[0] ?? '';
  if (languages.has(tag)) return { language: tag };
  const alias = ALIASES[tag];
  if (alias && languages.has(alias)) return { language: alias };
  if (primary === 'es' && tag !== 'es' && languages.has('es-419')) return { language: 'es-419' };
  if (languages.has(primary)) return { language: primary };
  const fallback = (language: string) => ({
    language,
    note: { key: `lang:${tag}`, message: `espeak-ng has no voice for "${lang}"; using ${language}` },
  });
  const aliasOfPrimary = ALIASES[primary];
  if (aliasOfPrimary && languages.has(aliasOfPrimary)) return fallback(aliasOfPrimary);
  const regional = [...languages].filter((l) => l.startsWith(`${primary}-`)).sort();
  const sameLanguage = regional.find((l) => l === `${primary}-${primary}`) ?? regional[0];
  if (primary !== '' && sameLanguage) return fallback(sameLanguage);
  return fallback(languages.has('en-us') ? 'en-us' : 'en');
}
