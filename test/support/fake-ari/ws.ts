// The `ws` package (v8, installed at top level) without @types/ws: the project has no
// type declarations for it, so this file loads it through `createRequire` and describes
// the small part the fake uses. Nothing here is global (no `declare module 'ws'`), so it
// cannot clash with @types/ws if that is ever added; then this file can become a plain
// `import { WebSocketServer, WebSocket } from 'ws'`.
import type { ClientRequest, IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';

/** A connected WebSocket, either end. */
export interface WsSocket {
  readonly readyState: number;
  send(data: string, cb?: (err?: Error) => void): void;
  close(code?: number, reason?: string): void;
  /** Destroys the TCP connection without a close handshake. */
  terminate(): void;
  on(event: 'close', listener: (code: number, reason: Buffer) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): this;
  on(event: 'open', listener: () => void): this;
  on(event: 'ping' | 'pong', listener: (data: Buffer) => void): this;
  on(event: 'unexpected-response', listener: (req: ClientRequest, res: IncomingMessage) => void): this;
  once(event: 'close', listener: (code: number, reason: Buffer) => void): this;
  once(event: 'open', listener: () => void): this;
  once(event: 'error', listener: (err: Error) => void): this;
}

export interface WsServer {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, done: (ws: WsSocket) => void): void;
  close(cb?: (err?: Error) => void): void;
}

interface WsModule {
  WebSocketServer: new (options: { noServer: true; perMessageDeflate?: boolean; clientTracking?: boolean }) => WsServer;
  WebSocket: new (url: string, options?: { headers?: Record<string, string> }) => WsSocket;
}

const require = createRequire(import.meta.url);
const ws = require('ws') as WsModule;

export const WebSocketServer = ws.WebSocketServer;
export const WebSocket = ws.WebSocket;
/** `readyState` of an open socket. */
export const WS_OPEN = 1;
