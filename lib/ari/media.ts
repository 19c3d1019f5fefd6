// What ARI's play operation is given for a MediaRef.
import { VerbFailure } from '../flow/failure.js';
import type { MediaRef } from '../flow/ports.js';

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
