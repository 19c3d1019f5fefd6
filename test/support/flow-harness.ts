// Runs a flow the way the simulator does: the real parser, the real interpreter, the
// console call and a timeline of what the caller experienced.
import { runFlow, type FlowEnd, type FlowFetcher, type MediaRef, type FlowOptions, type Speech } from '../../lib/flow/index.js';
import { ConsoleCall } from '../../lib/simulator/console-call.js';
import { ConsoleMedia } from '../../lib/simulator/console-media.js';
import { Timeline, type TimelineLine } from '../../lib/simulator/timeline.js';
import { parseDocument } from '../../lib/xml/index.js';
import { silentLogger } from './silent-logger.js';

export interface HarnessOptions {
  readonly fetcher: FlowFetcher;
  readonly from?: string;
  readonly tn?: string;
  readonly digits?: string;
  readonly hangupAfterMs?: number;
  readonly playbackMs?: (media: MediaRef) => number;
  readonly speech?: Speech;
  readonly flow?: Partial<FlowOptions>;
}

export interface HarnessRun {
  readonly lines: TimelineLine[];
  readonly end: FlowEnd;
  readonly call: ConsoleCall;
}

export const CALL_ID = '6f1c1d1e-0000-4000-8000-000000000001';
export const SCA_ID = '0b6b0c6e-0000-4000-8000-0000000000aa';

export async function runXml(xml: string, options: HarnessOptions): Promise<HarnessRun> {
  const lines: TimelineLine[] = [];
  const timeline = new Timeline((line) => lines.push(line));
  const call = new ConsoleCall({
    call: CALL_ID,
    sca: SCA_ID,
    from: options.from ?? '15551230000',
    tn: options.tn ?? '15559870000',
    ...(options.digits === undefined ? {} : { digits: options.digits }),
    ...(options.hangupAfterMs === undefined ? {} : { hangupAfterMs: options.hangupAfterMs }),
    ...(options.playbackMs === undefined ? {} : { playbackMs: options.playbackMs }),
    onEvent: (event) => timeline.caller(event),
  });
  const media = new ConsoleMedia();
  const end = await runFlow(
    parseDocument(xml),
    { call, fetcher: options.fetcher, speech: options.speech ?? media, audio: media, events: timeline, log: silentLogger },
    options.flow,
  );
  return { lines, end, call };
}

/** The lines without their timing, for exact comparisons. */
export function untimed(lines: readonly TimelineLine[]): Record<string, unknown>[] {
  return lines.map(({ t: _t, ...rest }) => rest);
}
