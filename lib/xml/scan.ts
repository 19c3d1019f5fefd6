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

const S = /[ \t\n]/;
const NAME_START_CHARS =
  ':A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C\\u200D\\u2070-\\u218F' +
  '\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\uD800-\\uDFFF';
const NAME_CHARS = `${NAME_START_CHARS}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040`;
const NAME = new RegExp(`[${NAME_START_CHARS}][${NAME_CHARS}]*`, 'y');
const END_TAG = new RegExp(`^([${NAME_START_CHARS}][${NAME_CHARS}]*)[ \\t\\n]*$`);

interface OpenElement {
  readonly name: string;
  readonly offset: number;
}

/**
 * The element structure, which xmldom reports without a usable position (it places an end
 * tag problem at the last start tag it read): end tags that are malformed, match no open
 * element or close another one, elements never closed, a second root element, text and
 * `]]>` where XML does not allow them. Reading stops at the first start tag that cannot be
 * read (xmldom reports that one where it stands): what follows it is guesswork.
 */
export function findStructureProblems(text: string, limit: number, lines: { at(offset: number): { line: number; column: number } }): TextFinding[] {
  const found: TextFinding[] = [];
  const open: OpenElement[] = [];
  const n = text.length;
  let rootSeen = false;
  let textBeforeRoot: number | undefined;
  let i = 0;

  const where = (offset: number): string => {
    const at = lines.at(offset);
    return `line ${at.line}, column ${at.column}`;
  };
  const skipPast = (terminator: string, from: number): number => {
    const end = text.indexOf(terminator, from);
    return end === -1 ? n : end + terminator.length;
  };
  const content = (from: number, to: number): void => {
    if (open.length === 0) {
      let k = from;
      while (k < to && S.test(text[k] ?? '')) k++;
      if (k === to) return;
      if (!rootSeen) textBeforeRoot ??= k;
      else found.push({ offset: k, message: `text after the root element is not allowed: ${quoteText(text.slice(k, to).trim())}` });
      return;
    }
    for (let k = text.indexOf(']]>', from); k !== -1 && k + 3 <= to; k = text.indexOf(']]>', k + 1)) {
      found.push({ offset: k, message: '"]]>" is not allowed in text: it only ends a CDATA section; write "]]&gt;"' });
    }
  };

  scan: while (i < n && found.length < limit) {
    const lt = text.indexOf('<', i);
    content(i, lt === -1 ? n : lt);
    if (lt === -1) break;
    i = lt;
    if (text.startsWith('<!--', i)) i = skipPast('-->', i + 4);
    else if (text.startsWith('<![CDATA[', i)) i = skipPast(']]>', i + 9);
    else if (text.startsWith('<?', i)) i = skipPast('?>', i + 2);
    else if (text.startsWith('<!', i)) break; // a declaration (refused before) or not XML: xmldom says
    else if (text.startsWith('</', i)) {
      const end = text.indexOf('>', i + 2);
      const raw = text.slice(i + 2, end === -1 ? n : end);
      if (end === -1) {
        found.push({ offset: i, message: `end tag ${quoteText(`</${raw}`)} is not closed with ">"` });
        break;
      }
      const name = END_TAG.exec(raw)?.[1];
      const top = open.at(-1);
      if (name === undefined) {
        found.push({ offset: i, message: `malformed end tag ${quoteText(`</${raw}>`)}: an end tag is "</" and the element's name, then ">"` });
        open.pop();
      } else if (!top) {
        found.push({ offset: i, message: `end tag </${name}> has no start tag${rootSeen ? ': the root element is already closed' : ''}` });
      } else if (top.name !== name) {
        const hint = top.name.toLowerCase() === name.toLowerCase() ? ' (tag names are case-sensitive)' : '';
        found.push({
          offset: i,
          message: `end tag </${name}> does not match the start tag <${top.name}> at ${where(top.offset)}${hint}`,
        });
        // Recover as a reader would: close up to the element it names, or else the open one.
        const named = open.map((e) => e.name).lastIndexOf(name);
        open.length = named === -1 ? open.length - 1 : named;
      } else {
        open.pop();
      }
      i = end + 1;
    } else {
      NAME.lastIndex = i + 1;
      const name = NAME.exec(text)?.[0];
      if (name === undefined) break; // `< x`, `<<`, `<1`: xmldom reports the broken tag
      let quote = '';
      let k = i + 1 + name.length;
      for (; k < n; k++) {
        const c = text[k];
        if (quote) {
          if (c === quote) quote = '';
        } else if (c === '"' || c === "'") quote = c;
        else if (c === '>') break;
        else if (c === '<') break scan; // a broken start tag: xmldom reports it
      }
      if (k >= n) break; // never closed with ">": xmldom reports it
      if (open.length === 0 && rootSeen) {
        found.push({ offset: i, message: `a second root element <${name}>: a document has one root element, <Response>` });
      }
      if (open.length === 0) rootSeen = true;
      if (text[k - 1] !== '/') open.push({ name, offset: i });
      i = k + 1;
    }
  }
  if (rootSeen && textBeforeRoot !== undefined) {
    const end = text.indexOf('<', textBeforeRoot);
    const before = text.slice(textBeforeRoot, end === -1 ? n : end).trim();
    found.push({ offset: textBeforeRoot, message: `text before the root element is not allowed: ${quoteText(before)}` });
  }
  if (i >= n) {
    for (const element of open) {
      found.push({ offset: element.offset, message: `<${element.name}> is never closed: the document ends before </${element.name}>` });
    }
  }
  return found.slice(0, limit);
}

const XML_DECLARATION = /^<\?xml[ \t\n][^]*?\?>/;
const ENCODING = /[ \t\n](encoding)[ \t\n]*=[ \t\n]*(?:"([^"]*)"|'([^']*)')/;

/**
 * A declared encoding other than UTF-8 (any letter case): documents are always read as UTF-8,
 * so a document that says otherwise is refused (XML 1.0 §4.3.3), at the word `encoding`.
 * `utf8` is not an encoding name XML knows.
 */
export function findEncodingProblem(text: string): TextFinding | undefined {
  const declaration = XML_DECLARATION.exec(text)?.[0];
  if (declaration === undefined) return undefined;
  const match = ENCODING.exec(declaration);
  if (!match) return undefined;
  const name = match[2] ?? match[3] ?? '';
  if (name.toUpperCase() === 'UTF-8') return undefined;
  return {
    offset: match.index + 1,
    message: `the document declares encoding=${quoteText(name)}: documents are read as UTF-8 only; write encoding="UTF-8" or leave the encoding out`,
  };
}

/** A piece of document text in a message: shortened, quoted, escaped (JSON-style). */
function quoteText(value: string, max = 40): string {
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}…` : value);
}
