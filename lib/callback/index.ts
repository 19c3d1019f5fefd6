export * from './types.js';
export { executeFetch, type FetchEnvironment } from './execute.js';
export { DirectFetcher, type DirectFetcherOptions } from './direct-fetcher.js';
export { fetchSpecFromRequest, type SpecOptions } from './fetch-spec.js';
export { documentFromOutcome, parseFetchedDocument, statusFromOutcome } from './document.js';
export { UrlPolicy, AllowListError, PolicyRefusal, type Resolver, type RestrictedRange } from './url-policy.js';
export {
  canonicalV2,
  SIGNATURE_HEADER,
  SignatureInputError,
  signRequest,
  verifySignature,
  type SignedParts,
  type VerifyOptions,
} from './signature.js';
export { buildRequest, withQueryFields, ACCEPT, type OutgoingRequest, type BuildOptions } from './request.js';
export { planRetry, parseRetryAfter, backoffMs, hasTimeForAttempt, RETRY, type RetryDecision, type RetryInput } from './retry.js';
export { USER_AGENT } from './user-agent.js';
