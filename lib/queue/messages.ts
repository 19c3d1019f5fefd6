// What travels through Redis: the job's data, the reply a worker publishes, the cancel
// request a waiting process publishes. Everything read back is checked before use: a
// message from another version of this program must not crash a worker or a call.
import type { FetchErrorCode } from '../flow/ports.js';
import type { FetchOutcome, FetchSpec } from '../callback/types.js';

export interface CallbackJobData {
  /** Everything the worker needs for the fetch; never a secret (only `signingKeyId`). */
  readonly spec: FetchSpec;
  /** The channel of the process that waits for the result. */
  readonly replyTo: string;
}

export interface ReplyMessage {
  readonly jobId: string;
  readonly outcome: FetchOutcome;
}

/**
 * What a worker publishes as each attempt of a fetch starts, on the waiting process's
 * progress channel: a waiter whose deadline comes first still reports the attempts made.
 */
export interface ProgressMessage {
  readonly jobId: string;
  readonly attempts: number;
}

export interface CancelMessage {
  readonly jobId: string;
  /** Epoch ms after which the request no longer matters (the fetch's deadline). */
  readonly until: number;
}

const CODES: Readonly<Record<FetchErrorCode, true>> = {
  timeout: true,
  connect: true,
  dns: true,
  tls: true,
  http_status: true,
  too_large: true,
  redirects: true,
  parse: true,
  policy: true,
  cancelled: true,
};

type Fields = Readonly<Record<string, unknown>>;

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCode(value: unknown): value is FetchErrorCode {
  return typeof value === 'string' && Object.hasOwn(CODES, value);
}

function optionalNumber(value: unknown): boolean {
  return value === undefined || typeof value === 'number';
}

export function isFetchOutcome(value: unknown): value is FetchOutcome {
  if (!isObject(value) || typeof value['attempts'] !== 'number') return false;
  if (value['ok'] === true) return typeof value['status'] === 'number' && typeof value['body'] === 'string';
  if (value['ok'] !== false) return false;
  const failure = value['failure'];
  return (
    isObject(failure) &&
    isCode(failure['code']) &&
    typeof failure['reason'] === 'string' &&
    optionalNumber(failure['status']) &&
    optionalNumber(failure['line']) &&
    optionalNumber(failure['column'])
  );
}

/** A light check: the worker's executeFetch validates the request itself. */
export function isCallbackJobData(value: unknown): value is CallbackJobData {
  if (!isObject(value) || typeof value['replyTo'] !== 'string') return false;
  const spec = value['spec'];
  return (
    isObject(spec) &&
    typeof spec['url'] === 'string' &&
    typeof spec['method'] === 'string' &&
    typeof spec['body'] === 'boolean' &&
    isObject(spec['fields']) &&
    typeof spec['deadline'] === 'number' &&
    (spec['expect'] === 'document' || spec['expect'] === 'status')
  );
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}

export function parseReply(raw: string): ReplyMessage | undefined {
  const value = parseJson(raw);
  if (!isObject(value) || typeof value['jobId'] !== 'string' || !isFetchOutcome(value['outcome'])) return undefined;
  return { jobId: value['jobId'], outcome: value['outcome'] };
}

export function parseProgress(raw: string): ProgressMessage | undefined {
  const value = parseJson(raw);
  if (!isObject(value) || typeof value['jobId'] !== 'string') return undefined;
  const attempts = value['attempts'];
  if (typeof attempts !== 'number' || !Number.isSafeInteger(attempts) || attempts < 0) return undefined;
  return { jobId: value['jobId'], attempts };
}

export function parseCancel(raw: string): CancelMessage | undefined {
  const value = parseJson(raw);
  if (!isObject(value) || typeof value['jobId'] !== 'string' || typeof value['until'] !== 'number') return undefined;
  return { jobId: value['jobId'], until: value['until'] };
}
