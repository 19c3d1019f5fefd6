// The shape every element file fills in. An element is declared once (name, attributes,
// whether it takes text, how its children are read, how its node is built); the walker
// (walker.ts) supplies the document side through `ElementNode` and `ChildScope`.

import type { AttributeRules, AttributeValues } from './attributes.js';
import type { XmlProblemCode } from './errors.js';
import type { ErrorBranch, SourcePosition, Verb } from './types.js';

/**
 * `verb`: runs in a sequence. `error`: an `<Error>` branch. `part`: belongs to one parent
 * only (DTMF, Default, To). `root`: Response.
 */
export type ElementRole = 'verb' | 'error' | 'part' | 'root';

export interface NodeBase {
  readonly path: string;
  readonly position: SourcePosition;
}

/** A known element of the language: its canonical name and how to read it. */
export interface ElementDefinition<T> {
  readonly name: string;
  readonly role: ElementRole;
  /** Where a `part` belongs, for messages: "inside a <Gather>". */
  readonly home?: string;
  /** Reads the element; `undefined` when it has problems (they are reported). */
  visit(node: ElementNode): T | undefined;
}

/** One element of the document as the walker presents it to a definition. */
export interface ElementNode extends NodeBase {
  readonly name: string;
  readonly children: ChildScope;
  /** Reads the attributes; `undefined` when one of them has a problem (reported). */
  readAttributes<R extends AttributeRules>(rules: R): AttributeValues<R> | undefined;
  /** The element's text content (text and CDATA children joined). */
  readText(): string;
  /** Reports each non-blank text child as `unexpected_text`. */
  forbidText(): void;
  report(code: XmlProblemCode, message: string, attribute?: string): void;
  reportAt(node: NodeBase, code: XmlProblemCode, message: string): void;
}

/** A verb sequence (children of Response, Call, DTMF, Default, Error, Record). */
export interface Sequence {
  readonly verbs: readonly Verb[];
  /** Record only: an `<Error>` standing first among the children belongs to the Record. */
  readonly ownError?: ErrorBranch;
}

/** Children sorted into named groups by element, for elements that are not sequences. */
export interface Slot<T> {
  readonly accepts: readonly ElementDefinition<T>[];
  readonly min?: 1;
  readonly max?: 1;
  /** Children must differ in this attribute (two DTMF branches with one value). */
  readonly unique?: SlotKey<T>;
}

export interface SlotKey<T> {
  readonly attribute: string;
  key(value: T): string;
}

export type Slots = Readonly<Record<string, Slot<unknown>>>;

type Built<D> = D extends ElementDefinition<infer T> ? T : never;

export type SlotValues<S extends Slots> = {
  readonly [K in keyof S]: readonly Built<S[K]['accepts'][number]>[];
};

export interface ChildScope {
  none(): void;
  sequence(ownErrorFirst: boolean): Sequence;
  slots<S extends Slots>(slots: S): SlotValues<S>;
}

/** How an element reads its children (an object, not a bare function: TypeScript infers through it). */
export interface ChildrenReader<C> {
  read(scope: ChildScope): C;
}

export const noChildren: ChildrenReader<void> = { read: (scope) => scope.none() };
export const verbSequence: ChildrenReader<Sequence> = { read: (scope) => scope.sequence(false) };
/** A sequence in which a leading `<Error>` is the parent's own (see `Sequence.ownError`). */
export const verbSequenceWithOwnError: ChildrenReader<Sequence> = { read: (scope) => scope.sequence(true) };
export function slots<S extends Slots>(spec: S): ChildrenReader<SlotValues<S>> {
  return { read: (scope) => scope.slots(spec) };
}

export interface BuildInput<A extends AttributeRules, C> {
  readonly attrs: AttributeValues<A>;
  readonly children: C;
  /** Text content; '' for elements that take none. */
  readonly text: string;
  /** `path` and `position`, to spread into the node. */
  readonly base: NodeBase;
  readonly node: ElementNode;
}

export interface ElementSpec<A extends AttributeRules, C, T> {
  readonly name: string;
  readonly role: ElementRole;
  readonly home?: string;
  readonly attributes: A;
  /** Whether the element takes text content (Say, Play, To). */
  readonly text?: boolean;
  readonly children: ChildrenReader<C>;
  /** Called only when every attribute is valid; may report more and return undefined. */
  build(input: BuildInput<NoInfer<A>, NoInfer<C>>): T | undefined;
}

export function defineElement<A extends AttributeRules, C, T>(spec: ElementSpec<A, C, T>): ElementDefinition<T> {
  return {
    name: spec.name,
    role: spec.role,
    ...(spec.home === undefined ? {} : { home: spec.home }),
    visit(node) {
      const attrs = node.readAttributes(spec.attributes);
      let text = '';
      if (spec.text) text = node.readText();
      else node.forbidText();
      // Children are read even when the attributes are bad, so their problems are listed too.
      const children = spec.children.read(node.children);
      if (attrs === undefined) return undefined;
      const base: NodeBase = { path: node.path, position: node.position };
      return spec.build({ attrs, children, text, base, node });
    },
  };
}

/** Drops keys whose value is undefined, so optional fields are absent rather than undefined. */
export function compact<T extends object>(value: T): T {
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  return Object.fromEntries(entries) as T;
}
