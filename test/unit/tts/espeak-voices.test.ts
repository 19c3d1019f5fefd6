import { expect } from 'chai';
import { chooseEspeakVoice, parseVariantList, parseVoiceList, type EspeakCatalogue } from '../../../lib/tts/espeak-voices.js';
import type { Voice } from '../../../lib/xml/index.js';

// Excerpts of espeak-ng 1.51's own listings.
const VOICES = `Pty Language       Age/Gender VoiceName          File                 Other Languages
 5  de              --/M      German             gmw/de
 2  en-gb           --/M      English_(Great_Britain) gmw/en               (en 2)
 2  en-us           --/M      English_(America)  gmw/en-US            (en 3)
 5  en-gb-scotland  --/M      English_(Scotland) gmw/en-GB-scotland   (en 4)
 5  es              --/M      Spanish_(Spain)    roa/es
 5  es-419          --/M      Spanish_(Latin_America) roa/es-419
 5  fr-be           --/M      French_(Belgium)   roa/fr-BE            (fr 8)
 5  fr-fr           --/M      French_(France)    roa/fr               (fr 5)
 5  pt              --/M      Portuguese_(Portugal) roa/pt
 5  pt-br           --/M      Portuguese_(Brazil) roa/pt-BR            (pt 5)
 5  cmn             --/M      Chinese_(Mandarin,_latin_as_English) sit/cmn              (zh-cmn 5)(zh 5)
 5  nb              --/M      Norwegian_Bokmål   gmq/nb               (no 5)
 5  sv              --/M      Swedish            gmq/sv
 5  en-us           --/F      us-mbrola-1        mb/mb-us1            (en 8)
`;
const VARIANTS = `Pty Language       Age/Gender VoiceName          File                 Other Languages
 5  variant         --/F      female3            !v/f3
 5  variant         --/M      male3              !v/m3
 5  variant         --/M      klatt              !v/klatt
`;

const catalogue: EspeakCatalogue = { languages: new Set(parseVoiceList(VOICES)), variants: new Set(parseVariantList(VARIANTS)) };
const voice = (lang: string, gender: Voice['gender'] = 'FEMALE', code?: string): Voice => ({
  lang,
  gender,
  type: 'Standard',
  ...(code === undefined ? {} : { code }),
});

describe('espeak-ng voices', () => {
  it('parses the voice list without the mbrola voices, and the variants', () => {
    expect(parseVoiceList(VOICES)).to.deep.equal([
      'de', 'en-gb', 'en-us', 'en-gb-scotland', 'es', 'es-419', 'fr-be', 'fr-fr', 'pt', 'pt-br', 'cmn', 'nb', 'sv',
    ]);
    expect(parseVariantList(VARIANTS)).to.deep.equal(['f3', 'm3', 'klatt']);
  });

  const cases: [string, string][] = [
    ['en-US', 'en-us'],
    ['en-GB', 'en-gb'],
    ['en-AU', 'en-gb'],
    ['en-CA', 'en-us'],
    ['en', 'en-us'],
    ['fr-FR', 'fr-fr'],
    ['fr-CA', 'fr-fr'],
    ['fr-BE', 'fr-be'],
    ['de-DE', 'de'],
    ['de-AT', 'de'],
    ['es-ES', 'es'],
    ['es-MX', 'es-419'],
    ['es-US', 'es-419'],
    ['pt-BR', 'pt-br'],
    ['pt-PT', 'pt'],
    ['zh-CN', 'cmn'],
    ['cmn-CN', 'cmn'],
    ['nb-NO', 'nb'],
    ['no', 'nb'],
    ['sv-SE', 'sv'],
    ['EN_us', 'en-us'],
  ];
  it('maps BCP-47 tags to the nearest voice, f3 for female and m3 for male, silently', () => {
    for (const [lang, language] of cases) {
      expect(chooseEspeakVoice(voice(lang, 'FEMALE'), catalogue), lang).to.deep.equal({ spec: `${language}+f3` });
      expect(chooseEspeakVoice(voice(lang, 'MALE'), catalogue), lang).to.deep.equal({ spec: `${language}+m3` });
    }
  });

  it('falls back to the same language in another region, with a note', () => {
    expect(chooseEspeakVoice(voice('fr-LU'), catalogue)).to.deep.equal({
      spec: 'fr-fr+f3',
      note: { key: 'lang:fr-lu', message: 'espeak-ng has no voice for "fr-LU"; using fr-fr' },
    });
    expect(chooseEspeakVoice(voice('en-XX'), catalogue).spec).to.equal('en-us+f3');
  });

  it('falls back to American English for a language it does not speak, with a note', () => {
    expect(chooseEspeakVoice(voice('tlh-QO', 'MALE'), catalogue)).to.deep.equal({
      spec: 'en-us+m3',
      note: { key: 'lang:tlh-qo', message: 'espeak-ng has no voice for "tlh-QO"; using en-us' },
    });
  });

  it('takes a code that names an espeak voice, with or without a variant', () => {
    expect(chooseEspeakVoice(voice('en-US', 'MALE', 'en-gb-scotland'), catalogue)).to.deep.equal({ spec: 'en-gb-scotland+m3' });
    expect(chooseEspeakVoice(voice('en-US', 'MALE', 'EN-US+klatt'), catalogue)).to.deep.equal({ spec: 'en-us+klatt' });
  });

  it('ignores a code that is not an espeak voice (a Google name), with a note', () => {
    expect(chooseEspeakVoice(voice('en-GB', 'MALE', 'en-GB-Wavenet-B'), catalogue)).to.deep.equal({
      spec: 'en-gb+m3',
      note: { key: 'code:en-GB-Wavenet-B', message: 'espeak-ng has no voice "en-GB-Wavenet-B"; using en-gb+m3' },
    });
    expect(chooseEspeakVoice(voice('de-DE', 'FEMALE', 'de+nosuchvariant'), catalogue).spec).to.equal('de+f3');
  });

  it('leaves the variant out when espeak-ng has none of that name', () => {
    const bare: EspeakCatalogue = { languages: catalogue.languages, variants: new Set() };
    expect(chooseEspeakVoice(voice('de-DE'), bare)).to.deep.equal({ spec: 'de' });
  });
});
