import { isUtf8 } from 'node:buffer';
import { normalizeLineEndings } from '@xmldom/xmldom';
import type { SourcePosition } from './types.js';

const BOM = '\uFEFF';

/** Maps offsets in a text to 1-based line and column (UTF-16 units, like xmldom's locator). */
export class LineIndex {
  private readonly starts: number[] = [0];

  constructor(text: string) {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }

  /** The offset of a position (the inverse of `at`). */
  offset(position: SourcePosition): number {
    return (this.starts[position.line - 1] ?? 0) + position.column - 1;
  }

  at(offset: number): SourcePosition {
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((this.starts[mid] ?? 0) <= offset) low = mid;
      else high = mid - 1;
    }
    return { line: low + 1, column: offset - (this.starts[low] ?? 0) + 1 };
  }
}

export type DecodedSource =
  | { readonly ok: true; readonly text: string }
  | { readonly ok: false; readonly message: string; readonly at: SourcePosition };

/**
 * The document as text: UTF-8 decoded (strictly, for bytes), without a byte order mark,
 * line endings normalised. Both our own scan and xmldom see exactly this text, so their
 * positions agree.
 */
export function decodeSource(input: string | Uint8Array): DecodedSource {
  if (typeof input === 'string') return { ok: true, text: normalizeLineEndings(stripBom(input)) };
  const bytes = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (!isUtf8(bytes)) {
    const offset = firstInvalidUtf8(bytes);
    const before = normalizeLineEndings(stripBom(bytes.subarray(0, offset).toString('utf8')));
    const byte = (bytes[offset] ?? 0).toString(16).toUpperCase().padStart(2, '0');
    return {
      ok: false,
      message: `the document is not valid UTF-8 (byte 0x${byte})`,
      at: new LineIndex(before).at(before.length),
    };
  }
  return { ok: true, text: normalizeLineEndings(stripBom(bytes.toString('utf8'))) };
}

function stripBom(text: string): string {
  return text.startsWith(BOM) ? text.slice(1) : text;
}

/** Offset of the first byte that does not start a well-formed UTF-8 sequence. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] ?? 0;
    let need: number;
    let min: number;
    if (b < 0x80) {
      i += 1;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else {
      return i;
    }
    if (i + need >= bytes.length) return i;
    let code = b & (0xff >> (need + 2));
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k] ?? 0;
      if ((c & 0xc0) !== 0x80) return i;
      code = (code << 6) | (c & 0x3f);
    }
    if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return i;
    i += need + 1;
  }
  return bytes.length;
}
