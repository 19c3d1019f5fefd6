// `<Dial>` targets become Asterisk endpoints through two templates (spec §3): one for
// numbers (DIAL_NUMBER_ENDPOINT) and one for `sip:`/`sips:` URIs (DIAL_SIP_ENDPOINT),
// each `Technology/resource` with placeholders. Checked at start-up; an app of the apps
// file may override both.

export interface DialEndpoints {
  /** For numbers: `{number}`. Default `PJSIP/{number}@trunk`. */
  readonly number: string;
  /** For SIP URIs: `{uri}`, `{user}`, `{host}`. Default `PJSIP/trunk/{uri}`. */
  readonly sip: string;
}

export const DEFAULT_DIAL_ENDPOINTS: DialEndpoints = { number: 'PJSIP/{number}@trunk', sip: 'PJSIP/trunk/{uri}' };

const PLACEHOLDERS: Readonly<Record<keyof DialEndpoints, readonly string[]>> = {
  number: ['number'],
  sip: ['uri', 'user', 'host'],
};

/** Why a template cannot be used; the caller names the setting or field. */
export class EndpointTemplateError extends Error {
  readonly code = 'endpoint_template_invalid';
  constructor(readonly problem: string) {
    super(problem);
    this.name = 'EndpointTemplateError';
  }
}

/**
 * Checks a template for `kind` targets and gives it back trimmed.
 * @throws EndpointTemplateError saying what is wrong
 */
export function checkEndpointTemplate(kind: keyof DialEndpoints, template: string): string {
  const text = template.trim();
  const allowed = PLACEHOLDERS[kind];
  const list = allowed.map((p) => `{${p}}`).join(', ');
  if (!/^[A-Za-z][A-Za-z0-9_-]*\/\S+$/.test(text)) {
    throw new EndpointTemplateError(`"${template}" must be an Asterisk endpoint Technology/resource without spaces, e.g. ${DEFAULT_DIAL_ENDPOINTS[kind]}`);
  }
  const used = [...text.matchAll(/\{([^{}]*)\}/g)].map((m) => m[1] ?? '');
  const unknown = used.find((name) => !allowed.includes(name));
  if (unknown !== undefined) throw new EndpointTemplateError(`"${template}" has {${unknown}}; a ${kind} template may use ${list}`);
  if (used.length === 0) throw new EndpointTemplateError(`"${template}" uses none of ${list}: every target would dial the same endpoint`);
  if (/[{}]/.test(text.replace(/\{[^{}]*\}/g, ''))) throw new EndpointTemplateError(`"${template}" has an unmatched { or }`);
  return text;
}

/** The endpoint for one target: a number, or a `sip:`/`sips:` URI. */
export function renderEndpoint(endpoints: DialEndpoints, target: { readonly type: 'number' | 'sip'; readonly value: string }): string {
  if (target.type === 'number') return endpoints.number.replaceAll('{number}', target.value);
  const uri = target.value;
  const rest = uri.replace(/^sips?:/i, '');
  const at = rest.indexOf('@');
  const user = at < 0 ? '' : rest.slice(0, at);
  const host = (at < 0 ? rest : rest.slice(at + 1)).split(/[;?]/)[0] ?? '';
  const values: Readonly<Record<string, string>> = { uri, user, host };
  return endpoints.sip.replace(/\{(uri|user|host)\}/g, (_m, name: string) => values[name] ?? '');
}
