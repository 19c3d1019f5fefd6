// A RIFF/WAVE header reader: walks the chunks (LIST, fact, bext… may stand before `data`),
// reads `fmt ` and locates `data`. It reads only the headers, never the samples, so it
// is cheap on large files.
import { open } from 'node:fs/promises';

export type WavErrorCode = 'not_wav' | 'truncated' | 'bad_format' | 'no_data';

export class WavError extends Error {
  readonly code: WavErrorCode;
  constructor(code: WavErrorCode, message: string) {
    super(message);
    this.name = 'WavError';
    this.code = code;
  }
}

export const WAVE_FORMAT_PCM = 0x0001;
export const WAVE_FORMAT_IEEE_FLOAT = 0x0003;
export const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

export interface WavInfo {
  /** The format tag; for WAVE_FORMAT_EXTENSIBLE, the sub-format's tag (1 = PCM). */
  readonly formatTag: number;
  /** True when the format tag was WAVE_FORMAT_EXTENSIBLE. */
  readonly extensible: boolean;
  readonly channels: number;
  readonly sampleRate: number;
  readonly bitsPerSample: number;
  readonly blockAlign: number;
  readonly byteRate: number;
  /** Where the samples start in the file. */
  readonly dataOffset: number;
  readonly dataBytes: number;
  readonly durationMs: number;
}

/** Reads `length` bytes at `offset`; fewer at the end of the input. */
type ReadAt = (offset: number, length: number) => Promise<Buffer>;

// More chunks than this before `data` is not a real file.
const MAX_CHUNKS = 1000;
// The tail of WAVE_FORMAT_EXTENSIBLE's sub-format GUID, shared by every standard format.
const KSDATAFORMAT_TAIL = Buffer.from('000000001000800000aa00389b71', 'hex');

async function readExactly(readAt: ReadAt, offset: number, length: number, what: string): Promise<Buffer> {
  const bytes = await readAt(offset, length);
  if (bytes.length < length) throw new WavError('truncated', `the file ends inside ${what}`);
  return bytes;
}

interface Format {
  formatTag: number;
  extensible: boolean;
  channels: number;
  sampleRate: number;
  byteRate: number;
  blockAlign: number;
  bitsPerSample: number;
}

function parseFormat(fmt: Buffer): Format {
  if (fmt.length < 16) throw new WavError('bad_format', `the fmt chunk is ${fmt.length} bytes, at least 16 expected`);
  const tag = fmt.readUInt16LE(0);
  const format: Format = {
    formatTag: tag,
    extensible: tag === WAVE_FORMAT_EXTENSIBLE,
    channels: fmt.readUInt16LE(2),
    sampleRate: fmt.readUInt32LE(4),
    byteRate: fmt.readUInt32LE(8),
    blockAlign: fmt.readUInt16LE(12),
    bitsPerSample: fmt.readUInt16LE(14),
  };
  if (format.extensible) {
    // cbSize (2), valid bits (2), channel mask (4), then the 16-byte sub-format GUID.
    if (fmt.length < 40) throw new WavError('bad_format', 'the extensible fmt chunk is too short');
    const guid = fmt.subarray(24, 40);
    if (!guid.subarray(2).equals(KSDATAFORMAT_TAIL)) throw new WavError('bad_format', 'unknown extensible sub-format');
    format.formatTag = guid.readUInt16LE(0);
  }
  if (format.channels === 0) throw new WavError('bad_format', 'the file declares no channels');
  if (format.sampleRate === 0) throw new WavError('bad_format', 'the file declares a sample rate of 0');
  if (format.blockAlign === 0) throw new WavError('bad_format', 'the file declares a block size of 0');
  if (format.formatTag === WAVE_FORMAT_PCM) {
    if (![8, 16, 24, 32].includes(format.bitsPerSample)) {
      throw new WavError('bad_format', `${format.bitsPerSample}-bit PCM is not supported`);
    }
    if (format.blockAlign !== format.channels * (format.bitsPerSample / 8)) {
      throw new WavError('bad_format', 'the block size does not match the channels and sample size');
    }
  }
  return format;
}

async function parse(readAt: ReadAt, size: number): Promise<WavInfo> {
  const riff = await readAt(0, 12);
  if (riff.length < 12 || riff.toString('latin1', 0, 4) !== 'RIFF' || riff.toString('latin1', 8, 12) !== 'WAVE') {
    throw new WavError('not_wav', 'not a RIFF/WAVE file');
  }
  let format: Format | undefined;
  let offset = 12;
  for (let chunks = 0; chunks < MAX_CHUNKS; chunks++) {
    if (offset + 8 > size) break;
    const header = await readExactly(readAt, offset, 8, 'a chunk header');
    const id = header.toString('latin1', 0, 4);
    const length = header.readUInt32LE(4);
    const body = offset + 8;
    if (id === 'fmt ') {
      format = parseFormat(await readExactly(readAt, body, Math.min(length, 64), 'the fmt chunk'));
    } else if (id === 'data') {
      if (!format) throw new WavError('bad_format', 'the data chunk comes before the fmt chunk');
      if (body + length > size) {
        throw new WavError('truncated', `the data chunk declares ${length} bytes but ${size - body} follow`);
      }
      const durationMs = format.byteRate > 0 ? (length / format.byteRate) * 1000 : 0;
      return { ...format, dataOffset: body, dataBytes: length, durationMs };
    }
    // Chunks are padded to an even length.
    offset = body + length + (length % 2);
  }
  throw new WavError(format ? 'no_data' : 'bad_format', format ? 'no data chunk' : 'no fmt chunk');
}

/** Parses the header of a WAV file held in memory. @throws WavError */
export function parseWav(bytes: Buffer): Promise<WavInfo> {
  const readAt: ReadAt = async (offset, length) => bytes.subarray(offset, offset + length);
  return parse(readAt, bytes.length);
}

/** Reads the header of a WAV file on disk (the samples are not read). @throws WavError */
export async function readWavFile(path: string): Promise<WavInfo> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const readAt: ReadAt = async (offset, length) => {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, offset);
      return buffer.subarray(0, bytesRead);
    };
    return await parse(readAt, size);
  } finally {
    await handle.close();
  }
}

/** What Asterisk plays without converting: 8 kHz mono 16-bit PCM. */
export function isTelephonyWav(info: WavInfo): boolean {
  return info.formatTag === WAVE_FORMAT_PCM && info.channels === 1 && info.sampleRate === 8000 && info.bitsPerSample === 16;
}
