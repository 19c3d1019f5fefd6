// Shared set-up for the callback integration tests: real got, real loopback servers.
import type { FetchEnvironment } from '../../../lib/callback/execute.js';
import type { FetchSpec, SecretStore } from '../../../lib/callback/types.js';
import { UrlPolicy } from '../../../lib/callback/url-policy.js';

export const VALID_XML = '<Response><Hangup/></Response>';
export const SECRET = 'test-signing-secret';
export const APP = { uuid: 'app-0001', name: 'Demo app', data: { plan: 'gold', limits: { calls: 3 } } } as const;

export const secrets: SecretStore = { get: (keyId) => (keyId === APP.uuid ? SECRET : undefined) };

/** Loopback test servers listen on 127.0.0.1 only; nothing else on loopback is allowed. */
export const loopbackPolicy = new UrlPolicy('127.0.0.1/32');

export function env(overrides: Partial<FetchEnvironment> = {}): FetchEnvironment {
  // random 0: retries start at once, which keeps the tests fast and deterministic.
  return { policy: loopbackPolicy, secrets, maxBytes: 64 * 1024, random: () => 0, ...overrides };
}

export function spec(url: string, budgetMs: number, overrides: Partial<FetchSpec> = {}): FetchSpec {
  return {
    url,
    method: 'POST',
    body: false,
    fields: { call: 'call-1', sca: APP.uuid, state: 'live', from: '+15550001', tn: '+15550100' },
    deadline: Date.now() + budgetMs,
    expect: 'document',
    ...overrides,
  };
}

export const neverAborted = new AbortController().signal;

/** Milliseconds since `start` (performance.now()), rounded to 0.1 ms. */
export function since(start: number): number {
  return Math.round((performance.now() - start) * 10) / 10;
}

/** Outcome arrival against the budget, reported in the test output. */
export function report(label: string, elapsedMs: number, budgetMs: number): void {
  console.log(`      ${label}: ${elapsedMs} ms for a ${budgetMs} ms budget (overshoot ${Math.round((elapsedMs - budgetMs) * 10) / 10} ms)`);
}
