// A loopback HTTP proxy between the engine and an ARI server (the fake or a real
// Asterisk): it records the engine's REST requests, so a scenario can say "no request on
// the channel after the hang-up" on both, and `cut()` drops every connection through it at
// once — the engine's ARI connection failing mid-call, on a real Asterisk too.
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import net from 'node:net';
import type { AriEvent } from '../fake-ari/index.js';

export interface ProxiedRequest {
  readonly method: string;
  /** Path without the query, e.g. `/ari/channels/<id>/play`. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly time: number;
}

export class AriProxy {
  readonly requests: ProxiedRequest[] = [];
  /** The events Asterisk sent the engine over its WebSocket, in order. */
  readonly events: AriEvent[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly eventWaiters = new Set<() => void>();
  private readonly agent = new http.Agent({ keepAlive: true });
  private readonly target: URL;

  private constructor(
    private readonly server: http.Server,
    target: string,
  ) {
    this.target = new URL(target);
  }

  static async start(target: string): Promise<AriProxy> {
    const server = http.createServer();
    const proxy = new AriProxy(server, target);
    server.on('request', (req, res) => proxy.forward(req, res));
    server.on('upgrade', (req, socket, head) => proxy.tunnel(req, socket as Socket, head));
    server.on('connection', (socket) => proxy.track(socket));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The engine's requests on one channel (its path and sub-paths). */
  channelRequests(channelId: string): ProxiedRequest[] {
    const path = `/ari/channels/${channelId}`;
    return this.requests.filter((r) => r.path === path || r.path.startsWith(`${path}/`));
  }

  /**
   * The events so far once `count` of them (default 1) match, past ones included; rejects
   * after `timeoutMs` saying what was awaited.
   */
  untilEvents(match: (event: AriEvent) => boolean, what: string, count = 1, timeoutMs = 10_000): Promise<AriEvent[]> {
    const found = (): AriEvent[] | undefined => {
      const matching = this.events.filter(match);
      return matching.length >= count ? matching : undefined;
    };
    const now = found();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const wake = (): void => {
        const matching = found();
        if (matching === undefined) return;
        done();
        resolve(matching);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`ARI proxy: no ${count} × ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.eventWaiters.delete(wake);
      };
      this.eventWaiters.add(wake);
    });
  }

  /** Drops every connection through the proxy (REST and the events WebSocket); new ones are served again. */
  cut(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    this.agent.destroy();
  }

  async close(): Promise<void> {
    this.cut();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private track(socket: Socket): void {
    if (this.sockets.has(socket)) return;
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', this.target);
    this.requests.push({ method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), time: Date.now() });
    const upstream = http.request(
      { host: this.target.hostname, port: this.target.port, method: req.method, path: req.url, headers: req.headers, agent: this.agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('socket', (socket) => this.track(socket));
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  }

  private tunnel(req: http.IncomingMessage, client: Socket, head: Buffer): void {
    const upstream = net.connect(Number(this.target.port), this.target.hostname);
    this.track(upstream);
    upstream.once('connect', () => {
      const headers = Object.entries(req.headers).flatMap(([name, value]) => (Array.isArray(value) ? value : [value]).map((v) => `${name}: ${v ?? ''}`));
      upstream.write([`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/1.1`, ...headers, '', ''].join('\r\n'));
      if (head.length > 0) upstream.write(head);
      const frames = new FrameReader((text) => {
        this.events.push(JSON.parse(text) as AriEvent);
        for (const wake of [...this.eventWaiters]) wake();
      });
      upstream.on('data', (chunk: Buffer) => frames.push(chunk));
      upstream.pipe(client);
      client.pipe(upstream);
    });
    const end = (): void => {
      upstream.destroy();
      client.destroy();
    };
    upstream.on('error', end).on('close', end);
    client.on('error', end).on('close', end);
  }
}

/**
 * Reads the text frames a WebSocket server sends (RFC 6455 §5.2: unmasked, as servers send
 * them), after the HTTP upgrade answer. Enough for ARI's events: one text frame each.
 */
class FrameReader {
  private buffer = Buffer.alloc(0);
  private upgraded = false;

  constructor(private readonly onText: (text: string) => void) {}

  push(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    if (!this.upgraded) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      this.buffer = this.buffer.subarray(end + 4);
      this.upgraded = true;
    }
    for (;;) {
      if (this.buffer.length < 2) return;
      const opcode = (this.buffer[0] ?? 0) & 0x0f;
      let length = (this.buffer[1] ?? 0) & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (this.buffer.length < 4) return;
        length = this.buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (this.buffer.length < 10) return;
        length = Number(this.buffer.readBigUInt64BE(2));
        offset = 10;
      }
      if (this.buffer.length < offset + length) return;
      const payload = this.buffer.subarray(offset, offset + length);
      this.buffer = this.buffer.subarray(offset + length);
      if (opcode === 1) this.onText(payload.toString('utf8'));
    }
  }
}
