import { expect } from 'chai';
import type { FlowFetcher } from '../../../lib/flow/index.js';
import { runXml, type HarnessRun } from '../../support/flow-harness.js';
import { loopbackFetcher, noRequests } from '../../support/fetchers.js';
import { startServer } from '../../support/http-servers.js';

const noFetch: FlowFetcher = noRequests();

const MENU =
  '<Gather numDigits="2" timeout="100" attempts="2">' +
  '<Say>Press one one or two two</Say><Pause length="50"/>' +
  '<DTMF value="11"><Say>one</Say></DTMF><DTMF value="22"><Say>two</Say></DTMF>' +
  '<Default><Say>other</Say></Default>' +
  '<Error tag="nothing"><Say>bye</Say></Error>' +
  '</Gather><Say>after</Say>';

/** What the caller heard and pressed, in order: `say:…`, `pause`, `digits:…`. */
function heard(run: HarnessRun): string[] {
  return run.lines.flatMap((line) => {
    if (line.event === 'say') return [`say:${String(line.text)}${line.digit === undefined ? '' : ` (stopped by ${String(line.digit)})`}`];
    if (line.event === 'pause') return [`pause${line.digit === undefined ? '' : ` (stopped by ${String(line.digit)})`}`];
    if (line.event === 'digits') return [`digits:${String(line.digits)}`];
    if (line.event === 'failed') return [`failed:${String(line.code)}:${String(line.reason)}`];
    return [];
  });
}

describe('<Gather>', () => {
  it('stops the prompts on the first key, keeps it as the first digit, and runs the matching DTMF branch, then goes on', async () => {
    const run = await runXml(`<Response>${MENU}</Response>`, { fetcher: noFetch, digits: '11' });
    expect(heard(run)).to.deep.equal(['say:Press one one or two two (stopped by 1)', 'digits:1', 'say:one', 'say:after']);
  });

  it('runs Default for digits that match no branch', async () => {
    const run = await runXml(`<Response>${MENU}</Response>`, { fetcher: noFetch, digits: '39' });
    expect(heard(run)).to.deep.equal(['say:Press one one or two two (stopped by 3)', 'digits:9', 'say:other', 'say:after']);
  });

  it('ends early on dtmf_stop, which is not part of the digits', async () => {
    const xml = '<Response><Gather numDigits="4" timeout="100"><Pause length="50"/><DTMF value="12"><Say>twelve</Say></DTMF></Gather></Response>';
    const run = await runXml(xml, { fetcher: noFetch, digits: '12#' });
    expect(heard(run)).to.deep.equal(['pause (stopped by 1)', 'digits:2', 'say:twelve']);
  });

  it('ends after `timeout` of silence with the digits it has', async () => {
    const xml = '<Response><Gather numDigits="4" timeout="100"><DTMF value="7"><Say>seven</Say></DTMF></Gather></Response>';
    const run = await runXml(xml, { fetcher: noFetch, digits: '7' });
    expect(heard(run)).to.deep.equal(['digits:7', 'say:seven']);
  });

  it('repeats prompts and collection `attempts` times, then fails with "no digits" and runs its error branch', async () => {
    const run = await runXml(`<Response>${MENU}</Response>`, { fetcher: noFetch });
    expect(heard(run)).to.deep.equal([
      'say:Press one one or two two',
      'pause',
      'digits:',
      'say:Press one one or two two',
      'pause',
      'digits:',
      'failed:no_input:no digits',
      'say:bye',
      'say:after',
    ]);
  });

  it('counts the stop key pressed before any digit as nothing pressed', async () => {
    const xml = '<Response><Gather timeout="100"><Say>Menu</Say><DTMF value="1"><Say>one</Say></DTMF></Gather></Response>';
    const run = await runXml(xml, { fetcher: noFetch, digits: '#' });
    expect(heard(run)).to.deep.equal(['say:Menu (stopped by #)', 'failed:no_input:no digits']);
  });

  it('with url: sends the digits like a Callback, with the field dtmf, and the answer replaces the flow', async () => {
    const server = await startServer((_req, res) => res.writeHead(200, { 'content-type': 'application/xml' }).end('<Response><Say>thanks</Say></Response>'));
    try {
      const xml = `<Response><Gather url="${server.origin}/menu" method="GET" timeout="2000"><Say>Menu</Say></Gather><Say>never</Say></Response>`;
      const run = await runXml(xml, { fetcher: loopbackFetcher(), digits: '5' });
      expect(heard(run)).to.deep.equal(['say:Menu (stopped by 5)', 'say:thanks']);
      const sent = new URL(server.requests[0]?.url ?? '/', 'http://x').searchParams;
      expect(sent.get('dtmf')).to.equal('5');
      expect(server.requests[0]?.method).to.equal('GET');
    } finally {
      await server.close();
    }
  });

  it('with url: a failed fetch runs the error branch', async () => {
    const server = await startServer((_req, res) => res.writeHead(404).end());
    try {
      const xml = `<Response><Gather url="${server.origin}/menu" timeout="1000"><Say>Menu</Say><Error><Say>sorry</Say></Error></Gather><Say>after</Say></Response>`;
      const run = await runXml(xml, { fetcher: loopbackFetcher(), digits: '5' });
      expect(heard(run)).to.deep.equal(['say:Menu (stopped by 5)', 'failed:http_status:the server answered 404', 'say:sorry', 'say:after']);
    } finally {
      await server.close();
    }
  });
});

describe('<Gather> in the simulator: --digits', () => {
  it('takes a key per prompt or pause, and `w` lets a prompt go by without a key', async () => {
    const xml = '<Response><Gather numDigits="1" timeout="100"><Say>One</Say><Say>Two</Say><DTMF value="5"><Say>five</Say></DTMF></Gather></Response>';
    const run = await runXml(xml, { fetcher: noFetch, digits: 'w5' });
    expect(heard(run)).to.deep.equal(['say:One', 'say:Two (stopped by 5)', 'say:five']);
  });

  it('reads `w` during collection as a second of silence: collection goes on when its timeout is longer, ends when not', async () => {
    const patient = '<Response><Gather numDigits="2" timeout="1500"><DTMF value="12"><Say>twelve</Say></DTMF></Gather></Response>';
    const waited = await runXml(patient, { fetcher: noFetch, digits: '1w2' });
    expect(heard(waited)).to.deep.equal(['digits:12', 'say:twelve']);
    const hasty = '<Response><Gather numDigits="2" timeout="500"><DTMF value="1"><Say>one</Say></DTMF></Gather></Response>';
    const timedOut = await runXml(hasty, { fetcher: noFetch, digits: '1w2' });
    expect(heard(timedOut)).to.deep.equal(['digits:1', 'say:one']);
  });
});
