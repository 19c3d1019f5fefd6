// The life of one inbound call once its app is known: answer (auto_answer), the first
// document, the flow. Never rejects; whatever happens, the call ends.
import type { CallControlApp } from '../config/apps.js';
import { CallEndedError } from '../flow/failure.js';
import { runFlow, type FlowEnd } from '../flow/interpreter.js';
import type { AudioSource, EventSink, FlowFetcher, Logger, Speech } from '../flow/ports.js';
import type { AriCall } from './ari-call.js';
import { loadFirstDocument } from './first-document.js';

export interface InboundCallDeps {
  readonly fetcher: FlowFetcher;
  readonly speech: Speech;
  readonly audio: AudioSource;
  readonly log: Logger;
  readonly maxDocuments: number;
  /** Hears the flow's events (besides the debug log). */
  readonly events?: EventSink;
}

/** Resolves with how the flow ended, or undefined when no flow ran. */
export async function runInboundCall(call: AriCall, app: CallControlApp, deps: InboundCallDeps): Promise<FlowEnd | undefined> {
  const { fetcher, speech, audio, log } = deps;
  if (app.autoAnswer) {
    try {
      await call.answer();
    } catch (error) {
      if (error instanceof CallEndedError) return undefined;
      // The flow's media verbs answer again; its error branches see what fails.
      log.warn({ err: error }, 'auto_answer failed');
    }
  }
  const first = await loadFirstDocument(app, call, fetcher, log);
  if (!first.ok) {
    if (!call.ended.aborted) {
      await call.hangup({ cause: 'temporary_failure', reason: first.reason }).catch((error: unknown) => {
        if (!(error instanceof CallEndedError)) log.warn({ err: error }, 'hang-up failed');
      });
    }
    return undefined;
  }
  const events: EventSink = {
    emit: (event) => {
      log.debug({ event }, 'flow event');
      deps.events?.emit(event);
    },
  };
  return runFlow(first.document, { call, fetcher, speech, audio, events, log }, { maxDocuments: deps.maxDocuments });
}
