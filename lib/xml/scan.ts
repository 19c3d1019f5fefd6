// Checks on the raw text that xmldom does not make, or must never be given the chance to
// act on: DTD declarations (rejected before xmldom sees the text, so nothing can ever be
// expanded), characters XML forbids, and malformed or unknown references, which xmldom
// tolerates.

export interface TextFinding {
  readonly offset: number;
  readonly message: string;
}

const DECLARATION = /<!(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)/gi;

/** Every DTD declaration, wherever it stands (inside comments and CDATA too). */
export function findDeclarations(text: string): TextFinding[] {
  const found: TextFinding[] = [];
  for (const match of text.matchAll(DECLARATION)) {
    const keyword = (match[1] ?? '').toUpperCase();
    found.push({
      offset: match.index,
      message: `<!${keyword}> declarations are not allowed: documents may not have a DTD or declare entities`,
    });
  }
  return found;
}

// Characters outside XML 1.0's Char production, lone surrogates included.
const ILLEGAL_CHARACTER =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function findIllegalCharacters(text: string, limit: number): TextFinding[] {
  const found: TextFinding[] = [];
  for (const match of text.matchAll(ILLEGAL_CHARACTER)) {
    if (found.length >= limit) break;
    found.push({ offset: match.index, message: `character ${codePointName(match[0])} is not allowed in XML` });
  }
  return found;
}

const PREDEFINED = new Set(['amp', 'lt', 'gt', 'quot', 'apos']);
const REFERENCE = /&(?:#([0-9]+)|#x([0-9a-fA-F]+)|([^\s;&<>"'#][^\s;&<>"']*));/y;

/**
 * References in text and attribute values: each `&` must start `&amp;`-style predefined
 * entity or a character reference to a character XML allows. Comments, CDATA sections and
 * processing instructions are skipped: `&` is literal there.
 */
export function findBadReferences(text: string, limit: number): TextFinding[] {
  const found: TextFinding[] = [];
  const n = text.length;
  let i = 0;
  let quote = '';
  let inTag = false;

  const reference = (at: number): number => {
    REFERENCE.lastIndex = at;
    const match = REFERENCE.exec(text);
    if (!match) {
      found.push({ offset: at, message: 'a bare "&" is not allowed: write it as &amp;' });
      return at + 1;
    }
    const [whole, decimal, hex, name] = match;
    if (name !== undefined) {
      if (!PREDEFINED.has(name)) {
        found.push({
          offset: at,
          message: `unknown entity &${name.slice(0, 40)}; (only &amp; &lt; &gt; &quot; &apos; and character references are allowed)`,
        });
      }
    } else {
      const code = decimal !== undefined ? Number.parseInt(decimal, 10) : Number.parseInt(hex ?? '', 16);
      if (!isXmlCharacter(code)) {
        found.push({ offset: at, message: `${whole.slice(0, 40)} refers to a character that is not allowed in XML` });
      }
    }
    return at + whole.length;
  };

  const skipPast = (terminator: string, from: number): number => {
    const end = text.indexOf(terminator, from);
    return end === -1 ? n : end + terminator.length;
  };

  while (i < n && found.length < limit) {
    const c = text[i];
    if (inTag) {
      if (quote) {
        if (c === quote) quote = '';
        else if (c === '&') {
          i = reference(i);
          continue;
        }
      } else if (c === '"' || c === "'") quote = c;
      else if (c === '>') inTag = false;
      else if (c === '<') {
        // A broken tag: let the outer state machine restart here; xmldom reports the tag.
        inTag = false;
        continue;
      }
      i++;
      continue;
    }
    if (c === '&') {
      i = reference(i);
    } else if (c === '<') {
      if (text.startsWith('<!--', i)) i = skipPast('-->', i + 4);
      else if (text.startsWith('<![CDATA[', i)) i = skipPast(']]>', i + 9);
      else if (text.startsWith('<?', i)) i = skipPast('?>', i + 2);
      else {
        inTag = true;
        i++;
      }
    } else {
      i++;
    }
  }
  return found;
}

function isXmlCharacter(code: number): boolean {
  return (
    code === 0x9 ||
    code === 0xa ||
    code === 0xd ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    (code >= 0x10000 && code <= 0x10ffff)
  );
}

function codePointName(char: string): string {
  return `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}
