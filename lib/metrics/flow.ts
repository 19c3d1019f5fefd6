// The flow's side of the metrics, from outside the flow: a FlowFetcher that counts each
// callback's outcome, and an EventSink that counts the verbs run.
import type { CallbackRequest, EventSink, FetchResult, FlowEvent, FlowFetcher, SendResult } from '../flow/ports.js';
import { Metrics } from './metrics.js';

/** `fetcher`, counting every fetch and send (callbacks_total, duration, attempts). */
export function meteredFetcher(fetcher: FlowFetcher, metrics: Metrics): FlowFetcher {
  const observe = (result: FetchResult | SendResult, started: number): void => {
    const outcome = result.ok ? 'ok' : 'error';
    metrics.callbacks.inc(result.ok ? { outcome } : { outcome, code: result.failure.code });
    metrics.callbackDuration.observe({ outcome }, Metrics.secondsSince(started));
    metrics.callbackAttempts.observe({ outcome }, result.attempts);
  };
  return {
    async fetch(request: CallbackRequest, deadline: number, signal: AbortSignal): Promise<FetchResult> {
      const started = performance.now();
      const result = await fetcher.fetch(request, deadline, signal);
      observe(result, started);
      return result;
    },
    async send(request: CallbackRequest, deadline: number, signal: AbortSignal): Promise<SendResult> {
      const started = performance.now();
      const result = await fetcher.send(request, deadline, signal);
      observe(result, started);
      return result;
    },
  };
}

/** Counts the verbs the flow runs (verbs_total), then passes every event on to `next`. */
export function meteredEvents(metrics: Metrics, next: EventSink = { emit: () => undefined }): EventSink {
  return {
    emit(event: FlowEvent) {
      if (event.type === 'verb') metrics.verbs.inc({ verb: event.command, outcome: event.success ? 'ok' : (event.code ?? 'error') });
      next.emit(event);
    },
  };
}
