import { expect } from 'chai';
import type { FlowFetcher, MediaRef, Speech } from '../../../lib/flow/index.js';
import { runXml, untimed, CALL_ID, SCA_ID } from '../../support/flow-harness.js';
import { startServer, type ScriptedServer } from '../../support/http-servers.js';
import { loopbackFetcher, noRequests } from '../../support/fetchers.js';

/** A fetcher for flows that make no callback: any fetch is a test failure. */
const noFetch: FlowFetcher = noRequests();

const xmlResponse = (body: string) => `<Response>${body}</Response>`;

describe('interpreter', () => {
  describe('verbs', () => {
    it('answers, speaks with the voice it was given, and hangs up with the tag', async () => {
      const run = await runXml(
        xmlResponse(`<Answer/><Say lang="fr-FR" gender="male" loop="2">Bonjour</Say><Hangup tag="done"/><Say>never</Say>`),
        { fetcher: noFetch },
      );
      expect(untimed(run.lines)).to.deep.equal([
        { event: 'answer', path: 'Response/Answer[0]' },
        { event: 'say', text: 'Bonjour', lang: 'fr-FR', gender: 'MALE', type: 'Standard', loop: 2, path: 'Response/Say[1]' },
        { event: 'hangup', cause: 'normal_clearing', reason: '<Hangup>', tag: 'done', path: 'Response/Hangup[2]' },
        { event: 'end', reason: 'hangup', path: 'Response' },
      ]);
      expect(run.end).to.deep.equal({ reason: 'hangup', documents: 1 });
    });

    it('answers before the first media verb when the document does not', async () => {
      const run = await runXml(xmlResponse('<Play>https://example.com/a.wav</Play>'), { fetcher: noFetch });
      expect(run.lines.map((l) => l.event)).to.deep.equal(['answer', 'play', 'hangup', 'end']);
      expect(run.lines[0]?.path).to.equal('Response/Play[0]');
    });

    it('waits the Answer delay before answering', async () => {
      const run = await runXml(xmlResponse('<Answer delay="150"/>'), { fetcher: noFetch });
      const answer = run.lines.find((l) => l.event === 'answer');
      expect(answer?.t).to.be.at.least(140);
    });

    it('plays a URL, and a recording this call made, by its tag', async () => {
      const run = await runXml(xmlResponse('<Play loop="3" url="https://example.com/a.mp3"/><Record tag="greeting"/><Play record="greeting"/>'), {
        fetcher: noFetch,
        digits: '#',
      });
      expect(untimed(run.lines).filter((l) => l.event === 'play')).to.deep.equal([
        { event: 'play', url: 'https://example.com/a.mp3', loop: 3, path: 'Response/Play[0]' },
        { event: 'play', record: 'greeting', loop: 1, path: 'Response/Play[2]' },
      ]);
    });

    it('pauses for the whole length', async () => {
      const run = await runXml(xmlResponse('<Pause length="120"/><Say>after</Say>'), { fetcher: noFetch });
      const say = run.lines.find((l) => l.event === 'say');
      expect(say?.t).to.be.at.least(115);
    });

    it('ends a pause early when the caller presses its dtmf_stop key', async () => {
      const run = await runXml(xmlResponse('<Pause length="60000" dtmf_stop="#"/><Say>after</Say>'), {
        fetcher: noFetch,
        digits: '#',
      });
      expect(untimed(run.lines).slice(1, 3)).to.deep.equal([
        { event: 'pause', ms: 60000, digit: '#', path: 'Response/Pause[0]' },
        { event: 'say', text: 'after', lang: 'en-US', gender: 'FEMALE', type: 'Standard', loop: 1, path: 'Response/Say[1]' },
      ]);
    });

    it('hangs up with normal clearing at the end of the document', async () => {
      const run = await runXml(xmlResponse('<Answer/>'), { fetcher: noFetch });
      expect(untimed(run.lines).slice(-2)).to.deep.equal([
        { event: 'hangup', cause: 'normal_clearing', reason: 'end of document', path: 'Response' },
        { event: 'end', reason: 'end-of-document', path: 'Response' },
      ]);
    });
  });

  describe('<Call> conditions', () => {
    const spoken = async (condition: string, from = '15551230000'): Promise<string[]> => {
      const run = await runXml(xmlResponse(`${condition}<Say>always</Say>`), { fetcher: noFetch, from });
      return run.lines.filter((l) => l.event === 'say').map((l) => String(l.text));
    };

    it('runs its children when the field equals the value, then goes on', async () => {
      expect(await spoken('<Call field="from" value="15551230000"><Say>matched</Say></Call>')).to.deep.equal(['matched', 'always']);
      expect(await spoken('<Call field="from" value="1555"><Say>matched</Say></Call>')).to.deep.equal(['always']);
    });

    it('compares to, call and sca', async () => {
      expect(await spoken('<Call field="to" value="15559870000"><Say>to</Say></Call>')).to.deep.equal(['to', 'always']);
      expect(await spoken(`<Call field="call" value="${CALL_ID}"><Say>call</Say></Call>`)).to.deep.equal(['call', 'always']);
      expect(await spoken(`<Call field="sca" value="${SCA_ID}"><Say>sca</Say></Call>`)).to.deep.equal(['sca', 'always']);
    });

    it('sees the state change from ringing to live', async () => {
      const xml =
        '<Call field="state" value="ringing"><Say>was ringing</Say></Call>' +
        '<Call field="state" value="live"><Say>now live</Say></Call>';
      expect(await spoken(xml)).to.deep.equal(['was ringing', 'now live', 'always']);
    });

    it('matches an absent caller ID with value "" and value "null"', async () => {
      expect(await spoken('<Call field="from" value=""><Say>anonymous</Say></Call>', '')).to.deep.equal(['anonymous', 'always']);
      expect(await spoken('<Call field="from" value="null"><Say>anonymous</Say></Call>', '')).to.deep.equal(['anonymous', 'always']);
      expect(await spoken('<Call field="from" value=""><Say>anonymous</Say></Call>')).to.deep.equal(['always']);
    });
  });

  describe('error branches', () => {
    it('runs a sibling <Error> after a failed verb, then goes on with the verb after the failed one', async () => {
      const run = await runXml(
        xmlResponse('<Play record="missing"/><Error tag="g"><Say>sorry</Say></Error><Say>next</Say>'),
        { fetcher: noFetch },
      );
      expect(untimed(run.lines).map(({ event, path, text, tag, code }) => ({ event, path, text, tag, code }))).to.deep.equal([
        { event: 'answer', path: 'Response/Play[0]', text: undefined, tag: undefined, code: undefined },
        { event: 'failed', path: 'Response/Play[0]', text: undefined, tag: undefined, code: 'media' },
        { event: 'error-branch', path: 'Response/Error[1]', text: undefined, tag: 'g', code: 'media' },
        { event: 'say', path: 'Response/Error[1]/Say[0]', text: 'sorry', tag: undefined, code: undefined },
        { event: 'say', path: 'Response/Say[2]', text: 'next', tag: undefined, code: undefined },
        { event: 'hangup', path: 'Response', text: undefined, tag: undefined, code: undefined },
        { event: 'end', path: 'Response', text: undefined, tag: undefined, code: undefined },
      ]);
    });

    it('skips a sibling <Error> when the verb before it succeeded', async () => {
      const run = await runXml(xmlResponse('<Say>hello</Say><Error><Say>sorry</Say></Error><Say>bye</Say>'), {
        fetcher: noFetch,
      });
      expect(run.lines.filter((l) => l.event === 'say').map((l) => l.text)).to.deep.equal(['hello', 'bye']);
    });

    it('speaks the failure reason first with say="true"', async () => {
      const run = await runXml(xmlResponse('<Play record="missing"><Error say="true"><Hangup/></Error></Play>'), {
        fetcher: noFetch,
      });
      const said = run.lines.find((l) => l.event === 'say');
      expect(said?.text).to.equal('Play failed: no recording named "missing".');
      expect(said?.path).to.equal('Response/Play[0]/Error[0]');
      expect(run.end.reason).to.equal('hangup');
    });

    it('logs a failed verb with no error branch and goes on', async () => {
      const run = await runXml(xmlResponse('<Play record="missing"/><Say>still here</Say>'), { fetcher: noFetch });
      expect(run.lines.map((l) => l.event)).to.deep.equal(['answer', 'failed', 'say', 'hangup', 'end']);
    });

    it('treats an unexpected error inside a verb as a failure and runs the branch', async () => {
      const broken: Speech = { render: () => Promise.reject(new TypeError('boom')) };
      const run = await runXml(xmlResponse('<Say>x</Say><Error><Play>https://example.com/sorry.wav</Play></Error>'), {
        fetcher: noFetch,
        speech: broken,
      });
      expect(untimed(run.lines).find((l) => l.event === 'failed')).to.include({ code: 'internal' });
      expect(run.lines.find((l) => l.event === 'play')?.url).to.equal('https://example.com/sorry.wav');
    });
  });

  describe('<Callback>', () => {
    let server: ScriptedServer;
    let documents: Record<string, { status: number; body: string; delayMs?: number }>;

    beforeEach(async () => {
      documents = {};
      server = await startServer((req, res) => {
        const path = new URL(req.url ?? '/', 'http://x').pathname;
        const answer = documents[path] ?? { status: 404, body: 'not here' };
        const send = (): void => {
          res.writeHead(answer.status, { 'content-type': 'application/xml' });
          res.end(answer.body);
        };
        if (answer.delayMs) setTimeout(send, answer.delayMs).unref();
        else send();
      });
    });
    afterEach(() => server.close());

    it('replaces the rest of the flow with the fetched document', async () => {
      documents['/next'] = { status: 200, body: xmlResponse('<Say>from the server</Say>') };
      const run = await runXml(xmlResponse(`<Callback url="${server.origin}/next"/><Say>never</Say>`), {
        fetcher: loopbackFetcher(),
      });
      expect(untimed(run.lines).map(({ event, path, text, outcome }) => ({ event, path, text, outcome }))).to.deep.equal([
        { event: 'callback', path: 'Response/Callback[0]', text: undefined, outcome: 'ok' },
        { event: 'document', path: 'Response', text: undefined, outcome: undefined },
        { event: 'answer', path: 'Response/Say[0]', text: undefined, outcome: undefined },
        { event: 'say', path: 'Response/Say[0]', text: 'from the server', outcome: undefined },
        { event: 'hangup', path: 'Response', text: undefined, outcome: undefined },
        { event: 'end', path: 'Response', text: undefined, outcome: undefined },
      ]);
      expect(run.end.documents).to.equal(2);
    });

    it('runs the child <Error> when the fetch fails, with the code and reason', async () => {
      documents['/broken'] = { status: 500, body: 'oops' };
      const run = await runXml(
        xmlResponse(
          `<Callback url="${server.origin}/broken" timeout="400"><Error tag="cb" say="true"><Hangup/></Error></Callback><Say>never</Say>`,
        ),
        { fetcher: loopbackFetcher() },
      );
      const callback = run.lines.find((l) => l.event === 'callback');
      expect(callback).to.include({ outcome: 'error', code: 'timeout', method: 'POST' });
      expect(run.lines.find((l) => l.event === 'error-branch')).to.include({ tag: 'cb', path: 'Response/Callback[0]/Error[0]' });
      expect(String(run.lines.find((l) => l.event === 'say')?.text)).to.match(/^Callback failed: .*500/);
      expect(run.end.reason).to.equal('hangup');
    });

    it('goes on with the next verb when the fetch fails and there is no error branch', async () => {
      const run = await runXml(xmlResponse(`<Callback url="${server.origin}/missing"/><Say>next</Say>`), {
        fetcher: loopbackFetcher(),
      });
      expect(run.lines.find((l) => l.event === 'callback')).to.include({ outcome: 'error', code: 'http_status', status: 404 });
      expect(run.lines.find((l) => l.event === 'say')?.text).to.equal('next');
    });

    it('stops at the document limit when a server keeps calling back', async () => {
      documents['/loop'] = { status: 200, body: xmlResponse(`<Callback url="${server.origin}/loop"/>`) };
      const run = await runXml(xmlResponse(`<Callback url="${server.origin}/loop"/>`), {
        fetcher: loopbackFetcher(),
        flow: { maxDocuments: 5 },
      });
      expect(run.end).to.deep.equal({ reason: 'document-limit', documents: 5 });
      expect(run.lines.find((l) => l.event === 'hangup')?.reason).to.equal('more than 5 documents in one call');
    });

    it('is cancelled when the caller hangs up, and nothing runs after it', async () => {
      documents['/slow'] = { status: 200, body: xmlResponse('<Say>too late</Say>'), delayMs: 3000 };
      const run = await runXml(
        xmlResponse(`<Callback url="${server.origin}/slow" timeout="5000"><Error><Say>error</Say></Error></Callback><Say>never</Say>`),
        { fetcher: loopbackFetcher(), hangupAfterMs: 150 },
      );
      expect(run.lines.map((l) => l.event)).to.deep.equal(['caller-hangup', 'callback', 'end']);
      expect(run.lines.find((l) => l.event === 'callback')).to.include({ outcome: 'error', code: 'cancelled' });
      expect(Number(run.lines.at(-1)?.t)).to.be.below(1000);
      expect(run.end.reason).to.equal('caller-hangup');
    });

    it('never waits past the deadline, whatever the fetcher does', async () => {
      const stuck: FlowFetcher = { fetch: () => new Promise(() => undefined), send: () => new Promise(() => undefined) };
      const run = await runXml(xmlResponse('<Callback url="https://example.com/x" timeout="200"/><Say>after</Say>'), {
        fetcher: stuck,
      });
      const callback = run.lines.find((l) => l.event === 'callback');
      expect(callback).to.include({ outcome: 'error', code: 'timeout' });
      expect(Number(callback?.t)).to.be.within(190, 450);
      expect(run.lines.find((l) => l.event === 'say')?.text).to.equal('after');
    });
  });

  it('offers every loaded document to the speech engine before running it', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end(xmlResponse('<Say>second</Say>'));
    });
    const prepared: string[][] = [];
    const speech: Speech = {
      render: (text, voice) => Promise.resolve({ kind: 'speech', text, voice }),
      prepare: (document) => prepared.push(document.verbs.map((verb) => verb.kind)),
    };
    try {
      await runXml(xmlResponse(`<Say>first</Say><Callback url="${server.origin}/next"/>`), { fetcher: loopbackFetcher(), speech });
    } finally {
      await server.close();
    }
    expect(prepared).to.deep.equal([['Say', 'Callback'], ['Say']]);
  });

  describe('the caller hanging up', () => {
    const longSpeech = (media: MediaRef): number => (media.kind === 'speech' ? 5000 : 0);

    it('stops the flow during a <Say>', async () => {
      const run = await runXml(xmlResponse('<Say>a long story</Say><Say>never</Say>'), {
        fetcher: noFetch,
        playbackMs: longSpeech,
        hangupAfterMs: 100,
      });
      expect(run.lines.map((l) => l.event)).to.deep.equal(['answer', 'say', 'caller-hangup', 'end']);
      expect(run.end.reason).to.equal('caller-hangup');
      expect(Number(run.lines.at(-1)?.t)).to.be.below(1000);
    });

    it('stops the flow during a <Pause>', async () => {
      const run = await runXml(xmlResponse('<Pause length="10000"/><Say>never</Say>'), { fetcher: noFetch, hangupAfterMs: 100 });
      expect(run.lines.map((l) => l.event)).to.deep.equal(['answer', 'pause', 'caller-hangup', 'end']);
      expect(Number(run.lines.at(-1)?.t)).to.be.below(1000);
    });

  });
});
