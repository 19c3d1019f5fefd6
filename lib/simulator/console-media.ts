import type { AudioSource, MediaRef, Speech } from '../flow/ports.js';
import type { Voice } from '../xml/index.js';

/** Speech and audio for the simulator: nothing is rendered, the caller "hears" the source. */
export class ConsoleMedia implements Speech, AudioSource {
  async render(text: string, voice: Voice): Promise<MediaRef> {
    return { kind: 'speech', text, voice };
  }

  async fromUrl(url: string): Promise<MediaRef> {
    return { kind: 'url', url };
  }

  async fromRecording(tag: string): Promise<MediaRef> {
    return { kind: 'recording', tag };
  }
}
