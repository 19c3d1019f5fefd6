export { resumeFlow, runFlow, type FlowEnd } from './interpreter.js';
export type { FlowPosition, FlowProgress } from './progress.js';
export { DEFAULT_FLOW_OPTIONS, type FlowOptions, type FlowDependencies } from './context.js';
export { VerbFailure, CallEndedError, type FailureCode } from './failure.js';
export { sleep } from './sleep.js';
export type * from './ports.js';
