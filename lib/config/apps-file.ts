// The apps file (APPS_FILE): YAML or JSON, `{ apps: [ … ] }` (spec §5). Every app is
// checked field by field; the first problem stops start-up with an error naming the app
// and the field.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { JsonValue } from '../callback/types.js';
import { formatProblem, parseDocument, XmlError, type FlowDocument, type HttpMethod } from '../xml/index.js';
import { normaliseNumber, type CallControlApp, type FirstDocumentSource } from './apps.js';
import { AppsFileError } from './apps-errors.js';
import { checkEndpointTemplate, EndpointTemplateError, type DialEndpoints } from './dial-endpoints.js';

export interface AppsFileOptions {
  /** Largest static document, as for fetched ones. */
  readonly maxBytes: number;
  /** Where `${NAME}` secrets are read from. */
  readonly env: NodeJS.ProcessEnv;
}

const FIELDS = new Set([
  'uuid',
  'name',
  'numbers',
  'data',
  'secret',
  'auto_answer',
  'xml',
  'webhook_url',
  'webhook_method',
  'webhook_request_timeout',
  'fallback_xml',
  'events_url',
  'dial_number_endpoint',
  'dial_sip_endpoint',
]);
const METHODS: readonly HttpMethod[] = ['GET', 'POST', 'PATCH', 'DELETE'];
const ENV_REFERENCE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

type Raw = Readonly<Record<string, unknown>>;

/** @throws AppsFileError (a ConfigError) naming the file, the app and the field. */
export function loadAppsFile(file: string, options: AppsFileOptions): CallControlApp[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new AppsFileError(file, '', `cannot be read (${error instanceof Error ? error.message : String(error)})`);
  }
  let parsed: unknown;
  try {
    // YAML 1.2 is a superset of JSON: one parser reads both.
    parsed = parseYaml(text);
  } catch (error) {
    throw new AppsFileError(file, '', `is neither YAML nor JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  return parseApps(parsed, file, options);
}

/** Validates the parsed content of an apps file. */
export function parseApps(content: unknown, file: string, options: AppsFileOptions): CallControlApp[] {
  if (!isRecord(content) || !Array.isArray(content['apps'])) {
    throw new AppsFileError(file, 'apps', 'must be a list of apps ({ "apps": [ … ] })');
  }
  const apps: CallControlApp[] = [];
  const byNumber = new Map<string, string>();
  const byUuid = new Map<string, string>();
  content['apps'].forEach((raw: unknown, index: number) => {
    const app = new AppReader(raw, index, file, options).read();
    const label = labelOf(index, app.name);
    const sameUuid = byUuid.get(app.uuid);
    if (sameUuid !== undefined) throw new AppsFileError(file, `${label}.uuid`, `${app.uuid} is also the uuid of ${sameUuid}`);
    byUuid.set(app.uuid, label);
    app.numbers.forEach((number, at) => {
      const other = byNumber.get(number);
      if (other !== undefined) {
        throw new AppsFileError(file, `${label}.numbers[${at}]`, `${number} is already routed to ${other}`);
      }
      byNumber.set(number, label);
    });
    apps.push(app);
  });
  return apps;
}

function labelOf(index: number, name: unknown): string {
  return typeof name === 'string' && name.trim() !== '' ? `apps[${index}] (${name.trim()})` : `apps[${index}]`;
}

class AppReader {
  private readonly raw: Raw;
  private readonly label: string;

  constructor(
    raw: unknown,
    index: number,
    private readonly file: string,
    private readonly options: AppsFileOptions,
  ) {
    if (!isRecord(raw)) throw new AppsFileError(file, `apps[${index}]`, 'must be an object');
    this.raw = raw;
    this.label = labelOf(index, raw['name']);
  }

  read(): CallControlApp {
    for (const key of Object.keys(this.raw)) {
      if (!FIELDS.has(key)) this.fail(key, `is not a field of an app; fields are ${[...FIELDS].join(', ')}`);
    }
    const uuid = this.text('uuid');
    const name = this.text('name');
    const secret = this.secret();
    const eventsUrl = this.optionalUrl('events_url');
    const dial = this.dialEndpoints();
    return {
      uuid,
      name,
      numbers: this.numbers(),
      data: this.data(),
      ...(secret === undefined ? {} : { secret }),
      autoAnswer: this.autoAnswer(),
      source: this.source(),
      ...(eventsUrl === undefined ? {} : { eventsUrl }),
      ...(dial === undefined ? {} : { dial }),
    };
  }

  /** `dial_number_endpoint`, `dial_sip_endpoint`: this app's `<Dial>` templates. */
  private dialEndpoints(): Partial<DialEndpoints> | undefined {
    const read = (field: string, kind: keyof DialEndpoints): string | undefined => {
      const value = this.raw[field];
      if (value === undefined || value === null) return undefined;
      if (typeof value !== 'string') this.fail(field, 'must be a string such as PJSIP/{number}@trunk');
      try {
        return checkEndpointTemplate(kind, value);
      } catch (error) {
        if (error instanceof EndpointTemplateError) this.fail(field, error.problem);
        throw error;
      }
    };
    const number = read('dial_number_endpoint', 'number');
    const sip = read('dial_sip_endpoint', 'sip');
    if (number === undefined && sip === undefined) return undefined;
    return { ...(number === undefined ? {} : { number }), ...(sip === undefined ? {} : { sip }) };
  }

  private fail(field: string, problem: string): never {
    throw new AppsFileError(this.file, `${this.label}.${field}`, problem);
  }

  private text(field: string): string {
    const value = this.raw[field];
    if (typeof value !== 'string' || value.trim() === '') this.fail(field, 'must be a non-empty string');
    return value.trim();
  }

  private numbers(): string[] {
    const value = this.raw['numbers'];
    if (!Array.isArray(value)) this.fail('numbers', 'must be a list of numbers (DIDs)');
    const seen = new Set<string>();
    return value.map((entry: unknown, at: number) => {
      const text = typeof entry === 'number' && Number.isSafeInteger(entry) && entry >= 0 ? String(entry) : entry;
      if (typeof text !== 'string' || !/^\+?[^\s+]+$/.test(text.trim())) {
        this.fail(`numbers[${at}]`, 'must be a number such as "15551234567" or "+15551234567"');
      }
      const number = normaliseNumber(text.trim());
      if (seen.has(number)) this.fail(`numbers[${at}]`, `${number} is listed twice`);
      seen.add(number);
      return number;
    });
  }

  private data(): { [key: string]: JsonValue } {
    const value = this.raw['data'];
    if (value === undefined || value === null) return {};
    if (!isRecord(value) || !isJson(value)) this.fail('data', 'must be an object of JSON values');
    return value as { [key: string]: JsonValue };
  }

  private secret(): string | undefined {
    const value = this.raw['secret'];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string' || value.trim() === '') this.fail('secret', 'must be a non-empty string or ${ENV_NAME}');
    const reference = ENV_REFERENCE.exec(value.trim());
    if (!reference) return value;
    const name = reference[1] ?? '';
    const secret = this.options.env[name];
    if (secret === undefined || secret === '') this.fail('secret', `environment variable ${name} is not set`);
    return secret;
  }

  private autoAnswer(): boolean {
    const value = this.raw['auto_answer'];
    if (value === undefined || value === null) return true;
    if (typeof value !== 'boolean') this.fail('auto_answer', 'must be true or false');
    return value;
  }

  private source(): FirstDocumentSource {
    const hasXml = this.raw['xml'] !== undefined;
    const hasWebhook = this.raw['webhook_url'] !== undefined;
    if (hasXml === hasWebhook) this.fail(hasXml ? 'webhook_url' : 'xml', 'give either xml or webhook_url, not both and not neither');
    if (hasXml) {
      for (const field of ['webhook_method', 'webhook_request_timeout', 'fallback_xml']) {
        if (this.raw[field] !== undefined) this.fail(field, 'only applies to a webhook app (webhook_url)');
      }
      return { kind: 'static', document: this.document('xml') };
    }
    const url = this.optionalUrl('webhook_url') ?? this.fail('webhook_url', 'must be an http(s) URL');
    const fallback = this.raw['fallback_xml'] === undefined ? undefined : this.document('fallback_xml');
    return {
      kind: 'webhook',
      url,
      method: this.method(),
      timeoutMs: this.timeout(),
      ...(fallback === undefined ? {} : { fallback }),
    };
  }

  private method(): HttpMethod {
    const value = this.raw['webhook_method'];
    if (value === undefined || value === null) return 'POST';
    const method = typeof value === 'string' ? value.trim().toUpperCase() : '';
    const known = METHODS.find((m) => m === method);
    if (known === undefined) this.fail('webhook_method', `must be one of ${METHODS.join(', ')}`);
    return known;
  }

  private timeout(): number {
    const value = this.raw['webhook_request_timeout'];
    if (value === undefined || value === null) return 5000;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 100 || value > 120_000) {
      this.fail('webhook_request_timeout', 'must be a whole number of ms from 100 to 120000');
    }
    return value;
  }

  private optionalUrl(field: string): string | undefined {
    const value = this.raw[field];
    if (value === undefined || value === null) return undefined;
    let url: URL | undefined;
    try {
      url = typeof value === 'string' ? new URL(value.trim()) : undefined;
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) this.fail(field, 'must be an http(s) URL');
    return String(value).trim();
  }

  private document(field: string): FlowDocument {
    const value = this.raw[field];
    if (typeof value !== 'string') this.fail(field, 'must be an Opentact XML document (a string)');
    try {
      return parseDocument(value, { maxBytes: this.options.maxBytes });
    } catch (error) {
      if (error instanceof XmlError) {
        const more = error.problems.length > 1 ? ` (and ${error.problems.length - 1} more)` : '';
        this.fail(field, `${formatProblem(error.first)}${more}`);
      }
      throw error;
    }
  }
}

function isRecord(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isJson(value: unknown): value is JsonValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isJson);
  if (isRecord(value)) return Object.values(value).every(isJson);
  return false;
}
