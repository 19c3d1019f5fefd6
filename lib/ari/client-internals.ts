// What ari-client keeps out of its typings and this engine relies on (ari-client 2.2.0,
// frozen since 2018): start() keeps the WebSocket it opens (`ws` 8) in `_ws`, with
// `_wsClosed` telling its own close handler that a close was intended.
import type { EventEmitter } from 'node:events';
import type { Client } from 'ari-client';

/** The `ws` 8 WebSocket ari-client opens, as far as it is used here. */
export interface ClientSocket extends EventEmitter {
  readonly readyState: number;
  ping(): void;
  close(): void;
  terminate(): void;
}

interface Internals {
  _ws?: ClientSocket;
  _wsClosed?: boolean;
}

export function socketOf(client: Client): ClientSocket | undefined {
  return (client as unknown as Internals)._ws;
}

/**
 * Makes ari-client's close and error handlers see this socket's end as intended, so that
 * it schedules no reconnection of its own: its loop (10 tries, 100 ms doubling to 10 s,
 * then it gives up for good) cannot be cancelled once scheduled, and would open a second
 * socket beside ours. Our listeners run first (prepended) and set the flag its handlers
 * check.
 */
export function disownReconnect(client: Client, socket: ClientSocket): void {
  const intended = (): void => {
    (client as unknown as Internals)._wsClosed = true;
  };
  socket.prependListener('error', intended);
  socket.prependListener('close', intended);
}

/**
 * Takes the socket's messages from ari-client: its handler parses each event and builds a
 * swagger model of every channel, bridge and playback in it (the engine reads the JSON
 * itself, with parseEvent), then emits it under three names. Call right after start(),
 * before the socket opens, so that no message reaches ari-client's handler. Text frames
 * only: ARI sends nothing else.
 */
export function takeMessages(socket: ClientSocket, listener: (data: string) => void): void {
  socket.removeAllListeners('message');
  socket.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
    if (!isBinary) listener(textOf(data));
  });
}

function textOf(data: Buffer | ArrayBuffer | Buffer[]): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return (Buffer.isBuffer(data) ? data : Buffer.from(data)).toString('utf8');
}
