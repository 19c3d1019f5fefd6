// The contract between whoever asks for a fetch (the in-process fetcher, the queue's
// waiting side) and whoever executes it (the same process, or a queue worker elsewhere).
import type { HttpMethod } from '../xml/index.js';
import type { FetchFailure } from '../flow/ports.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** The Call Control App's configured data, sent as `app` in JSON bodies (spec §4). */
export interface AppPayload {
  readonly uuid: string;
  readonly name: string;
  readonly data: { readonly [key: string]: JsonValue };
}

/**
 * Everything one fetch needs. Plain data: it travels as a queue job through Redis, so it
 * holds no secret, only `signingKeyId`, which the executing process resolves itself.
 */
export interface FetchSpec {
  readonly url: string;
  readonly method: HttpMethod;
  /** true: JSON body with the fields and `app`; false: fields added to the query string. */
  readonly body: boolean;
  /** call, sca, state, from, tn, and tag/dtmf when present. */
  readonly fields: Readonly<Record<string, string>>;
  readonly app?: AppPayload;
  /** With `body`: sent as the whole JSON body instead of `fields` and `app` (call events). */
  readonly payload?: { readonly [key: string]: JsonValue };
  /** Names the signing secret (the app's UUID); absent when the app signs nothing. */
  readonly signingKeyId?: string;
  /** Absolute deadline, epoch ms: no attempt starts that cannot finish before it. */
  readonly deadline: number;
  /** 'document': a 2xx body must be a valid Opentact document. 'status': a 2xx of whatever body will do (`<Curl>`). */
  readonly expect: 'document' | 'status';
}

export type FetchOutcome =
  | { readonly ok: true; readonly status: number; readonly body: string; readonly attempts: number }
  | { readonly ok: false; readonly failure: FetchFailure; readonly attempts: number };

/** Looks up signing secrets by key id; the secrets come from the environment. */
export interface SecretStore {
  get(keyId: string): string | undefined;
}
