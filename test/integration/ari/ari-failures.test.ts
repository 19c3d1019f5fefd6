// An ARI request that times out or is refused during a verb (Asterisk overloaded) is a
// verb failure with its own code and a speakable reason: the error branch runs and the
// call goes on to its end (issue 9, item 8).
import { expect } from 'chai';
import { APP_NAME, AriSuite, CALLER, apps } from './harness.js';

const TIMED_OUT = 'Play failed: Asterisk did not answer in time.';
const REFUSED = 'Play failed: Asterisk refused the request.';
const REQUEST_TIMEOUT_MS = 300;

describe('ARI: a verb whose ARI request times out or is refused', function () {
  const suite = new AriSuite('ari-failures');

  before(async function () {
    const prompts = await suite.prompts();
    const flow = `<Play>${prompts.welcome}</Play><Error say="true"><Play>${prompts.sorry}</Play></Error><Play>${prompts.next}</Play>`;
    await suite.start(
      apps([
        { uuid: 'app-answered', name: 'Answered', numbers: ['15551239001'], xml: `<Response><Answer/>${flow}</Response>` },
        { uuid: 'app-unanswered', name: 'Unanswered', numbers: ['15551239002'], auto_answer: false, xml: `<Response>${flow}</Response>` },
      ]),
      { requestTimeoutMs: REQUEST_TIMEOUT_MS, says: [TIMED_OUT, REFUSED] },
    );
  });

  after(() => suite.close());

  /** Places a call whose channel id is known in advance, so faults can be set on its paths. */
  async function run(did: string, fault: (channelId: string) => void): Promise<{ id: string; lines: string[] }> {
    const id = `fault-${Math.random().toString(16).slice(2)}`;
    fault(id);
    await suite.fake.placeCall({ from: CALLER, did, app: APP_NAME, channelId: id });
    await suite.fake.waitForRequest((r) => r.method === 'DELETE' && r.path === `/ari/channels/${id}`, 5000);
    await suite.role.app.whenIdle();
    return { id, lines: suite.describe(id) };
  }

  /** The error-branch events of the calls so far, as logged (`flow event`). */
  function errorBranches(): { code: string; reason: string }[] {
    return suite.logger.entries.flatMap((entry) => {
      const event = (entry.obj as { event?: { type?: string; code?: string; reason?: string } }).event;
      return entry.msg === 'flow event' && event?.type === 'error-branch' ? [{ code: event.code ?? '', reason: event.reason ?? '' }] : [];
    });
  }

  function internalErrors(): string[] {
    return suite.logger.entries.filter((e) => e.level === 'error').map((e) => e.msg ?? '');
  }

  it('a Play whose request times out runs its error branch with ari_timeout, says why, goes on and hangs up with cause 16', async function () {
    const before = errorBranches().length;
    // Late enough that the engine gives up on it first (ARI_REQUEST_TIMEOUT_MS).
    const { lines } = await run('15551239001', (channelId) =>
      suite.fake.delayNext({ method: 'POST', path: `/channels/${channelId}/play` }, REQUEST_TIMEOUT_MS * 3),
    );
    // The late play reaches the fake at some point; what the engine did next is the rest.
    expect(lines.filter((line) => line !== 'POST play welcome.wav')).to.deep.equal([
      'POST answer',
      `POST play say:${TIMED_OUT}`,
      'POST play sorry.wav',
      'POST play next.wav',
      'DELETE 16',
    ]);
    expect(errorBranches().slice(before)).to.deep.equal([{ code: 'ari_timeout', reason: 'Asterisk did not answer in time' }]);
    expect(internalErrors()).to.deep.equal([]);
  });

  it('a Play whose answer request times out (the verb answers first) is ari_timeout too, not an internal error', async function () {
    const before = errorBranches().length;
    const { lines } = await run('15551239002', (channelId) =>
      suite.fake.delayNext({ method: 'POST', path: `/channels/${channelId}/answer` }, REQUEST_TIMEOUT_MS * 3),
    );
    // The error branch answers again before speaking; the first answer lands late.
    expect(lines.filter((line) => line !== 'POST answer')).to.deep.equal([
      `POST play say:${TIMED_OUT}`,
      'POST play sorry.wav',
      'POST play next.wav',
      'DELETE 16',
    ]);
    expect(errorBranches().slice(before)).to.deep.equal([{ code: 'ari_timeout', reason: 'Asterisk did not answer in time' }]);
    expect(internalErrors()).to.deep.equal([]);
  });

  it('a Play Asterisk refuses (503) runs its error branch with ari_unavailable and the call goes on', async function () {
    const before = errorBranches().length;
    const { lines } = await run('15551239001', (channelId) =>
      suite.fake.failNext({ method: 'POST', path: `/channels/${channelId}/play` }, { status: 503, message: 'Service Unavailable' }),
    );
    expect(lines).to.deep.equal(['POST answer', 'POST play welcome.wav', `POST play say:${REFUSED}`, 'POST play sorry.wav', 'POST play next.wav', 'DELETE 16']);
    expect(errorBranches().slice(before)).to.deep.equal([{ code: 'ari_unavailable', reason: 'Asterisk refused the request' }]);
    expect(internalErrors()).to.deep.equal([]);
  });
});
