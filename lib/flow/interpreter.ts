import type { ErrorBranch, FlowDocument, Verb } from '../xml/index.js';
import { CallRecordings } from './call-recordings.js';
import { DEFAULT_FLOW_OPTIONS, type FlowContext, type FlowDependencies, type FlowOptions } from './context.js';
import { CallEndedError, VerbFailure } from './failure.js';
import { CALLER_HUNG_UP, HANDED_OVER, NEXT, type Continuation } from './outcome.js';
import type { FlowEndReason, HangupRequest } from './ports.js';
import type { FlowPosition } from './progress.js';
import type { VerbHandler } from './verbs/handler.js';
import { verbHandlers } from './verbs/index.js';

export interface FlowEnd {
  readonly reason: FlowEndReason;
  /** Documents run, the first included. */
  readonly documents: number;
}

/**
 * Runs a call's flow to its end: the first document, then every document a `<Callback>`
 * replaces it with. Never rejects: whatever goes wrong, the call is hung up.
 */
export async function runFlow(
  document: FlowDocument,
  deps: FlowDependencies,
  options: Partial<FlowOptions> = {},
): Promise<FlowEnd> {
  return new Interpreter(deps, { ...DEFAULT_FLOW_OPTIONS, ...options }).run(document);
}

/**
 * Runs the rest of a flow another process started (see FlowProgress): the verb that was
 * cut off runs again from its start, then the flow goes on as it would have.
 */
export async function resumeFlow(position: FlowPosition, deps: FlowDependencies, options: Partial<FlowOptions> = {}): Promise<FlowEnd> {
  return new Interpreter(deps, { ...DEFAULT_FLOW_OPTIONS, ...options }).run(position.document, position);
}

class Interpreter implements FlowContext {
  readonly call;
  readonly fetcher;
  readonly speech;
  readonly audio;
  readonly events;
  readonly log;
  readonly signal: AbortSignal;
  readonly recordings = new CallRecordings();
  readonly progress;
  readonly handover;
  private fetchSteps = 0;

  constructor(
    deps: FlowDependencies,
    readonly options: FlowOptions,
  ) {
    ({ call: this.call, fetcher: this.fetcher, speech: this.speech } = deps);
    // `<Play record>` plays this call's own recordings only.
    this.audio = this.recordings.audioSource(deps.audio);
    ({ events: this.events, log: this.log, progress: this.progress, handover: this.handover } = deps);
    this.signal = deps.call.ended;
  }

  async run(first: FlowDocument, from?: FlowPosition): Promise<FlowEnd> {
    let documents = from?.documents ?? 1;
    let document = first;
    let start = 0;
    this.speech.prepare?.(document);
    if (from === undefined) {
      this.events.emit({ type: 'document', source: 'initial', count: documents });
    } else {
      start = from.verb;
      this.fetchSteps = from.fetchSteps;
      for (const [tag, recording] of from.recordings) this.recordings.add(tag, recording);
      const cut = document.verbs[start];
      if (cut !== undefined) this.events.emit({ type: 'resumed', command: cut.kind, path: cut.path });
    }
    try {
      for (;;) {
        const next = await this.runDocument(document, documents, start);
        start = 0;
        if (next.kind === 'end') return this.finish(next.reason, documents);
        if (next.kind === 'next') {
          await this.hangup({ cause: 'normal_clearing', reason: 'end of document' });
          return this.finish('end-of-document', documents);
        }
        if (documents >= this.options.maxDocuments) {
          const reason = `more than ${this.options.maxDocuments} documents in one call`;
          this.log.warn({ url: next.url, documents }, `hanging up: ${reason}`);
          await this.hangup({ cause: 'normal_clearing', reason });
          return this.finish('document-limit', documents, reason);
        }
        documents += 1;
        document = next.document;
        this.speech.prepare?.(document);
        this.events.emit({ type: 'document', source: 'callback', count: documents, url: next.url });
      }
    } catch (error) {
      this.log.error({ err: error }, 'flow stopped by an internal error');
      await this.hangup({ cause: 'temporary_failure', reason: 'internal error' });
      return this.finish('internal-error', documents);
    }
  }

  /** The document's own verbs from `start`: each boundary is told, and may hand the call over. */
  private async runDocument(document: FlowDocument, documents: number, start: number): Promise<Continuation> {
    const { verbs } = document;
    for (let verb = start; verb < verbs.length; verb += 1) {
      if (this.signal.aborted) return this.ended();
      // Told before the handover check: the next process starts at this verb, not the one before.
      this.progress?.at({ document, documents, verb, fetchSteps: this.fetchSteps, recordings: this.recordings.entries() });
      if (this.handover?.aborted) return HANDED_OVER;
      const next = await this.runVerb(verbs[verb] as Verb);
      if (next.kind === 'end') return next.reason === 'caller-hangup' ? this.ended() : next;
      if (next.kind !== 'next') return next;
    }
    return this.signal.aborted ? this.ended() : NEXT;
  }

  /** The call ended under the flow: the caller left, or the call was handed over. */
  private ended(): Continuation {
    return this.handover?.aborted ? HANDED_OVER : CALLER_HUNG_UP;
  }

  async runSequence(verbs: readonly Verb[]): Promise<Continuation> {
    for (const verb of verbs) {
      if (this.signal.aborted) return CALLER_HUNG_UP;
      const next = await this.runVerb(verb);
      if (next.kind !== 'next') return next;
    }
    return this.signal.aborted ? CALLER_HUNG_UP : NEXT;
  }

  async ensureAnswered(): Promise<void> {
    if (this.call.info.state !== 'live') await this.call.answer();
  }

  nextFetchStep(): number {
    this.fetchSteps += 1;
    return this.fetchSteps;
  }

  private async runVerb(verb: Verb): Promise<Continuation> {
    // The table is keyed by kind, so the handler always matches the verb it is given.
    const handler = verbHandlers[verb.kind] as VerbHandler<Verb>;
    let next: Continuation;
    this.events.emit({ type: 'verb-start', command: verb.kind, path: verb.path });
    // The verb's lines carry its path (pino child): what it logs, and what fails in it.
    const ctx = this.verbContext(verb);
    try {
      next = await handler.run(verb, ctx);
    } catch (error) {
      if (error instanceof CallEndedError || this.signal.aborted) return CALLER_HUNG_UP;
      return this.handleFailure(verb, toFailure(error, verb, ctx));
    }
    this.events.emit({ type: 'verb', command: verb.kind, path: verb.path, success: true, ...tagOf(verb) });
    return next;
  }

  /** The interpreter as one verb sees it: the same call and state, a logger with the verb's path. */
  private verbContext(verb: Verb): FlowContext {
    return {
      call: this.call,
      fetcher: this.fetcher,
      speech: this.speech,
      audio: this.audio,
      events: this.events,
      log: this.log.child({ path: verb.path }),
      options: this.options,
      signal: this.signal,
      recordings: this.recordings,
      runSequence: (verbs) => this.runSequence(verbs),
      ensureAnswered: () => this.ensureAnswered(),
      nextFetchStep: () => this.nextFetchStep(),
    };
  }

  /** Spec §2: run the verb's error branch if it has one, else log and go on. */
  private async handleFailure(verb: Verb, failure: VerbFailure): Promise<Continuation> {
    const { code, reason } = failure;
    this.events.emit({ type: 'verb', command: verb.kind, path: verb.path, success: false, code, reason, ...tagOf(verb) });
    const branch = verb.onError;
    if (!branch) {
      this.log.warn({ path: verb.path, code, reason }, `<${verb.kind}> failed; no error branch, going on`);
      return NEXT;
    }
    this.events.emit({
      type: 'error-branch',
      path: branch.path,
      verb: verb.path,
      code,
      reason,
      ...(branch.tag === undefined ? {} : { tag: branch.tag }),
    });
    if (branch.say) await this.sayFailure(verb, branch, failure);
    if (this.signal.aborted) return CALLER_HUNG_UP;
    return this.runSequence(branch.verbs);
  }

  private async sayFailure(verb: Verb, branch: ErrorBranch, failure: VerbFailure): Promise<void> {
    const text = `${verb.kind} failed: ${failure.reason}.`;
    try {
      await this.ensureAnswered();
      const media = await this.speech.render(text, this.options.errorVoice, this.signal);
      await this.call.play(media, { loop: 1 });
    } catch (error) {
      if (error instanceof CallEndedError || this.signal.aborted) return;
      this.log.warn({ err: error, path: branch.path }, 'could not speak the failure reason');
    }
  }

  /** Hangs up unless the call is already over; a call that is gone is not an error. */
  private async hangup(request: HangupRequest): Promise<void> {
    if (this.signal.aborted) return;
    try {
      await this.call.hangup(request);
    } catch (error) {
      if (!(error instanceof CallEndedError)) this.log.warn({ err: error }, 'hang-up failed');
    }
  }

  private finish(reason: FlowEndReason, documents: number, detail?: string): FlowEnd {
    this.events.emit({ type: 'flow-end', reason, ...(detail === undefined ? {} : { detail }) });
    return { reason, documents };
  }
}

function toFailure(error: unknown, verb: Verb, ctx: FlowContext): VerbFailure {
  if (error instanceof VerbFailure) return error;
  ctx.log.error({ err: error, path: verb.path }, `<${verb.kind}> threw an unexpected error`);
  return new VerbFailure('internal', 'an internal error occurred', { cause: error });
}

function tagOf(verb: Verb): { tag?: string } {
  return 'tag' in verb && verb.tag !== undefined ? { tag: verb.tag } : {};
}
