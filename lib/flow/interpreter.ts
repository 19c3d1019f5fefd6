import type { ErrorBranch, FlowDocument, Verb } from '../xml/index.js';
import { CallRecordings } from './call-recordings.js';
import { DEFAULT_FLOW_OPTIONS, type FlowContext, type FlowDependencies, type FlowOptions } from './context.js';
import { CallEndedError, VerbFailure } from './failure.js';
import { CALLER_HUNG_UP, NEXT, type Continuation } from './outcome.js';
import type { FlowEndReason, HangupRequest } from './ports.js';
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

class Interpreter implements FlowContext {
  readonly call;
  readonly fetcher;
  readonly speech;
  readonly audio;
  readonly events;
  readonly log;
  readonly signal: AbortSignal;
  readonly recordings = new CallRecordings();
  private fetchSteps = 0;

  constructor(
    deps: FlowDependencies,
    readonly options: FlowOptions,
  ) {
    ({ call: this.call, fetcher: this.fetcher, speech: this.speech } = deps);
    // `<Play record>` plays this call's own recordings only.
    this.audio = this.recordings.audioSource(deps.audio);
    ({ events: this.events, log: this.log } = deps);
    this.signal = deps.call.ended;
  }

  async run(first: FlowDocument): Promise<FlowEnd> {
    let documents = 1;
    let document = first;
    this.speech.prepare?.(document);
    this.events.emit({ type: 'document', source: 'initial', count: documents });
    try {
      for (;;) {
        const next = await this.runSequence(document.verbs);
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
