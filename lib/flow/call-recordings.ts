// The recordings one call made, by tag: `<Play record="tag">` plays them back. They belong
// to the call: no other call can play them (each call has its own interpreter).
import { VerbFailure } from './failure.js';
import type { AudioSource, MediaRef, Recording } from './ports.js';

export class CallRecordings {
  private readonly byTag = new Map<string, Recording>();

  /** Remembers a stored recording; a later one under the same tag replaces it. */
  add(tag: string, recording: Recording): void {
    this.byTag.set(tag, recording);
  }

  /** Every recording by tag, to save with the call's position. */
  entries(): [string, Recording][] {
    return [...this.byTag.entries()];
  }

  get(tag: string): Recording | undefined {
    return this.byTag.get(tag);
  }

  /**
   * `base` for remote audio, this call's recordings for `record="tag"`. `base.fromRecording`
   * is not asked: a recording of another call is never played.
   */
  audioSource(base: AudioSource): AudioSource {
    return {
      fromUrl: (url, signal) => base.fromUrl(url, signal),
      fromRecording: async (tag): Promise<MediaRef> => {
        const recording = this.byTag.get(tag);
        if (recording === undefined) throw new VerbFailure('media', `no recording named "${tag}"`);
        return recording.media;
      },
    };
  }
}
