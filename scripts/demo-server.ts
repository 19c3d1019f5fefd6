// The demo callback server: the "customer web server" of the Docker demo. Its flow speaks a
// greeting, calls back for the next document, reads the caller's number back, then calls
// a page that always fails so the caller hears the <Error> branch run.
//
//   /start   greeting, then <Callback url="<base>/menu" tag="menu"> with <Error say="true">
//   /menu    says the caller's number (the `from` field), then <Callback url="<base>/broken"
//            timeout="2000"> whose error branch says "This is the error branch." and hangs up
//   /broken  always 500
//   /health  200 "ok" (for container health checks)
//
// Fields are read from the query string and from a JSON body (both forms of spec §4).
// Only node:http, no dependencies: `node dist/scripts/demo-server.js` or
// `npx tsx scripts/demo-server.ts`. Settings: PORT (3000), DEMO_BASE_URL (the URL the
// engine reaches this server at, written into the documents; default
// http://127.0.0.1:<port>). One JSON line per request on stdout; SIGTERM/SIGINT stop it.
import { realpathSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

export interface DemoServerOptions {
  /** TCP port; 0 picks a free one. Default 3000. */
  readonly port?: number;
  /** Interface to listen on. Default: every interface. */
  readonly host?: string;
  /**
   * The URL the engine reaches this server at, without a trailing slash; it is written into
   * the `<Callback url>` of the documents. Default `http://127.0.0.1:<port actually bound>`.
   */
  readonly baseUrl?: string;
  /** Receives one line per request (default: stdout). */
  readonly log?: (line: string) => void;
  /** How long `close()` lets requests in progress finish before cutting them (ms, default 5000). */
  readonly closeGraceMs?: number;
}

export interface DemoServer {
  /** The base URL written into the documents. */
  readonly url: string;
  /** The port actually bound. */
  readonly port: number;
  /** Stops listening and resolves once every connection is closed. Safe to call twice. */
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024;
const XML_TYPE = 'application/xml; charset=utf-8';

type Fields = Readonly<Record<string, string>>;

export async function startDemoServer(options: DemoServerOptions = {}): Promise<DemoServer> {
  const log = options.log ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const graceMs = options.closeGraceMs ?? 5000;
  let baseUrl = options.baseUrl === undefined ? '' : trimSlash(options.baseUrl);

  const server = http.createServer((req, res) => {
    const started = Date.now();
    res.on('finish', () => log(requestLine(req, res.statusCode, Date.now() - started, fieldsOf(res))));
    handle(req, res, baseUrl).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
      else res.destroy(error instanceof Error ? error : undefined);
    });
  });
  server.on('clientError', (_error, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 3000, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  if (baseUrl === '') baseUrl = `http://127.0.0.1:${port}`;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve, reject) => {
      const force = setTimeout(() => server.closeAllConnections(), graceMs);
      force.unref();
      server.close((error) => {
        clearTimeout(force);
        if (error) reject(error);
        else resolve();
      });
      server.closeIdleConnections();
    });
    return closing;
  };

  return { url: baseUrl, port, close };
}

// ---------------------------------------------------------------------------- routes

async function handle(req: http.IncomingMessage, res: http.ServerResponse, baseUrl: string): Promise<void> {
  const target = new URL(req.url ?? '/', 'http://demo.invalid');
  const body = await readBody(req);
  if (body === undefined) {
    res.setHeader('Connection', 'close'); // the rest of the body is not read
    send(res, 413, 'text/plain; charset=utf-8', 'request body too large\n');
    return;
  }
  const fields = { ...queryFields(target.searchParams), ...jsonFields(req, body) };
  FIELDS.set(res, fields);

  switch (target.pathname) {
    case '/start':
      send(res, 200, XML_TYPE, startDocument(baseUrl));
      return;
    case '/menu':
      send(res, 200, XML_TYPE, menuDocument(baseUrl, fields['from']));
      return;
    case '/broken':
      send(res, 500, 'text/plain; charset=utf-8', 'this page always fails (demo of the <Error> branch)\n');
      return;
    case '/health':
      send(res, 200, 'text/plain; charset=utf-8', 'ok\n');
      return;
    default:
      send(res, 404, 'text/plain; charset=utf-8', 'not found: try /start, /menu or /broken\n');
  }
}

/** The first document: a greeting, then a callback for the menu. */
export function startDocument(baseUrl: string): string {
  return xmlDocument([
    '<Say>Welcome to the Opentact demo. This greeting came from the demo web server.</Say>',
    `<Callback url="${escapeXml(`${trimSlash(baseUrl)}/menu`)}" tag="menu">`,
    '  <Error say="true"/>',
    '</Callback>',
    '<Say>Goodbye.</Say>',
    '<Hangup/>',
  ]);
}

/** The second document: the caller's number, then a callback that always fails. */
export function menuDocument(baseUrl: string, from: string | undefined): string {
  return xmlDocument([
    `<Say>${escapeXml(spokenCaller(from))}</Say>`,
    '<Say>Next, the flow calls back a page that always fails.</Say>',
    `<Callback url="${escapeXml(`${trimSlash(baseUrl)}/broken`)}" timeout="2000" tag="broken">`,
    '  <Error tag="broken-callback">',
    '    <Say>This is the error branch.</Say>',
    '    <Hangup tag="demo-done"/>',
    '  </Error>',
    '</Callback>',
  ]);
}

/** "You are calling from 1 5 5 5 …": digits one by one, so speech engines read them as digits. */
export function spokenCaller(from: string | undefined): string {
  const value = (from ?? '').trim();
  if (value === '' || value === 'null' || value.toLowerCase() === 'anonymous') {
    return 'Your number is withheld.';
  }
  const number = /^\+?[0-9]{1,32}$/.exec(value);
  if (number) {
    const digits = [...value.replace(/^\+/, '')].join(' ');
    return `You are calling from ${value.startsWith('+') ? 'plus ' : ''}${digits}.`;
  }
  return `You are calling from ${value.slice(0, 64)}.`;
}

// ---------------------------------------------------------------------------- helpers

function xmlDocument(lines: readonly string[]): string {
  return ['<?xml version="1.0" encoding="UTF-8"?>', '<Response>', ...lines.map((l) => `  ${l}`), '</Response>', ''].join('\n');
}

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function send(res: http.ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(body);
}

/** The body as text, or undefined when it is over the limit. */
async function readBody(req: http.IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.byteLength;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function queryFields(params: URLSearchParams): Fields {
  const fields: Record<string, string> = {};
  for (const [name, value] of params) fields[name] = value;
  return fields;
}

/** String and number members of a JSON object body; nothing for any other body. */
function jsonFields(req: http.IncomingMessage, body: string): Fields {
  if (body === '' || !/\bjson\b/i.test(req.headers['content-type'] ?? '')) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(parsed)) {
    if (typeof value === 'string' || typeof value === 'number') fields[name] = String(value);
  }
  return fields;
}

// The fields of a request, kept for its log line.
const FIELDS = new WeakMap<http.ServerResponse, Fields>();

function fieldsOf(res: http.ServerResponse): Fields {
  return FIELDS.get(res) ?? {};
}

function requestLine(req: http.IncomingMessage, status: number, ms: number, fields: Fields): string {
  const path = (req.url ?? '/').split('?')[0];
  const line: Record<string, string | number> = { time: new Date().toISOString(), method: req.method ?? '?', path: path ?? '/', status, ms };
  for (const name of ['call', 'from', 'tn', 'tag', 'state']) {
    const value = fields[name];
    if (value !== undefined) line[name] = value;
  }
  return JSON.stringify(line);
}

// ---------------------------------------------------------------------------- main

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new Error(`PORT must be a port number, got "${value}"`);
  return port;
}

function executedDirectly(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const server = await startDemoServer({
    port: parsePort(process.env['PORT'] ?? '3000'),
    ...(process.env['DEMO_BASE_URL'] ? { baseUrl: process.env['DEMO_BASE_URL'] } : {}),
  });
  process.stdout.write(`${JSON.stringify({ event: 'listening', port: server.port, url: server.url })}\n`);
  const stop = (signal: string): void => {
    process.stdout.write(`${JSON.stringify({ event: 'stopping', signal })}\n`);
    server.close().then(
      () => {
        process.exitCode = 0;
      },
      (error: unknown) => {
        process.stderr.write(`demo-server: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (executedDirectly()) {
  main().catch((error: unknown) => {
    process.stderr.write(`demo-server: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  });
}
