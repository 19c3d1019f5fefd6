import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { parseDocument, type CallbackVerb, type FlowDocument, type SayVerb, type Verb } from '../../../lib/xml/index.js';
import { startDemoServer, type DemoServer } from '../../../scripts/demo-server.js';
import { runCli } from '../../support/cli.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

function kinds(verbs: readonly Verb[]): string[] {
  return verbs.map((v) => v.kind);
}

function verb<K extends Verb['kind']>(doc: FlowDocument | readonly Verb[], index: number, kind: K): Extract<Verb, { kind: K }> {
  const verbs = 'verbs' in doc ? doc.verbs : doc;
  const found = verbs[index];
  expect(found?.kind, `verb ${index}`).to.equal(kind);
  return found as Extract<Verb, { kind: K }>;
}

async function fetchDocument(url: string, init?: RequestInit): Promise<FlowDocument> {
  const response = await fetch(url, init);
  expect(response.status).to.equal(200);
  expect(response.headers.get('content-type')).to.match(/^application\/xml/);
  return parseDocument(await response.text());
}

describe('demo callback server', () => {
  let server: DemoServer;
  const lines: string[] = [];

  before(async () => {
    server = await startDemoServer({ port: 0, host: '127.0.0.1', log: (line) => lines.push(line) });
  });
  after(() => server.close());

  it('defaults its base URL to the loopback address and the port it bound', () => {
    expect(server.url).to.equal(`http://127.0.0.1:${server.port}`);
    expect(server.port).to.be.above(0);
  });

  it('/start greets, then calls back /menu with a spoken error branch', async () => {
    const doc = await fetchDocument(`${server.url}/start?call=c-1&from=15550001111`, { method: 'POST' });
    expect(kinds(doc.verbs)).to.deep.equal(['Say', 'Callback', 'Say', 'Hangup']);
    expect(verb(doc, 0, 'Say').text).to.match(/welcome/i);
    const callback: CallbackVerb = verb(doc, 1, 'Callback');
    expect(callback).to.include({ url: `${server.url}/menu`, tag: 'menu', method: 'POST', body: false });
    expect(callback.onError).to.include({ form: 'child', say: true });
    expect(callback.onError?.verbs).to.have.length(0);
  });

  it('/menu speaks the caller number from the query string, then calls back /broken within 2 s', async () => {
    const doc = await fetchDocument(`${server.url}/menu?call=c-1&from=15550001111&tag=menu`, { method: 'POST' });
    expect(kinds(doc.verbs)).to.deep.equal(['Say', 'Say', 'Callback']);
    expect(verb(doc, 0, 'Say').text).to.equal('You are calling from 1 5 5 5 0 0 0 1 1 1 1.');
    const callback = verb(doc, 2, 'Callback');
    expect(callback).to.include({ url: `${server.url}/broken`, timeout: 2000 });
    const branch = callback.onError;
    expect(branch?.say).to.equal(false);
    expect(kinds(branch?.verbs ?? [])).to.deep.equal(['Say', 'Hangup']);
    const said: SayVerb = verb(branch?.verbs ?? [], 0, 'Say');
    expect(said.text).to.equal('This is the error branch.');
  });

  it('/menu reads the caller number from a JSON body too (body="true" callbacks, any method)', async () => {
    for (const method of ['POST', 'PATCH', 'DELETE']) {
      const doc = await fetchDocument(`${server.url}/menu`, {
        method,
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ call: 'c-2', from: '+15557654321', app: { uuid: 'x', name: 'y', data: {} } }),
      });
      expect(verb(doc, 0, 'Say').text, method).to.equal('You are calling from plus 1 5 5 5 7 6 5 4 3 2 1.');
    }
  });

  it('/menu says a withheld number as such, and escapes whatever a caller ID holds', async () => {
    const withheld = await fetchDocument(`${server.url}/menu?from=`, { method: 'POST' });
    expect(verb(withheld, 0, 'Say').text).to.equal('Your number is withheld.');
    const odd = await fetchDocument(`${server.url}/menu?from=${encodeURIComponent('<b>&"x"</b>')}`);
    expect(verb(odd, 0, 'Say').text).to.equal('You are calling from <b>&"x"</b>.');
  });

  it('/broken answers 500, unknown paths 404, /health 200', async () => {
    expect((await fetch(`${server.url}/broken?call=c-1`, { method: 'POST' })).status).to.equal(500);
    expect((await fetch(`${server.url}/nothing`)).status).to.equal(404);
    const health = await fetch(`${server.url}/health`);
    expect(health.status).to.equal(200);
    expect(await health.text()).to.equal('ok\n');
  });

  it('refuses a body over 64 KiB', async () => {
    const response = await fetch(`${server.url}/menu`, { method: 'POST', body: 'x'.repeat(65 * 1024) });
    expect(response.status).to.equal(413);
  });

  it('logs one JSON line per request, with the call fields', async () => {
    const before = lines.length;
    await (await fetch(`${server.url}/menu?call=c-9&from=15550009999&tn=15551230000`, { method: 'POST' })).text();
    expect(lines).to.have.length(before + 1);
    const line = JSON.parse(lines[before] ?? '') as Record<string, unknown>;
    expect(line).to.include({ method: 'POST', path: '/menu', status: 200, call: 'c-9', from: '15550009999', tn: '15551230000' });
    expect(line['time']).to.be.a('string');
  });

  it('writes its configured base URL into the documents', async () => {
    const other = await startDemoServer({ port: 0, host: '127.0.0.1', baseUrl: 'http://demo:3000/', log: () => undefined });
    try {
      const start = await fetchDocument(`${other.url.replace('demo:3000', `127.0.0.1:${other.port}`)}/start`);
      expect(verb(start, 1, 'Callback').url).to.equal('http://demo:3000/menu');
      expect(other.url).to.equal('http://demo:3000');
    } finally {
      await other.close();
      await other.close();
    }
  });
});

describe('demo callback server run as a program', () => {
  it('listens on PORT, announces itself, and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo-server.ts'], {
      cwd: ROOT,
      env: { ...process.env, PORT: '0', DEMO_BASE_URL: 'http://demo:3000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = once(child, 'exit');
    try {
      const reader = createInterface({ input: child.stdout });
      const [first] = (await once(reader, 'line')) as [string];
      const announced = JSON.parse(first) as { event: string; port: number; url: string };
      expect(announced).to.include({ event: 'listening', url: 'http://demo:3000' });
      const start = await fetch(`http://127.0.0.1:${announced.port}/start`, { method: 'POST' });
      expect(parseDocument(await start.text()).verbs[1]).to.include({ kind: 'Callback', url: 'http://demo:3000/menu' });
      child.kill('SIGTERM');
      const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
      expect({ code, signal }).to.deep.equal({ code: 0, signal: null });
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});

describe('scripts/demo-apps.yaml', () => {
  interface DemoApp {
    uuid: string;
    name: string;
    numbers: string[];
    data: Record<string, unknown>;
    auto_answer: boolean;
    xml?: string;
    webhook_url?: string;
    fallback_xml?: string;
  }
  let apps: DemoApp[];
  let dir: string;

  before(async () => {
    const parsed = parseYaml(await readFile(path.join(ROOT, 'scripts/demo-apps.yaml'), 'utf8')) as { apps: DemoApp[] };
    apps = parsed.apps;
    dir = await mkdtemp(path.join(os.tmpdir(), 'opentact-demo-apps-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('routes 15551230000 to the demo server and 15551230001 to a static document', () => {
    expect(apps).to.have.length(2);
    const [webhook, statik] = apps;
    expect(webhook).to.include({ webhook_url: 'http://demo:3000/start', auto_answer: true });
    expect(webhook?.numbers).to.deep.equal(['15551230000']);
    expect(webhook?.xml).to.equal(undefined);
    expect(statik?.numbers).to.deep.equal(['15551230001']);
    expect(statik?.webhook_url).to.equal(undefined);
    for (const app of apps) {
      expect(app.uuid).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(app.name).to.be.a('string').and.not.equal('');
      expect(app.data).to.be.an('object');
    }
    expect(new Set(apps.map((a) => a.uuid)).size).to.equal(apps.length);
  });

  it('holds documents that parse, and that `opentact-ari check` accepts', async () => {
    const documents = apps.flatMap((app, i) =>
      [app.xml, app.fallback_xml].filter((d): d is string => d !== undefined).map((text, j) => ({ file: path.join(dir, `app${i}-${j}.xml`), text })),
    );
    expect(documents).to.have.length(2);
    for (const { text } of documents) expect(() => parseDocument(text)).not.to.throw();
    for (const { file, text } of documents) await writeFile(file, text);
    const result = await runCli(['check', ...documents.map((d) => d.file)]);
    expect(result).to.include({ code: 0, stdout: '', stderr: '' });
  });
});
