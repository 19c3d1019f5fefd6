// A flow told where it stands at each top-level verb (what the stasis role saves), run on
// from such a position (what the next process does after a restart), and handed over at
// a verb boundary (a deploy).
import { expect } from 'chai';
import { resumeFlow, runFlow, type CallbackRequest, type FlowFetcher, type FlowPosition } from '../../../lib/flow/index.js';
import { ConsoleCall } from '../../../lib/simulator/console-call.js';
import { ConsoleMedia } from '../../../lib/simulator/console-media.js';
import { Timeline, type TimelineLine } from '../../../lib/simulator/timeline.js';
import { parseDocument } from '../../../lib/xml/index.js';
import { silentLogger } from '../../support/silent-logger.js';

const FIRST = '<Response><Say>one</Say><Callback url="https://example.com/next"/><Say>never</Say></Response>';
const NEXT = '<Response><Play>https://example.com/a.wav</Play><Pause length="10"/><Hangup/></Response>';

/** Answers every fetch with NEXT and remembers the steps asked for. */
function recordingFetcher(steps: number[]): FlowFetcher {
  return {
    fetch: async (request: CallbackRequest) => {
      steps.push(request.step);
      return { ok: true, document: parseDocument(NEXT), attempts: 1, status: 200 };
    },
    send: async () => ({ ok: true, attempts: 1, status: 200 }),
  };
}

function parts(handover?: AbortSignal) {
  const lines: TimelineLine[] = [];
  const timeline = new Timeline((line) => lines.push(line));
  const call = new ConsoleCall({ call: 'c-1', sca: 'app-1', from: '1555', tn: '1666', onEvent: (event) => timeline.caller(event) });
  const media = new ConsoleMedia();
  const positions: FlowPosition[] = [];
  const steps: number[] = [];
  const deps = {
    call,
    fetcher: recordingFetcher(steps),
    speech: media,
    audio: media,
    events: timeline,
    log: silentLogger,
    progress: { at: (position: FlowPosition) => positions.push(position) },
    ...(handover === undefined ? {} : { handover }),
  };
  return { lines, positions, steps, deps };
}

const where = (p: FlowPosition): string => `${p.documents}:${p.verb} steps=${p.fetchSteps}`;

describe('a flow resumed after a restart', () => {
  it('tells its position as each top-level verb starts: document, verb, fetch steps so far', async () => {
    const { positions, steps, deps } = parts();
    const end = await runFlow(parseDocument(FIRST), deps);
    expect(end).to.deep.equal({ reason: 'hangup', documents: 2 });
    expect(positions.map(where)).to.deep.equal(['1:0 steps=0', '1:1 steps=0', '2:0 steps=1', '2:1 steps=1', '2:2 steps=1']);
    expect(positions[2]?.document.source).to.equal(NEXT);
    expect(steps).to.deep.equal([1]);
  });

  it('run from a saved position: says the gap (the verb cut off), runs that verb again with the same fetch step, then the rest', async () => {
    const { lines, positions, steps, deps } = parts();
    const saved: FlowPosition = { document: parseDocument(FIRST), documents: 1, verb: 1, fetchSteps: 0, recordings: [] };
    const end = await resumeFlow(saved, deps);
    expect(end).to.deep.equal({ reason: 'hangup', documents: 2 });
    // The Callback's fetch is step 1 again: the same queue job as before the restart.
    expect(steps).to.deep.equal([1]);
    expect(lines.map((l) => `${l.event} ${l.path}`)).to.deep.equal([
      'resumed Response/Callback[1]',
      'callback Response/Callback[1]',
      'document Response',
      // A console call starts unanswered; an Asterisk channel found Up does not answer again.
      'answer Response/Play[0]',
      'play Response/Play[0]',
      'pause Response/Pause[1]',
      'hangup Response/Hangup[2]',
      'end Response',
    ]);
    expect(positions.map(where)).to.deep.equal(['1:1 steps=0', '2:0 steps=1', '2:1 steps=1', '2:2 steps=1']);
  });

  it('keeps the recordings of the saved position for <Play record>', async () => {
    const { lines, deps } = parts();
    const document = parseDocument('<Response><Play record="greeting"/><Hangup/></Response>');
    const recording = { name: 'c-1-greeting', durationSeconds: 2, media: { kind: 'sound' as const, uri: 'recording:c-1-greeting' } };
    await resumeFlow({ document, documents: 1, verb: 0, fetchSteps: 0, recordings: [['greeting', recording]] }, deps);
    expect(lines.filter((l) => l.event === 'failed')).to.deep.equal([]);
  });

  it('handed over: stops at the next top-level verb without hanging up; the position saved last is that verb', async () => {
    const handover = new AbortController();
    const { lines, positions, deps } = parts(handover.signal);
    const document = parseDocument('<Response><Say>one</Say><Say>two</Say><Hangup/></Response>');
    handover.abort();
    const end = await runFlow(document, deps);
    expect(end).to.deep.equal({ reason: 'handover', documents: 1 });
    expect(positions.map(where)).to.deep.equal(['1:0 steps=0']);
    expect(lines.some((l) => l.event === 'hangup')).to.equal(false);
  });
});
