// takeMessages: the engine, not ari-client, reads the events WebSocket's messages.
import { expect } from 'chai';
import { EventEmitter } from 'node:events';
import { takeMessages, type ClientSocket } from '../../../lib/ari/client-internals.js';

class FakeSocket extends EventEmitter implements ClientSocket {
  readonly readyState = 1;
  ping(): void {}
  close(): void {}
  terminate(): void {}
}

describe('ARI: taking the events socket\'s messages from ari-client', () => {
  it('removes ari-client\'s message handler and hands each text message over as a string; binary frames are dropped', () => {
    const socket = new FakeSocket();
    const ariClient: unknown[] = [];
    socket.on('message', (data: unknown) => ariClient.push(data));
    const taken: string[] = [];
    takeMessages(socket, (data) => taken.push(data));

    socket.emit('message', Buffer.from('{"type":"StasisStart"}'), false);
    socket.emit('message', [Buffer.from('{"type":'), Buffer.from('"StasisEnd"}')], false);
    socket.emit('message', Buffer.from([0, 1, 2]), true);

    expect(taken).to.deep.equal(['{"type":"StasisStart"}', '{"type":"StasisEnd"}']);
    expect(ariClient).to.deep.equal([]);
  });

  it('leaves the socket\'s other listeners (close, error, pong) alone', () => {
    const socket = new FakeSocket();
    const noop = (): void => undefined;
    for (const name of ['close', 'error', 'pong']) socket.on(name, noop);
    takeMessages(socket, () => undefined);
    expect(['close', 'error', 'pong'].map((name) => socket.listenerCount(name))).to.deep.equal([1, 1, 1]);
  });
});
