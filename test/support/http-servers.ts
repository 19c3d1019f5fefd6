// Scripted HTTP servers on 127.0.0.1 for tests: start one with a handler, look at every
// request it received, close it (open connections included).
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  /** The request target as sent: path and query, e.g. `/hook?a=1`. */
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  /** The request body as UTF-8 text; empty when there was none. */
  readonly body: string;
}

/**
 * Answers one request. The body has been read already (it is in `recorded.body`);
 * `index` is the 0-based position of this request among all the server received.
 * What it returns is ignored, except that a rejected promise answers 500.
 */
export type ScriptedHandler = (
  req: http.IncomingMessage,
  res: http.ServerResponse,
  recorded: RecordedRequest,
  index: number,
) => unknown;

export interface ScriptedServer {
  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  readonly origin: string;
  readonly port: number;
  /** Every request received so far, in arrival order. */
  readonly requests: readonly RecordedRequest[];
  /** Resolves once `count` requests have arrived (at once when they already have). */
  waitForRequests(count: number): Promise<readonly RecordedRequest[]>;
  close(): Promise<void>;
}

export async function startServer(handler: ScriptedHandler): Promise<ScriptedServer> {
  const requests: RecordedRequest[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      const index = requests.push(recorded) - 1;
      for (const waiter of waiters.filter((w) => requests.length >= w.count)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
      Promise.resolve(handler(req, res, recorded, index)).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500);
        res.end(String(error));
      });
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    requests,
    async waitForRequests(count) {
      if (requests.length < count) {
        await new Promise<void>((resolve) => waiters.push({ count, resolve }));
      }
      return requests;
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

/** A loopback port nobody listens on (bound, then released): connecting to it is refused. */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Scripted servers for one suite: `start` is `startServer` that remembers the server, and
 * `closeAll` (for an afterEach hook) closes every server started since the last call.
 */
export function serverPool(): { start: typeof startServer; closeAll(): Promise<void> } {
  const servers: ScriptedServer[] = [];
  return {
    async start(handler) {
      const server = await startServer(handler);
      servers.push(server);
      return server;
    },
    async closeAll() {
      await Promise.all(servers.splice(0).map((s) => s.close()));
    },
  };
}
