// Which decoder an input needs. The bytes decide, not the file name: a URL ending in
// `.wav` may well serve an mp3, and a CDN may label anything `application/octet-stream`.
import { open } from 'node:fs/promises';

export type AudioType = 'wav' | 'mp3';

/** Bytes `detectAudioType` looks at. */
export const SNIFF_BYTES = 12;

const MPEG_TYPES = new Set(['audio/mpeg', 'audio/mp3', 'audio/mpeg3', 'audio/x-mpeg', 'audio/x-mpeg-3', 'audio/x-mp3']);

function isMpegFrameSync(head: Uint8Array): boolean {
  const [b0, b1] = head;
  if (b0 === undefined || b1 === undefined) return false;
  // 11 sync bits, then a version other than "reserved" and a layer other than "reserved".
  return b0 === 0xff && (b1 & 0xe0) === 0xe0 && (b1 & 0x18) !== 0x08 && (b1 & 0x06) !== 0;
}

function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/**
 * The input's type from its first bytes: `RIFF….WAVE` is wav; an ID3v2 tag or an MPEG
 * audio frame header is mp3. When the bytes say neither, an mp3 Content-Type still
 * counts (some encoders put padding before the first frame; the decoder resyncs), but a
 * wav Content-Type does not: a WAV file cannot be decoded without its RIFF header.
 */
export function detectAudioType(head: Uint8Array, contentType?: string): AudioType | undefined {
  const text = Buffer.from(head.subarray(0, SNIFF_BYTES)).toString('latin1');
  if (text.startsWith('RIFF') && text.slice(8, 12) === 'WAVE') return 'wav';
  if (text.startsWith('ID3') || isMpegFrameSync(head)) return 'mp3';
  return MPEG_TYPES.has(mediaType(contentType)) ? 'mp3' : undefined;
}

/** The first bytes of a file, for `detectAudioType`. */
export async function sniffFile(path: string): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, SNIFF_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
