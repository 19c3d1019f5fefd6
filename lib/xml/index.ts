export * from './types.js';
export * from './errors.js';
export { parseDocument, DEFAULT_MAX_DOCUMENT_BYTES } from './parse.js';
export type { ParseOptions } from './parse.js';
