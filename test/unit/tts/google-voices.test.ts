import { expect } from 'chai';
import { canonicalLanguage, googleVoiceKey, languageOfVoiceName, pickListedVoice } from '../../../lib/tts/google-voices.js';
import type { Voice } from '../../../lib/xml/index.js';

const LISTED = [
  { name: 'en-US-Wavenet-D', ssmlGender: 'MALE', languageCodes: ['en-US'] },
  { name: 'en-US-Wavenet-C', ssmlGender: 'FEMALE', languageCodes: ['en-US'] },
  { name: 'en-US-Standard-B', ssmlGender: 'MALE', languageCodes: ['en-US'] },
  { name: 'en-US-Standard-C', ssmlGender: 'FEMALE', languageCodes: ['en-US'] },
  { name: 'en-US-Standard-E', ssmlGender: 'FEMALE', languageCodes: ['en-US'] },
  { name: 'en-US-Neural2-A', ssmlGender: 'MALE', languageCodes: ['en-US'] },
  { name: 'en-GB-Wavenet-A', ssmlGender: 'FEMALE', languageCodes: ['en-GB'] },
];
const voice = (lang: string, type: Voice['type'], gender: Voice['gender']): Voice => ({ lang, type, gender });

describe('Google voices', () => {
  it('writes language tags with Google casing', () => {
    expect(canonicalLanguage('en-us')).to.equal('en-US');
    expect(canonicalLanguage('PT_br')).to.equal('pt-BR');
    expect(canonicalLanguage('es-419')).to.equal('es-419');
    expect(canonicalLanguage('cmn-hant-tw')).to.equal('cmn-Hant-TW');
    expect(canonicalLanguage('de')).to.equal('de');
  });

  it('reads the language of a voice name, else keeps the Say language', () => {
    expect(languageOfVoiceName('en-GB-Wavenet-B', 'fr-FR')).to.equal('en-GB');
    expect(languageOfVoiceName('cmn-CN-Standard-A', 'en-US')).to.equal('cmn-CN');
    expect(languageOfVoiceName('custom', 'fr-fr')).to.equal('fr-FR');
  });

  it('keys the choice: a code alone, else language, family and gender', () => {
    expect(googleVoiceKey({ lang: 'en-us', type: 'WaveNet', gender: 'MALE' })).to.equal('en-US/Wavenet/MALE');
    expect(googleVoiceKey({ lang: 'en-US', type: 'Standard', gender: 'FEMALE' })).to.equal('en-US/Standard/FEMALE');
    expect(googleVoiceKey({ lang: 'en-US', type: 'Standard', gender: 'FEMALE', code: 'en-US-Wavenet-D' })).to.equal('name=en-US-Wavenet-D');
  });

  it('picks the first listed voice of the family and gender, then of the family', () => {
    expect(pickListedVoice(LISTED, voice('en-US', 'Standard', 'FEMALE'))).to.equal('en-US-Standard-C');
    expect(pickListedVoice(LISTED, voice('en-US', 'Standard', 'MALE'))).to.equal('en-US-Standard-B');
    expect(pickListedVoice(LISTED, voice('en-US', 'WaveNet', 'FEMALE'))).to.equal('en-US-Wavenet-C');
    expect(pickListedVoice(LISTED, voice('en-US', 'WaveNet', 'MALE'))).to.equal('en-US-Wavenet-D');
    expect(pickListedVoice(LISTED, voice('en-GB', 'WaveNet', 'MALE'))).to.equal('en-GB-Wavenet-A');
    expect(pickListedVoice(LISTED, voice('en-GB', 'Standard', 'MALE'))).to.equal(undefined);
    expect(pickListedVoice([], voice('en-US', 'Standard', 'MALE'))).to.equal(undefined);
  });
});
