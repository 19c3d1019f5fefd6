import { expect } from 'chai';
import { detectAudioType } from '../../../lib/media/audio-type.js';

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);
const text = (s: string): Uint8Array => Buffer.from(s, 'latin1');

describe('audio type detection', () => {
  it('recognises RIFF/WAVE whatever the Content-Type says', () => {
    expect(detectAudioType(text('RIFF\x24\x00\x00\x00WAVEfmt '))).to.equal('wav');
    expect(detectAudioType(text('RIFF\x24\x00\x00\x00WAVEfmt '), 'audio/mpeg')).to.equal('wav');
  });

  it('recognises mp3 by its ID3 tag or an MPEG audio frame header', () => {
    expect(detectAudioType(text('ID3\x04\x00\x00\x00\x00\x00\x00'))).to.equal('mp3');
    expect(detectAudioType(bytes(0xff, 0xfb, 0x90, 0x64))).to.equal('mp3'); // MPEG-1 layer III
    expect(detectAudioType(bytes(0xff, 0xf3, 0x48, 0xc4))).to.equal('mp3'); // MPEG-2 layer III
    expect(detectAudioType(bytes(0xff, 0xfb), 'audio/wav')).to.equal('mp3');
  });

  it('does not take reserved MPEG versions or layers, or ADTS AAC, for mp3', () => {
    expect(detectAudioType(bytes(0xff, 0xe9, 0x90, 0x64))).to.equal(undefined); // reserved version
    expect(detectAudioType(bytes(0xff, 0xf9, 0x90, 0x64))).to.equal(undefined); // layer bits 00: AAC ADTS
  });

  it('falls back to an mp3 Content-Type, but not to a wav one', () => {
    const junk = text('\x00\x00\x00\x00hello');
    expect(detectAudioType(junk, 'audio/mpeg')).to.equal('mp3');
    expect(detectAudioType(junk, 'Audio/MP3; charset=binary')).to.equal('mp3');
    expect(detectAudioType(junk, 'audio/wav')).to.equal(undefined);
    expect(detectAudioType(junk, 'application/octet-stream')).to.equal(undefined);
    expect(detectAudioType(junk)).to.equal(undefined);
    expect(detectAudioType(bytes())).to.equal(undefined);
  });

  it('refuses an HTML page served in place of the audio', () => {
    expect(detectAudioType(text('<html><body>'), 'text/html')).to.equal(undefined);
  });
});
