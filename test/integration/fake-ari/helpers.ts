// Helpers for the tests of the fake ARI server with the real ari-client.
import type { EventEmitter } from 'node:events';
import client, { type Channel, type Client, type Event, type StasisStart } from 'ari-client';
import { FakeAri, type FakeAriOptions } from '../../support/fake-ari/index.js';

export const APP = 'opentact';

export interface Harness {
  fake: FakeAri;
  ari: Client;
  /** Types of the events ari-client emitted, in order, since the harness started. */
  seen: string[];
  /** Resolves with the next event of `type` ari-client emits (from now on). */
  next<E extends Event = Event>(type: string, timeoutMs?: number): Promise<E>;
  close(): Promise<void>;
}

/** ari-client's Client is an EventEmitter; this view listens to any event name. */
function emitter(ari: Client): EventEmitter {
  return ari as unknown as EventEmitter;
}

/** A fake Asterisk and a real ari-client connected to it with `app` started. */
export async function harness(options: FakeAriOptions = {}, app = APP): Promise<Harness> {
  const fake = await FakeAri.start(options);
  const ari = await client.connect(fake.url, fake.username, fake.password);
  const seen: string[] = [];
  emitter(ari).on('*', (event: Event) => seen.push(event.type));
  await ari.start(app);
  return {
    fake,
    ari,
    seen,
    next<E extends Event = Event>(type: string, timeoutMs = 2000): Promise<E> {
      return new Promise<E>((resolve, reject) => {
        const timer = setTimeout(() => {
          emitter(ari).off(type, listener);
          reject(new Error(`ari-client emitted no ${type} within ${timeoutMs} ms (seen: ${seen.join(', ')})`));
        }, timeoutMs);
        const listener = (event: E): void => {
          clearTimeout(timer);
          emitter(ari).off(type, listener);
          resolve(event);
        };
        emitter(ari).on(type, listener);
      });
    },
    async close(): Promise<void> {
      ari.stop();
      await fake.close();
    },
  };
}

/** Resolves once ari-client has (re)connected its WebSocket. */
export function connected(ari: Client, timeoutMs = 3000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('ari-client did not reconnect')), timeoutMs);
    emitter(ari).once('WebSocketConnected', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** The parsed `{"message": …}` of an ari-client rejection (its Error message is the body). */
export async function ariError(promise: Promise<unknown>): Promise<{ message: string }> {
  try {
    await promise;
  } catch (error) {
    if (!(error instanceof Error)) throw new Error(`ari-client rejected with a non-Error: ${String(error)}`);
    return JSON.parse(error.message) as { message: string };
  }
  throw new Error('expected the ARI call to fail');
}

/** Asterisk's event timestamp format. */
export const ASTERISK_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}$/;

/** An inbound call placed on the fake, seen by ari-client in StasisStart, and answered. */
export async function answeredCall(h: Harness): Promise<{ channel: Channel; id: string }> {
  const started = new Promise<Channel>((resolve) => h.ari.once('StasisStart', (_e: StasisStart, channel: Channel) => resolve(channel)));
  const placed = await h.fake.placeCall({ from: '15551230000', did: '15551234567' });
  const channel = await started;
  await channel.answer();
  return { channel, id: placed.id };
}
