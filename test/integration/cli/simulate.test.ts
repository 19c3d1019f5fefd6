import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { jsonLines, runCli } from '../../support/cli.js';
import { startServer, type ScriptedServer } from '../../support/http-servers.js';

const LOOPBACK = { OUTBOUND_ALLOW: '127.0.0.0/8' };

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly delayMs?: number;
}

describe('opentact-ari simulate', () => {
  let dir: string;
  let server: ScriptedServer;
  /** What the scripted server answers, by path (a function is asked at each request). */
  let routes: Record<string, Answer | (() => Answer)>;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'opentact-simulate-'));
    server = await startServer((req, res) => {
      const route = routes[new URL(req.url ?? '/', 'http://x').pathname] ?? { status: 404, body: '' };
      const answer = typeof route === 'function' ? route() : route;
      const send = (): void => {
        res.writeHead(answer.status, { 'content-type': 'application/xml' });
        res.end(answer.body);
      };
      if (answer.delayMs) setTimeout(send, answer.delayMs).unref();
      else send();
    });
  });
  beforeEach(() => {
    routes = {};
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  const flowFile = async (name: string, xml: string): Promise<string> => {
    const file = path.join(dir, name);
    await writeFile(file, xml);
    return file;
  };

  it('prints what the caller experiences, one JSON line each, with t and path', async () => {
    const result = await runCli(['simulate', 'test/fixtures/welcome.xml']);
    expect(result.code).to.equal(0);
    const lines = jsonLines(result.stdout);
    expect(lines.map(({ t: _t, ...rest }) => rest)).to.deep.equal([
      { event: 'answer', path: 'Response/Answer[0]' },
      { event: 'say', text: 'Welcome to Opentact.', lang: 'en-US', gender: 'FEMALE', type: 'Standard', loop: 1, path: 'Response/Say[1]' },
      { event: 'pause', ms: 50, path: 'Response/Pause[2]' },
      { event: 'hangup', cause: 'normal_clearing', reason: '<Hangup>', tag: 'bye', path: 'Response/Hangup[3]' },
      { event: 'end', reason: 'hangup', path: 'Response' },
    ]);
    for (const line of lines) expect(line.t).to.be.a('number');
    expect(Number(lines[3]?.t)).to.be.at.least(50);
  });

  it('fetches a callback with the request fields and replaces the flow', async () => {
    routes['/next'] = { status: 200, body: '<Response><Say>second document</Say></Response>' };
    const file = await flowFile(
      'callback.xml',
      `<Response><Answer/><Callback url="${server.origin}/next?keep=1" method="get" tag="t1"/><Say>never</Say></Response>`,
    );
    const before = server.requests.length;
    const result = await runCli(['simulate', file, '--from', '15551112222', '--to', '15553334444'], LOOPBACK);
    expect(result.code).to.equal(0);
    const lines = jsonLines(result.stdout);
    expect(lines.find((l) => l.event === 'callback')).to.include({
      url: `${server.origin}/next?keep=1`,
      method: 'GET',
      outcome: 'ok',
      path: 'Response/Callback[1]',
    });
    expect(lines.filter((l) => l.event === 'say').map((l) => l.text)).to.deep.equal(['second document']);
    const request = server.requests[before];
    expect(request?.method).to.equal('GET');
    const query = new URL(request?.url ?? '', 'http://x').searchParams;
    expect(Object.fromEntries(query)).to.deep.include({ keep: '1', from: '15551112222', tn: '15553334444', state: 'live', tag: 't1' });
    expect(query.get('call')).to.match(/^[0-9a-f-]{36}$/);
  });

  it('shows the error branch with the code and reason when the server answers 500 until the budget is spent', async () => {
    routes['/fail'] = { status: 500, body: 'down' };
    const file = await flowFile(
      'fail.xml',
      `<Response><Callback url="${server.origin}/fail" timeout="300"><Error tag="oops"><Say>Sorry</Say></Error></Callback></Response>`,
    );
    const result = await runCli(['simulate', file], LOOPBACK);
    const lines = jsonLines(result.stdout);
    const callback = lines.find((l) => l.event === 'callback');
    expect(callback).to.include({ outcome: 'error', code: 'timeout' });
    expect(String(callback?.reason)).to.contain('500');
    expect(lines.find((l) => l.event === 'error-branch')).to.include({ tag: 'oops', path: 'Response/Callback[0]/Error[0]' });
    expect(lines.find((l) => l.event === 'say')?.text).to.equal('Sorry');
  });

  it('reports garbage from the server as a parse error with its position', async () => {
    routes['/garbage'] = { status: 200, body: '<Response>\n  <Sya>hi</Sya>\n</Response>' };
    const file = await flowFile('garbage.xml', `<Response><Callback url="${server.origin}/garbage"/></Response>`);
    const result = await runCli(['simulate', file], LOOPBACK);
    const callback = jsonLines(result.stdout).find((l) => l.event === 'callback');
    expect(callback).to.include({ outcome: 'error', code: 'parse' });
    expect(String(callback?.reason)).to.match(/line 2, column 3/);
  });

  it('gives up on a slow server at the callback timeout', async () => {
    routes['/slow'] = { status: 200, body: '<Response/>', delayMs: 5000 };
    const file = await flowFile('slow.xml', `<Response><Callback url="${server.origin}/slow" timeout="300"/><Hangup/></Response>`);
    const result = await runCli(['simulate', file], LOOPBACK);
    const callback = jsonLines(result.stdout).find((l) => l.event === 'callback');
    expect(callback).to.include({ outcome: 'error', code: 'timeout' });
    expect(Number(callback?.ms)).to.be.within(280, 800);
  });

  it('reports the attempts made when the callback timeout comes first', async () => {
    // 503 three times, then an answer too late for the budget.
    let seen = 0;
    routes['/flaky'] = () => {
      seen += 1;
      return seen <= 3 ? { status: 503, body: '' } : { status: 200, body: '<Response/>', delayMs: 5000 };
    };
    const file = await flowFile('flaky.xml', `<Response><Callback url="${server.origin}/flaky" timeout="1500"/><Hangup/></Response>`);
    const result = await runCli(['simulate', file], LOOPBACK);
    const callback = jsonLines(result.stdout).find((l) => l.event === 'callback');
    expect(callback).to.include({ outcome: 'error', code: 'timeout', attempts: 4 });
    expect(seen).to.equal(4);
  });

  it('refuses loopback callbacks unless OUTBOUND_ALLOW permits them', async () => {
    const file = await flowFile('policy.xml', `<Response><Callback url="${server.origin}/next"/></Response>`);
    const before = server.requests.length;
    const result = await runCli(['simulate', file]);
    expect(jsonLines(result.stdout).find((l) => l.event === 'callback')).to.include({ outcome: 'error', code: 'policy' });
    expect(server.requests.length).to.equal(before);
  });

  it('loads the first document from a URL', async () => {
    routes['/start'] = { status: 200, body: '<Response><Say>from the web</Say></Response>' };
    const result = await runCli(['simulate', `${server.origin}/start`, '--method', 'GET'], LOOPBACK);
    expect(result.code).to.equal(0);
    expect(jsonLines(result.stdout).find((l) => l.event === 'say')?.text).to.equal('from the web');
  });

  it('presses the --digits keys when the flow listens for them', async () => {
    const file = await flowFile('digits.xml', '<Response><Pause length="30000" dtmf_stop="#"/><Say>done</Say></Response>');
    const result = await runCli(['simulate', file, '--digits', '#']);
    const lines = jsonLines(result.stdout);
    expect(lines.find((l) => l.event === 'pause')).to.include({ digit: '#' });
    expect(lines.find((l) => l.event === 'say')?.text).to.equal('done');
  });

  it('hangs up for the caller after --hangup-after', async () => {
    const file = await flowFile('hangup.xml', '<Response><Pause length="30000"/><Say>never</Say></Response>');
    const result = await runCli(['simulate', file, '--hangup-after', '200']);
    expect(result.code).to.equal(0);
    const events = jsonLines(result.stdout).map((l) => l.event);
    expect(events).to.deep.equal(['answer', 'pause', 'caller-hangup', 'end']);
  });

  describe('with a source that cannot be used: one line on stderr, exit 2', () => {
    const expectOneLine = (stderr: string, pattern: RegExp): void => {
      expect(stderr.trim().split('\n')).to.have.length(1);
      expect(stderr).to.match(pattern);
    };

    it('an invalid document', async () => {
      const result = await runCli(['simulate', 'test/fixtures/broken.xml']);
      expect(result.code).to.equal(2);
      expect(result.stdout).to.equal('');
      expectOneLine(result.stderr, /^opentact-ari: test\/fixtures\/broken\.xml:2:21: unknown_attribute /);
    });

    it('a missing file', async () => {
      const result = await runCli(['simulate', path.join(dir, 'nope.xml')]);
      expect(result.code).to.equal(2);
      expectOneLine(result.stderr, /^opentact-ari: cannot read .*nope\.xml/);
    });

    it('a URL that answers 404', async () => {
      const result = await runCli(['simulate', `${server.origin}/missing`], LOOPBACK);
      expect(result.code).to.equal(2);
      expectOneLine(result.stderr, /^opentact-ari: cannot load http:\/\/127\.0\.0\.1:\d+\/missing: http_status: .*404/);
    });

    it('a URL with garbage', async () => {
      routes['/junk'] = { status: 200, body: '{"not": "xml"}' };
      const result = await runCli(['simulate', `${server.origin}/junk`], LOOPBACK);
      expect(result.code).to.equal(2);
      expectOneLine(result.stderr, /^opentact-ari: cannot load .*: parse: /);
    });

    it('a scheme that is not http or https', async () => {
      const result = await runCli(['simulate', 'ftp://example.com/flow.xml']);
      expect(result.code).to.equal(2);
      expectOneLine(result.stderr, /^opentact-ari: cannot load ftp:\/\/example\.com\/flow\.xml: policy: /);
    });
  });
});
