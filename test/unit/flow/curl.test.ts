import { expect } from 'chai';
import { runXml } from '../../support/flow-harness.js';
import { loopbackFetcher } from '../../support/fetchers.js';
import { startServer, type ScriptedServer } from '../../support/http-servers.js';

describe('<Curl>', () => {
  let server: ScriptedServer;
  /** Requests to /flaky so far. */
  let flaky = 0;

  before(async () => {
    server = await startServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (path === '/ok') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('not a document, and that is fine');
      if (path === '/flaky') return void res.writeHead((flaky += 1) === 1 ? 503 : 204).end();
      return void res.writeHead(404).end();
    });
  });

  after(() => server.close());

  it('posts the call\'s fields as JSON (body="true" by default), ignores the answer\'s body and goes on with the next verb', async () => {
    const seen = server.requests.length;
    const run = await runXml(`<Response><Curl url="${server.origin}/ok"/><Say>after</Say></Response>`, { fetcher: loopbackFetcher(), from: '15550001111' });
    expect(run.lines.filter((l) => l.event === 'say').map((l) => l.text)).to.deep.equal(['after']);
    const request = server.requests[seen];
    expect(request?.method).to.equal('POST');
    expect(request?.headers['content-type']).to.equal('application/json');
    expect(JSON.parse(request?.body ?? '{}')).to.include({ from: '15550001111', state: 'ringing' });
    expect(run.lines.find((l) => l.event === 'callback')).to.include({ outcome: 'ok', status: 200, attempts: 1 });
  });

  it('retries a 503 inside its timeout like a Callback, and succeeds on the 204 that follows', async () => {
    flaky = 0;
    const run = await runXml(`<Response><Curl url="${server.origin}/flaky" timeout="3000"/><Say>after</Say></Response>`, { fetcher: loopbackFetcher() });
    expect(run.lines.find((l) => l.event === 'callback')).to.include({ outcome: 'ok', status: 204, attempts: 2 });
    expect(run.lines.filter((l) => l.event === 'say').map((l) => l.text)).to.deep.equal(['after']);
  });

  it('runs its error branch when the server answers 404, with method GET and the fields in the query when body="false"', async () => {
    const seen = server.requests.length;
    const xml = `<Response><Curl url="${server.origin}/missing" method="GET" body="false"><Error><Say>sorry</Say></Error></Curl><Say>after</Say></Response>`;
    const run = await runXml(xml, { fetcher: loopbackFetcher() });
    expect(run.lines.find((l) => l.event === 'failed')).to.include({ code: 'http_status', reason: 'the server answered 404' });
    expect(run.lines.filter((l) => l.event === 'say').map((l) => l.text)).to.deep.equal(['sorry', 'after']);
    const request = server.requests[seen];
    expect(request?.method).to.equal('GET');
    expect(new URL(request?.url ?? '/', 'http://x').searchParams.get('state')).to.equal('ringing');
  });
});
