// What the flow plays on an ARI channel, until the speech and media issues land.
import { VerbFailure } from '../flow/failure.js';
import type { AudioSource, MediaRef, Speech } from '../flow/ports.js';

/** No speech engine yet: `<Say>` fails clearly and its error branch runs. */
export class NoSpeechEngine implements Speech {
  async render(): Promise<MediaRef> {
    throw new VerbFailure('speech', 'no speech engine is configured');
  }
}

/** `<Play>` sources as URIs Asterisk plays itself (it fetches http(s) sounds). */
export class AriAudioSource implements AudioSource {
  async fromUrl(url: string): Promise<MediaRef> {
    return { kind: 'sound', uri: `sound:${url}` };
  }

  async fromRecording(tag: string): Promise<MediaRef> {
    return { kind: 'recording', tag };
  }
}

/** The media URI for ARI's play operation. */
export function mediaUri(media: MediaRef): string {
  switch (media.kind) {
    case 'sound':
      return media.uri;
    case 'recording':
      return `recording:${media.tag}`;
    case 'url':
      return `sound:${media.url}`;
    case 'speech':
      throw new VerbFailure('speech', 'speech must be rendered before it can be played');
  }
}
