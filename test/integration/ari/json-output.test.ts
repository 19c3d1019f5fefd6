// `opentact-ari start` as a child process writes nothing but JSON lines, on stdout and
// stderr alike, from its start through a call to its exit: ari-client's swagger-client
// prints a deprecation notice on connect that must not reach stdout (issue 9, item 9).
// The http role binds where HTTP_HOST says and logs it (issue 9, item 10).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { JsonLog, stopChild } from '../../support/child-log.js';
import { FakeAri } from '../../support/fake-ari/index.js';
import { closedPort, startServer, type ScriptedServer } from '../../support/http-servers.js';
import { sharedRedisUrl, uniquePrefix } from '../../support/redis.js';
import { pcmWav, tone } from '../../support/wav.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const APP = 'opentact-json-output';

/** Everything a stream carried, as text. */
function collect(stream: NodeJS.ReadableStream | null): { readonly text: () => string } {
  const chunks: Buffer[] = [];
  stream?.on('data', (chunk: Buffer | string) => chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk)));
  return { text: () => Buffer.concat(chunks).toString('utf8') };
}

/** The lines of `text` that are not one JSON object each (a last line must end with a newline). */
function notJson(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  const last = lines.pop();
  const bad = last === '' ? [] : [`(no final newline) ${String(last)}`];
  for (const line of lines) {
    try {
      const value: unknown = JSON.parse(line);
      if (typeof value !== 'object' || value === null || Array.isArray(value)) bad.push(line);
    } catch {
      bad.push(line);
    }
  }
  return bad;
}

describe('ARI: start writes JSON lines only (child process)', function () {
  this.timeout(30_000);
  let fake: FakeAri;
  let server: ScriptedServer;
  let dir: string;
  let child: ChildProcess | undefined;

  before(async function () {
    dir = await mkdtemp(path.join(os.tmpdir(), 'opentact-json-output-'));
    server = await startServer((req, res) => {
      if (req.url?.startsWith('/prompt.wav')) return res.writeHead(200, { 'content-type': 'audio/wav' }).end(pcmWav(tone(200, 440), 8000));
      return res.writeHead(200, { 'content-type': 'application/xml' }).end('<Response><Say>Goodbye</Say><Hangup/></Response>');
    });
    // Asterisk's listing says swaggerVersion 1.1: what makes swagger-client print its notice.
    fake = await FakeAri.start({ fetchHttpMedia: true, swaggerVersion: '1.1' });
  });

  after(async function () {
    await stopChild(child, 2000);
    await fake.close();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('connects to ARI, runs a call (Say, Play, Callback, Hangup) and drains, every stdout and stderr line one JSON object; the http role on HTTP_HOST', async function () {
    const appsFile = path.join(dir, 'apps.yaml');
    const flow = `<Response><Say>Hello</Say><Play>${server.origin}/prompt.wav</Play><Callback url="${server.origin}/next"/></Response>`;
    await writeFile(appsFile, ['apps:', '  - uuid: app-json', '    name: Json', '    numbers: ["15551280001"]', `    xml: '${flow}'`, ''].join('\n'));
    const httpPort = await closedPort();
    child = spawn(process.execPath, ['--import', 'tsx', 'app/cli.ts', 'start'], {
      cwd: ROOT,
      env: {
        ...process.env,
        REDIS_URL: await sharedRedisUrl(),
        QUEUE_PREFIX: uniquePrefix('json-output'),
        ARI_URL: fake.url,
        ARI_USERNAME: fake.username,
        ARI_PASSWORD: fake.password,
        ARI_APP: APP,
        APPS_FILE: appsFile,
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: String(httpPort),
        PUBLIC_BASE_URL: `http://127.0.0.1:${httpPort}`,
        MEDIA_CACHE_DIR: path.join(dir, 'media'),
        SHUTDOWN_GRACE_MS: '1000',
        OUTBOUND_ALLOW: '127.0.0.0/8',
        LOG_LEVEL: 'debug',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout = collect(child.stdout);
    const stderr = collect(child.stderr);
    const log = new JsonLog(child.stderr);
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;

    const listening = await log.waitFor((l) => l.msg === 'http role listening', 10_000, '"http role listening" in the log');
    expect({ host: listening['host'], port: listening['port'] }).to.deep.equal({ host: '127.0.0.1', port: httpPort });
    expect((await fetch(`http://127.0.0.1:${httpPort}/health`)).status).to.equal(200);
    // Bound to 127.0.0.1 alone: 127.0.0.2 reaches this host too (Linux) but finds no server.
    const elsewhere = await fetch(`http://127.0.0.2:${httpPort}/health`, { signal: AbortSignal.timeout(2000) }).catch((error: unknown) => error);
    expect((elsewhere as { cause?: { code?: string } }).cause?.code).to.equal('ECONNREFUSED');
    await log.waitFor((l) => l.msg === 'ARI connected', 10_000, '"ARI connected" in the log');

    const call = await fake.placeCall({ from: '15550001111', did: '15551280001', app: APP });
    const end = await fake.waitForRequest((r) => r.method === 'DELETE' && r.path === `/ari/channels/${call.id}`, 10_000);
    expect(end.query['reason_code']).to.equal('16');
    await log.waitFor((l) => l.msg === 'call ended', 5000, '"call ended" in the log');

    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).to.equal(0);
    expect(log.lines.length, 'stderr carries the log').to.be.greaterThan(10);
    expect(notJson(stdout.text()), 'stdout lines that are not JSON').to.deep.equal([]);
    expect(notJson(stderr.text()), 'stderr lines that are not JSON').to.deep.equal([]);
  });
});
