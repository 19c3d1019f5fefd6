// The customer's web server of a load run, in a process of its own (so that the load
// tool's busy event loop never delays its answers): started by callback-server.ts with
// its settings in LOAD_SERVER_OPTIONS, it reports over IPC. Routes:
//   GET  /prompt.wav  the prompt: a 440 Hz tone of promptMs, 8 kHz mono 16-bit WAV
//   *    /next       <Response><Hangup/></Response>
//   *    /next-play  <Response><Play>…/prompt.wav</Play><Hangup/></Response>
// Every request to /next* is recorded with its arrival time and the call's `from` (the
// query field, or the JSON body's with body="true"), which the tool made unique per call.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pcmWav, tone } from '../../test/support/wav.js';
import { serverRoutes } from './flows.js';
import type { FromServer, ServerOptions, ToServer } from './callback-server.js';

function send(message: FromServer): void {
  process.send?.(message);
}

function fromField(url: URL, body: string): string {
  const inQuery = url.searchParams.get('from');
  if (inQuery !== null) return inQuery;
  try {
    const parsed = JSON.parse(body) as { from?: unknown };
    return typeof parsed.from === 'string' ? parsed.from : '';
  } catch {
    return '';
  }
}

function main(): void {
  const options = JSON.parse(process.env['LOAD_SERVER_OPTIONS'] ?? '{}') as ServerOptions;
  const prompt = pcmWav(tone(options.promptMs), 8000);
  const requests = new Map<string, number>();
  const callbacks: [string, number][] = [];
  let origin = '';

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const at = Date.now();
      const url = new URL(req.url ?? '/', origin);
      requests.set(url.pathname, (requests.get(url.pathname) ?? 0) + 1);
      if (url.pathname === '/prompt.wav') {
        res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': prompt.length, 'cache-control': 'max-age=3600' }).end(prompt);
        return;
      }
      if (url.pathname === '/next' || url.pathname === '/next-play') {
        callbacks.push([fromField(url, Buffer.concat(chunks).toString('utf8')), at]);
        const document = url.pathname === '/next' ? '<Response><Hangup/></Response>' : `<Response><Play>${serverRoutes(origin).prompt}</Play><Hangup/></Response>`;
        res.writeHead(200, { 'content-type': 'application/xml' }).end(document);
        return;
      }
      res.writeHead(404).end();
    });
  });
  server.keepAliveTimeout = 30_000;
  server.listen(options.port, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    origin = `http://127.0.0.1:${port}`;
    send({ type: 'listening', port });
  });
  server.on('error', (error) => {
    send({ type: 'failed', message: error.message });
    process.exit(1);
  });
  process.on('message', (message: ToServer) => {
    if (message.type === 'report') send({ type: 'report', requests: Object.fromEntries(requests), callbacks });
  });
  // The tool going away (its IPC channel closing) ends this server.
  process.once('disconnect', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}

main();
