export { CallEvents, type CallEvent, type CallEventsStart, type CallStateName, type EventHeader, type EventOutlet, type EventTarget } from './call-events.js';
export { EventQueue, DEFAULT_MAX_BUFFER, EVENTS_KEEP_COMPLETED, EVENTS_KEEP_FAILED, type EventJobData, type EventQueueOptions } from './event-queue.js';
export { EventWorker, DEFAULT_EVENT_REQUEST_TIMEOUT_MS, type EventWorkerOptions } from './event-worker.js';
export { attemptsFor, backoffFor, DEFAULT_EVENT_RETRY, type EventRetry } from './retry.js';
