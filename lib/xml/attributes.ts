// Attribute value readers. Each element file declares its attributes with these, so the
// rules (type, range, default, aliases) read like a table.

export interface ValueProblem {
  readonly code: 'invalid_value' | 'out_of_range';
  /** What a valid value looks like, e.g. "a whole number from 1 to 100". */
  readonly expected: string;
}

export type Parsed<T> = { readonly ok: true; readonly value: T } | ({ readonly ok: false } & ValueProblem);

/** Reads one trimmed attribute value (or text content). */
export type Parser<T> = (raw: string) => Parsed<T>;

export interface AttributeRule<T> {
  readonly parse: Parser<T>;
  /** Other names accepted for the same attribute; giving two of them is a problem. */
  readonly aliases: readonly string[];
  /** The value when the attribute is absent, or `required` when absence is a problem. */
  readonly absent: 'required' | { readonly value: T };
  /** Another attribute this one only makes sense with (Gather's method needs url). */
  readonly needs?: string;
}

export interface RuleOptions {
  readonly aliases?: readonly string[];
  readonly needs?: string;
}

export type AttributeRules = Readonly<Record<string, AttributeRule<unknown>>>;

export type AttributeValues<R extends AttributeRules> = {
  readonly [K in keyof R]: R[K] extends AttributeRule<infer T> ? T : never;
};

export function required<T>(parse: Parser<T>, options: RuleOptions = {}): AttributeRule<T> {
  return { parse, aliases: options.aliases ?? [], absent: 'required', ...needs(options) };
}

export function withDefault<T>(parse: Parser<T>, value: T, options: RuleOptions = {}): AttributeRule<T> {
  return { parse, aliases: options.aliases ?? [], absent: { value }, ...needs(options) };
}

export function optional<T>(parse: Parser<T>, options: RuleOptions = {}): AttributeRule<T | undefined> {
  return { parse, aliases: options.aliases ?? [], absent: { value: undefined }, ...needs(options) };
}

function needs(options: RuleOptions): { needs?: string } {
  return options.needs === undefined ? {} : { needs: options.needs };
}

export function ok<T>(value: T): Parsed<T> {
  return { ok: true, value };
}

export function invalid(expected: string): Parsed<never> {
  return { ok: false, code: 'invalid_value', expected };
}

export function outOfRange(expected: string): Parsed<never> {
  return { ok: false, code: 'out_of_range', expected };
}

/** A non-negative decimal integer ("5000"; not "5s", "1.5", "-1", "+1" or ""). */
export function integer(min: number, max: number, unit = ''): Parser<number> {
  const expected = `a whole number${unit ? ` of ${unit}` : ''} from ${min} to ${max}`;
  return (raw) => {
    if (!/^[0-9]+$/.test(raw)) return invalid(expected);
    const value = Number(raw);
    return value < min || value > max ? outOfRange(expected) : ok(value);
  };
}

export function milliseconds(min: number, max: number): Parser<number> {
  return integer(min, max, 'milliseconds');
}

export const boolean: Parser<boolean> = (raw) => {
  const lower = raw.toLowerCase();
  if (lower === 'true') return ok(true);
  if (lower === 'false') return ok(false);
  return invalid('true or false');
};

/** One of a few words, matched in any case and returned in the spelling listed. */
export function oneOf<const V extends string>(values: readonly V[]): Parser<V> {
  const byLower = new Map(values.map((v) => [v.toLowerCase(), v]));
  const expected = `one of ${values.join(', ')}`;
  return (raw) => {
    const value = byLower.get(raw.toLowerCase());
    return value === undefined ? invalid(expected) : ok(value);
  };
}

export const httpMethod = oneOf(['POST', 'GET', 'PATCH', 'DELETE']);

/** An absolute http:// or https:// URL, returned as written (trimmed). */
export const httpUrl: Parser<string> = (raw) => {
  const expected = 'an absolute http:// or https:// URL';
  if (!/^https?:\/\//i.test(raw) || /\s/.test(raw)) return invalid(expected);
  try {
    const url = new URL(raw);
    return url.hostname ? ok(raw) : invalid(expected);
  } catch {
    return invalid(expected);
  }
};

/** Telephone keys: 0-9, *, # and A-D (returned upper-case). */
export function keys(min: number, max: number): Parser<string> {
  const what = 'telephone keys (0-9, *, #, A-D)';
  const expected = min === 0 ? `up to ${max} ${what}, or nothing` : `${min} to ${max} ${what}`;
  return (raw) => {
    if (!/^[0-9*#A-Da-d]*$/.test(raw)) return invalid(expected);
    if (raw.length < min) return invalid(expected);
    if (raw.length > max) return outOfRange(expected);
    return ok(raw.toUpperCase());
  };
}

/** Any text, possibly empty. */
export const anyText: Parser<string> = (raw) => ok(raw);

/** A free-text label; empty means "not given". */
export const label: Parser<string | undefined> = (raw) => ok(raw === '' ? undefined : raw);

/** A BCP-47-looking language tag such as en-US. */
export const languageTag: Parser<string> = (raw) =>
  /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(raw) ? ok(raw) : invalid('a language tag such as en-US');

/** A caller ID: digits with an optional leading +. */
export const callerId: Parser<string> = (raw) =>
  /^\+?[0-9]{1,20}$/.test(raw) ? ok(raw) : invalid('a number of 1 to 20 digits, optionally starting with +');
