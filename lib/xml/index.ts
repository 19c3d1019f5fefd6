export * from './types.js';
export * from './errors.js';
export { parseDocument, DEFAULT_MAX_DOCUMENT_BYTES, MAX_PROBLEMS } from './parse.js';
export type { ParseOptions } from './parse.js';
