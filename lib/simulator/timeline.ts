import type { EventSink, FlowEvent } from '../flow/ports.js';
import type { CallerEvent } from './console-call.js';

export type TimelineLine = Readonly<Record<string, unknown>> & { readonly event: string; readonly t: number; readonly path: string };

export interface TimelineOptions {
  /**
   * A `verb` line for each verb that succeeds too (a failed one always has its `failed`
   * line). `simulate` leaves it off: its console call shows what each verb did. A call's
   * trail (lib/trail) turns it on: an ARI call has no console to show it.
   */
  readonly verbs?: boolean;
  /** When `t` counts from (epoch ms); default: when the Timeline is made. */
  readonly started?: number;
}

/**
 * Turns what the caller experiences and what the engine does into one ordered list of
 * lines, each stamped with `t` (ms since start) and the path of the verb that caused it.
 */
export class Timeline implements EventSink {
  private readonly started: number;
  private readonly verbs: boolean;
  private readonly running: string[] = [];
  /** Set while an error branch speaks its reason, before its own verbs start. */
  private branchPath: string | undefined;

  constructor(
    private readonly write: (line: TimelineLine) => void,
    options: TimelineOptions = {},
  ) {
    this.started = options.started ?? Date.now();
    this.verbs = options.verbs ?? false;
  }

  caller(event: CallerEvent): void {
    this.print(event);
  }

  emit(event: FlowEvent): void {
    switch (event.type) {
      case 'verb-start':
        this.running.push(event.path);
        this.branchPath = undefined;
        return;
      case 'verb':
        this.running.pop();
        this.branchPath = undefined;
        if (!event.success) {
          const { command, code, reason } = event;
          this.print({ event: 'failed', command, code, reason }, event.path);
        } else if (this.verbs) {
          this.print({ event: 'verb', command: event.command, tag: event.tag }, event.path);
        }
        return;
      case 'callback': {
        const { url, method, outcome, code, reason, status, attempts, ms } = event;
        this.print({ event: 'callback', url, method, outcome, code, reason, status, attempts, ms }, event.path);
        return;
      }
      case 'error-branch': {
        this.branchPath = event.path;
        const { tag, verb, code, reason } = event;
        this.print({ event: 'error-branch', tag, verb, code, reason }, event.path);
        return;
      }
      case 'document':
        if (event.source === 'callback') this.print({ event: 'document', count: event.count, url: event.url });
        return;
      case 'recording': {
        const { name, durationSeconds, tag } = event;
        this.print({ event: 'recording', name, durationSeconds, tag }, event.path);
        return;
      }
      case 'flow-end':
        this.print({ event: 'end', reason: event.reason, detail: event.detail }, 'Response');
        return;
      case 'resumed':
        this.print({ event: 'resumed', command: event.command }, event.path);
        return;
    }
  }

  private print(fields: Readonly<Record<string, unknown>> & { event: string }, path?: string): void {
    const where = path ?? this.branchPath ?? this.running.at(-1) ?? 'Response';
    const defined = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
    this.write({ ...defined, event: fields.event, t: Date.now() - this.started, path: where });
  }
}
