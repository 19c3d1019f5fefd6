import type { CallbackRequest } from '../flow/ports.js';
import type { AppPayload, FetchSpec } from './types.js';

export interface SpecOptions {
  /** Epoch ms. */
  readonly deadline: number;
  readonly app?: AppPayload;
  readonly signingKeyId?: string;
  /** Defaults to 'document'. */
  readonly expect?: FetchSpec['expect'];
}

/**
 * What a fetcher executes for a flow's request: the standard fields (spec §4) first, then
 * `extra`; an extra field never overrides a standard one.
 */
export function fetchSpecFromRequest(request: CallbackRequest, options: SpecOptions): FetchSpec {
  const { call, sca, state, from, tn, tag } = request.fields;
  const standard: Record<string, string> = { call, sca, state, from, tn, ...(tag === undefined ? {} : { tag }) };
  const extra = Object.entries(request.extra ?? {}).filter(([name]) => !(name in standard));
  return {
    url: request.url,
    method: request.method,
    body: request.body,
    fields: { ...standard, ...Object.fromEntries(extra) },
    deadline: options.deadline,
    expect: options.expect ?? 'document',
    ...(options.app === undefined ? {} : { app: options.app }),
    ...(options.signingKeyId === undefined ? {} : { signingKeyId: options.signingKeyId }),
  };
}
