import type { RecordVerb } from '../../xml/index.js';
import { CallEndedError } from '../failure.js';
import { NEXT, type Continuation } from '../outcome.js';
import type { Recording } from '../ports.js';
import type { VerbHandler } from './handler.js';

/**
 * `<Record>` (spec §3): records the caller after a beep, up to `timeout`, ended early by a
 * `dtmf_stop` key; with children, records while they run and stops when they end (their
 * continuation — a hang-up, a replaced flow — is the verb's). Succeeds when a recording
 * was stored; a tagged one can then be played back with `<Play record="tag">` in this
 * call. `asr` is accepted and not acted on.
 */
export const record: VerbHandler<RecordVerb> = {
  async run(verb, ctx) {
    await ctx.ensureAnswered();
    let next: Continuation = NEXT;
    const during =
      verb.verbs.length === 0
        ? {}
        : {
            during: async (): Promise<void> => {
              next = await ctx.runSequence(verb.verbs);
            },
          };
    let recording: Recording;
    try {
      recording = await ctx.call.record({
        maxMs: verb.timeout,
        stopOnDigits: verb.verbs.length === 0 ? verb.dtmfStop : '',
        beep: true,
        ...(verb.tag === undefined ? {} : { tag: verb.tag }),
        ...during,
      });
    } catch (error) {
      // The children hung up or replaced the flow: that is what comes next, not a failure.
      if (error instanceof CallEndedError && next.kind !== 'next') return next;
      throw error;
    }
    const { name, durationSeconds } = recording;
    if (verb.tag !== undefined) ctx.recordings.add(verb.tag, recording);
    ctx.log.info({ path: verb.path, recording: name, durationSeconds, ...(verb.tag === undefined ? {} : { tag: verb.tag }) }, 'recording stored');
    ctx.events.emit({ type: 'recording', path: verb.path, name, durationSeconds, ...(verb.tag === undefined ? {} : { tag: verb.tag }) });
    return next;
  },
};
