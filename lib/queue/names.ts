// Names shared by the waiting side and the workers: job ids, Redis channels, defaults.

export const DEFAULT_PREFIX = 'opentact';
export const DEFAULT_QUEUE_NAME = 'callbacks';
export const DEFAULT_CONCURRENCY = 50;
export const JOB_NAME = 'fetch';
/** The queue of call events (spec §6) for the apps' `events_url`. */
export const EVENTS_QUEUE_NAME = 'events';

/**
 * Every queue the engine has, by name (each under QUEUE_PREFIX): what the queue dashboard
 * shows. A new queue is added here by name.
 */
export const ENGINE_QUEUES: readonly string[] = [DEFAULT_QUEUE_NAME, EVENTS_QUEUE_NAME];

/**
 * The job id of one fetch: deterministic per call and step, so enqueueing the same fetch
 * twice finds the job already there and never fetches twice. BullMQ 6 refuses ':' in a
 * custom id (it separates Redis key parts; only a legacy three-part form gets through),
 * so the call is percent-encoded (a UUID is unchanged) and '.' separates the step, which
 * is always the last part.
 */
export function jobIdFor(call: string, step: number): string {
  return `${encodeURIComponent(call)}.${step}`;
}

/** Where workers send one waiting process its results. */
export function replyChannel(prefix: string, queueName: string, instance: string): string {
  return `${prefix}:${queueName}:reply:${instance}`;
}

/**
 * Where workers tell one waiting process how many attempts a fetch has made so far: a
 * channel of its own beside the reply channel, so that a waiting process of an older
 * version never reads these messages as unreadable replies.
 */
export function progressChannel(replyTo: string): string {
  return `${replyTo}:progress`;
}

/** Where waiting processes ask every worker to abort a job it is running. */
export function cancelChannel(prefix: string, queueName: string): string {
  return `${prefix}:${queueName}:cancel`;
}
