// How Asterisk reaches a stored file: over HTTP from this application's media route, or
// straight from a directory it shares with the store.
import { isAbsolute } from 'node:path';
import type { MediaRef } from '../flow/ports.js';
import type { StoredMedia } from './store.js';

export type MediaLocator = (media: StoredMedia) => MediaRef;

export type MediaLocatorErrorCode = 'invalid_base_url' | 'invalid_directory';

export class MediaLocatorError extends Error {
  readonly code: MediaLocatorErrorCode;
  constructor(code: MediaLocatorErrorCode, message: string) {
    super(message);
    this.name = 'MediaLocatorError';
    this.code = code;
  }
}

/**
 * `sound:<base>/media/<id>.wav`. Asterisk's HTTP media cache keys on the URL, and the
 * 64-character content hash keeps every URL long enough for its buffer (Asterisk 22 fails
 * on URLs shorter than about 45 characters).
 * @throws MediaLocatorError when the base is not an http(s) URL without query or fragment
 */
export function httpLocator(publicBaseUrl: string): MediaLocator {
  const base = publicBaseUrl.replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new MediaLocatorError('invalid_base_url', `"${publicBaseUrl}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new MediaLocatorError('invalid_base_url', `"${publicBaseUrl}" is not an http or https URL`);
  }
  if (url.search !== '' || url.hash !== '' || base.endsWith('?') || base.endsWith('#')) {
    throw new MediaLocatorError('invalid_base_url', `"${publicBaseUrl}" must not have a query or a fragment`);
  }
  return (media) => ({ kind: 'sound', uri: `sound:${base}/media/${media.id}.wav` });
}

/**
 * `sound:<dir>/<id>`: Asterisk reads the store's directory itself and adds the extension.
 * @throws MediaLocatorError when the directory is not an absolute path
 */
export function directoryLocator(mediaDir: string): MediaLocator {
  if (!isAbsolute(mediaDir)) {
    throw new MediaLocatorError('invalid_directory', `"${mediaDir}" is not an absolute path`);
  }
  const dir = mediaDir.length > 1 ? mediaDir.replace(/\/+$/, '') : mediaDir;
  return (media) => ({ kind: 'sound', uri: `sound:${dir === '/' ? '' : dir}/${media.id}` });
}
