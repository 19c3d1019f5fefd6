// IPv6 addresses that carry an IPv4 address inside them, so that the outbound URL policy
// can judge the IPv4 address a connection would really reach (a NAT64 gateway, a 6to4 or
// Teredo relay, or a stack that still routes IPv4-compatible addresses delivers the
// packets to it).

/** How an IPv6 address embeds an IPv4 address. */
export type EmbeddingForm = 'ipv4-compatible' | 'ipv4-mapped' | 'ipv4-translated' | 'nat64' | '6to4' | 'teredo';

export interface EmbeddedIpv4 {
  readonly form: EmbeddingForm;
  /** Dotted quad. */
  readonly ipv4: string;
}

const FORM_WORDS: Record<EmbeddingForm, string> = {
  'ipv4-compatible': 'an IPv4-compatible IPv6 address',
  'ipv4-mapped': 'an IPv4-mapped IPv6 address',
  'ipv4-translated': 'an IPv4-translated IPv6 address',
  nat64: 'a NAT64 address',
  '6to4': 'a 6to4 address',
  teredo: 'a Teredo address',
};

/** `a NAT64 address`, … : the form in words. */
export function formWords(form: EmbeddingForm): string {
  return FORM_WORDS[form];
}

/**
 * The 16 bytes of an IPv6 address in any text form (`::`, a trailing dotted quad, a
 * `%zone`), or undefined when the text is not one.
 */
export function ipv6Bytes(text: string): Uint8Array | undefined {
  const address = text.split('%')[0] ?? '';
  const groups: number[] = [];
  const halves = address.split('::');
  if (halves.length > 2) return undefined;
  const parsed = halves.map(parseGroups);
  const [head, tail] = parsed;
  if (head === undefined || parsed.some((p) => p === undefined)) return undefined;
  if (tail === undefined) {
    if (head.length !== 8) return undefined;
    groups.push(...head);
  } else {
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return undefined;
    groups.push(...head, ...new Array<number>(missing).fill(0), ...tail);
  }
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    bytes[i * 2] = group >> 8;
    bytes[i * 2 + 1] = group & 0xff;
  });
  return bytes;
}

/** `1:2:3` → [1, 2, 3]; a last part `1.2.3.4` counts as two groups; '' → []. */
function parseGroups(part: string | undefined): number[] | undefined {
  if (part === undefined) return undefined;
  if (part === '') return [];
  const pieces = part.split(':');
  const groups: number[] = [];
  for (const [i, piece] of pieces.entries()) {
    if (i === pieces.length - 1 && piece.includes('.')) {
      const quad = ipv4Octets(piece);
      if (!quad) return undefined;
      groups.push((quad[0] << 8) | quad[1], (quad[2] << 8) | quad[3]);
    } else if (/^[0-9a-f]{1,4}$/i.test(piece)) {
      groups.push(parseInt(piece, 16));
    } else {
      return undefined;
    }
  }
  return groups;
}

function ipv4Octets(text: string): [number, number, number, number] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  const [a = 0, b = 0, c = 0, d = 0] = parts.map(Number);
  return [a, b, c, d];
}

function quad(bytes: Uint8Array, at: number, xor = 0): string {
  return [0, 1, 2, 3].map((i) => ((bytes[at + i] ?? 0) ^ xor) & 0xff).join('.');
}

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return prefix.every((byte, i) => bytes[i] === byte);
}

const ZEROS_80 = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
const ZEROS_96 = [...ZEROS_80, 0, 0];

/**
 * The IPv4 address an IPv6 address embeds, with how:
 * - `::a.b.c.d` (IPv4-compatible, `::/96`),
 * - `::ffff:a.b.c.d` (IPv4-mapped, `::ffff:0:0/96`) and `::ffff:0:a.b.c.d` (IPv4-translated),
 * - `64:ff9b::a.b.c.d` (NAT64 well-known prefix, `64:ff9b::/96`, RFC 6052),
 * - `2002:AABB:CCDD::` (6to4, `2002::/16`: bits 16–47),
 * - `2001:0:…` (Teredo, `2001::/32`: the client is the last 32 bits, inverted).
 * Undefined for every other address (and for text that is not IPv6).
 */
export function embeddedIpv4(address: string): EmbeddedIpv4 | undefined {
  const bytes = ipv6Bytes(address);
  if (!bytes) return undefined;
  if (startsWith(bytes, ZEROS_96)) return { form: 'ipv4-compatible', ipv4: quad(bytes, 12) };
  if (startsWith(bytes, [...ZEROS_80, 0xff, 0xff])) return { form: 'ipv4-mapped', ipv4: quad(bytes, 12) };
  if (startsWith(bytes, [0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0])) return { form: 'ipv4-translated', ipv4: quad(bytes, 12) };
  if (startsWith(bytes, [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0])) return { form: 'nat64', ipv4: quad(bytes, 12) };
  if (startsWith(bytes, [0x20, 0x02])) return { form: '6to4', ipv4: quad(bytes, 2) };
  if (startsWith(bytes, [0x20, 0x01, 0x00, 0x00])) return { form: 'teredo', ipv4: quad(bytes, 12, 0xff) };
  return undefined;
}
