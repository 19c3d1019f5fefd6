// Walks xmldom's tree with the element definitions: paths, positions, attributes, text,
// children, depth. All problem reporting for the document's structure goes through here.

import type { Attr, Element, Node } from '@xmldom/xmldom';
import type { AttributeRules, AttributeValues } from './attributes.js';
import type {
  ChildScope,
  ElementDefinition,
  ElementNode,
  NodeBase,
  Sequence,
  SlotValues,
  Slots,
} from './element.js';
import { ELEMENTS, VERB_ELEMENTS, errorChildElement, errorSiblingElement, responseElement } from './elements/index.js';
import type { XmlProblemCode } from './errors.js';
import { quote, type ProblemList } from './problems.js';
import type { LineIndex } from './source.js';
import type { ErrorBranch, FlowDocument, SourcePosition, Verb } from './types.js';

/** Elements nested deeper than this (Response is level 1) are not followed. */
export const MAX_DEPTH = 32;

const ELEMENT_NODE = 1;
const TEXT_NODE = 3;
const CDATA_SECTION_NODE = 4;
const XML_SPACE = /^[ \t\r\n]*$/;

export class Walker {
  private tooDeepReported = false;

  constructor(
    readonly text: string,
    readonly lines: LineIndex,
    readonly problems: ProblemList,
  ) {}

  root(element: Element): Omit<FlowDocument, 'size' | 'source'> | undefined {
    return responseElement.visit(new DomElement(this, element, 'Response', 'Response', 1));
  }

  reportTooDeep(node: NodeBase): void {
    if (this.tooDeepReported) return;
    this.tooDeepReported = true;
    this.problems.add(
      'too_deep',
      `elements are nested more than ${MAX_DEPTH} levels deep; this element and its contents are not read`,
      node.position,
      node.path,
    );
  }

  /** Position of a node as xmldom located it (its `<`, or a value's opening quote). */
  positionOf(node: Node): SourcePosition {
    const line = node.lineNumber;
    const column = node.columnNumber;
    return { line: line !== undefined && line >= 1 ? line : 1, column: column !== undefined && column >= 1 ? column : 1 };
  }

  /** xmldom locates an attribute at its value; step back over `=` to its name. */
  attributePosition(attr: Attr): SourcePosition {
    const valueAt = this.positionOf(attr);
    let i = this.lines.offset(valueAt) - 1;
    while (i >= 0 && isSpace(this.text[i])) i--;
    if (this.text[i] !== '=') return valueAt;
    i--;
    while (i >= 0 && isSpace(this.text[i])) i--;
    const start = i - attr.name.length + 1;
    return this.text.slice(start, i + 1) === attr.name ? this.lines.at(start) : valueAt;
  }

  /** Where a text node's first non-blank character stands. */
  textPosition(node: Node): SourcePosition {
    const at = this.positionOf(node);
    if (node.nodeType !== TEXT_NODE) return at;
    let i = this.lines.offset(at);
    while (i < this.text.length && isSpace(this.text[i])) i++;
    return this.lines.at(i);
  }
}

interface ChildElement {
  readonly node: DomElement;
  readonly lower: string;
  /** Undefined for unknown elements and elements too deep to read (both already reported). */
  readonly def?: ElementDefinition<unknown>;
}

class DomElement implements ElementNode, ChildScope {
  readonly position: SourcePosition;

  constructor(
    private readonly walker: Walker,
    private readonly element: Element,
    readonly name: string,
    readonly path: string,
    private readonly depth: number,
  ) {
    this.position = walker.positionOf(element);
  }

  get children(): ChildScope {
    return this;
  }

  report(code: XmlProblemCode, message: string, attribute?: string): void {
    const attr = attribute === undefined ? null : this.element.getAttributeNode(attribute);
    const at = attr ? this.walker.attributePosition(attr) : this.position;
    this.walker.problems.add(code, message, at, this.path);
  }

  reportAt(node: NodeBase, code: XmlProblemCode, message: string): void {
    this.walker.problems.add(code, message, node.position, node.path);
  }

  readAttributes<R extends AttributeRules>(rules: R): AttributeValues<R> | undefined {
    const all: AttributeRules = rules;
    const keyOf = new Map<string, string>();
    for (const [key, rule] of Object.entries(all)) {
      keyOf.set(key, key);
      for (const alias of rule.aliases) keyOf.set(alias, key);
    }
    const given = new Map<string, Attr[]>();
    let valid = true;
    const attributes = this.element.attributes;
    for (let i = 0; i < attributes.length; i++) {
      const attr = attributes.item(i);
      if (!attr) continue;
      const key = keyOf.get(attr.name);
      if (key === undefined) {
        this.problemAt(attr, 'unknown_attribute', this.unknownAttributeMessage(attr.name, [...keyOf.keys()]));
        valid = false;
        continue;
      }
      given.set(key, [...(given.get(key) ?? []), attr]);
    }

    const values: Record<string, unknown> = {};
    for (const [key, rule] of Object.entries(all)) {
      const [attr, second] = given.get(key) ?? [];
      if (second) {
        this.problemAt(second, 'invalid_value', `<${this.name}> has both ${attr?.name} and ${second.name}; give only one`);
        valid = false;
      } else if (!attr) {
        if (rule.absent === 'required') {
          this.report('missing_attribute', `<${this.name}> needs a ${key} attribute`);
          valid = false;
        } else {
          values[key] = rule.absent.value;
        }
      } else {
        const raw = attr.value.trim();
        const parsed = rule.parse(raw);
        if (parsed.ok) {
          values[key] = parsed.value;
        } else {
          const what = parsed.code === 'out_of_range' ? 'is out of range' : 'is not valid';
          this.problemAt(attr, parsed.code, `<${this.name}> ${attr.name}=${quote(raw)} ${what}: expected ${parsed.expected}`);
          valid = false;
        }
      }
    }
    for (const [key, rule] of Object.entries(all)) {
      const attr = given.get(key)?.[0];
      if (attr && rule.needs !== undefined && !given.has(rule.needs)) {
        this.problemAt(attr, 'invalid_value', `<${this.name}> ${attr.name} needs ${rule.needs}: it has no effect without it`);
        valid = false;
      }
    }
    // Every key of `rules` was filled from its rule's parser or default: the mapped type holds.
    return valid ? (values as AttributeValues<R>) : undefined;
  }

  readText(): string {
    let text = '';
    for (let n = this.element.firstChild; n; n = n.nextSibling) {
      if (n.nodeType === TEXT_NODE || n.nodeType === CDATA_SECTION_NODE) text += n.nodeValue ?? '';
    }
    return text;
  }

  forbidText(): void {
    for (let n = this.element.firstChild; n; n = n.nextSibling) {
      if (n.nodeType !== TEXT_NODE && n.nodeType !== CDATA_SECTION_NODE) continue;
      const text = n.nodeValue ?? '';
      if (XML_SPACE.test(text)) continue;
      this.walker.problems.add(
        'unexpected_text',
        `<${this.name}> takes no text, found ${quote(text.trim(), 40)}`,
        this.walker.textPosition(n),
        this.path,
      );
    }
  }

  none(): void {
    for (const child of this.childElements()) {
      if (!child.def) continue;
      const isVerb = VERB_ELEMENTS.has(this.name.toLowerCase());
      const hint =
        child.def.role === 'error' && isVerb
          ? `an <Error> for a <${this.name}> goes right after it`
          : `<${this.name}> takes no child elements`;
      this.misplaced(child, hint);
    }
  }

  sequence(ownErrorFirst: boolean): Sequence {
    const verbs: Verb[] = [];
    let ownError: ErrorBranch | undefined;
    // What the previous element child was, for the rule that a sibling <Error> follows a verb.
    let previous: 'start' | 'verb' | 'error' | 'other' = 'start';
    let lastVerb: number | undefined;
    for (const child of this.childElements()) {
      const { node, def, lower } = child;
      if (!def) {
        previous = 'other';
        continue;
      }
      const verbDef = VERB_ELEMENTS.get(lower);
      if (verbDef) {
        const verb = verbDef.visit(node);
        lastVerb = verb ? verbs.push(verb) - 1 : undefined;
        previous = 'verb';
        continue;
      }
      if (def.role === 'error') {
        if (previous === 'verb') {
          const branch = errorSiblingElement.visit(node);
          const handled = lastVerb === undefined ? undefined : verbs[lastVerb];
          // A verb's own <Error> child wins; the sibling is then valid but never runs.
          if (branch && handled && lastVerb !== undefined && !handled.onError) {
            verbs[lastVerb] = { ...handled, onError: branch };
          }
        } else if (previous === 'start' && ownErrorFirst) {
          ownError = errorChildElement.visit(node);
        } else {
          // After an unknown or misplaced element the problem is already reported there.
          if (previous !== 'other') {
            const where = previous === 'start' ? `it is the first element in <${this.name}>` : 'it follows another <Error>';
            node.reportHere(
              'unexpected_element',
              `an <Error> must follow the verb it handles or be inside it; ${where}`,
            );
          }
          errorSiblingElement.visit(node);
        }
        previous = 'error';
        continue;
      }
      this.misplaced(child, `<${this.name}> takes verbs (${[...VERB_ELEMENTS.values()].map((v) => v.name).join(', ')})`);
      previous = 'other';
    }
    return ownError ? { verbs, ownError } : { verbs };
  }

  slots<S extends Slots>(spec: S): SlotValues<S> {
    const all: Slots = spec;
    const values: Record<string, unknown[]> = {};
    const counts = new Map<string, number>();
    const slotOf = new Map<string, { key: string; def: ElementDefinition<unknown> }>();
    const names: string[] = [];
    const firstWithKey = new Map<string, string>();
    for (const [key, slot] of Object.entries(all)) {
      values[key] = [];
      for (const def of slot.accepts) {
        slotOf.set(def.name.toLowerCase(), { key, def });
        names.push(def.name);
      }
    }
    const takes = `<${this.name}> takes only ${listOf(names)}`;

    for (const child of this.childElements()) {
      if (!child.def) continue;
      const entry = slotOf.get(child.lower);
      if (!entry) {
        this.misplaced(child, takes);
        continue;
      }
      const count = (counts.get(entry.key) ?? 0) + 1;
      counts.set(entry.key, count);
      if (all[entry.key]?.max !== undefined && count > (all[entry.key]?.max ?? 0)) {
        child.node.reportHere('unexpected_element', `a <${this.name}> takes at most one <${entry.def.name}>`);
      }
      const value = entry.def.visit(child.node);
      if (value === undefined) continue;
      values[entry.key]?.push(value);
      const unique = all[entry.key]?.unique;
      if (unique) {
        const key = `${entry.key}\u0000${unique.key(value)}`;
        const first = firstWithKey.get(key);
        if (first === undefined) firstWithKey.set(key, child.node.path);
        else {
          child.node.report(
            'invalid_value',
            `<${entry.def.name}> ${unique.attribute}=${quote(unique.key(value))} repeats the one of ${first}`,
            unique.attribute,
          );
        }
      }
    }

    for (const [key, slot] of Object.entries(all)) {
      if (slot.min !== undefined && (counts.get(key) ?? 0) < slot.min) {
        const names = slot.accepts.map((d) => `<${d.name}>`).join(' or ');
        this.report('invalid_value', `a <${this.name}> needs at least one ${names}`);
      }
    }
    // Each key of `spec` holds the values built by that slot's definitions.
    return values as unknown as SlotValues<S>;
  }

  reportHere(code: XmlProblemCode, message: string): void {
    this.walker.problems.add(code, message, this.position, this.path);
  }

  /** A known element where it is not allowed: reported, then still checked on its own. */
  private misplaced(child: ChildElement, hint: string): void {
    const def = child.def;
    if (!def) return;
    const where = def.home ? `<${def.name}> belongs ${def.home}` : hint;
    child.node.reportHere('unexpected_element', `<${def.name}> is not allowed inside <${this.name}>; ${where}`);
    def.visit(child.node);
  }

  private problemAt(attr: Attr, code: XmlProblemCode, message: string): void {
    this.walker.problems.add(code, message, this.walker.attributePosition(attr), this.path);
  }

  private unknownAttributeMessage(name: string, known: string[]): string {
    const sameIgnoringCase = known.find((k) => k.toLowerCase() === name.toLowerCase());
    if (sameIgnoringCase) {
      return `<${this.name}> has no attribute ${quote(name)}; attribute names are case-sensitive: did you mean ${quote(sameIgnoringCase)}?`;
    }
    const takes = known.length ? `it takes ${known.join(', ')}` : 'it takes no attributes';
    return `<${this.name}> has no attribute ${quote(name)}; ${takes}`;
  }

  private childElements(): ChildElement[] {
    const children: ChildElement[] = [];
    let index = 0;
    for (let n = this.element.firstChild; n; n = n.nextSibling) {
      if (!isElement(n)) continue;
      const lower = n.tagName.toLowerCase();
      const def = ELEMENTS.get(lower);
      const name = def?.name ?? n.tagName;
      const node = new DomElement(this.walker, n, name, `${this.path}/${name}[${index}]`, this.depth + 1);
      index++;
      if (this.depth + 1 > MAX_DEPTH) {
        this.walker.reportTooDeep(node);
        children.push({ node, lower });
      } else if (!def) {
        node.reportHere('unknown_element', `<${n.tagName}> is not an element of Opentact XML`);
        children.push({ node, lower });
      } else {
        children.push({ node, lower, def });
      }
    }
    return children;
  }
}

/** "A", "A and B", "A, B and C". */
function listOf(words: readonly string[]): string {
  return words.length <= 1 ? words.join('') : `${words.slice(0, -1).join(', ')} and ${words.at(-1)}`;
}

function isElement(node: Node): node is Element {
  return node.nodeType === ELEMENT_NODE;
}

function isSpace(char: string | undefined): boolean {
  return char === ' ' || char === '\t' || char === '\n' || char === '\r';
}
