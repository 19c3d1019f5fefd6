import { expect } from 'chai';
import { setTimeout as delay } from 'node:timers/promises';
import { localWaiters, type LocalWaiter } from '../../../lib/queue/local-waiters.js';
import { QueueFetcher } from '../../../lib/queue/index.js';
import { startServer, type ScriptedServer } from '../../support/http-servers.js';
import { live, QueueSuite, request, VALID_XML } from './harness.js';

describe('queue: outcomes for a waiting side in the same process', () => {
  const suite = new QueueSuite('local');
  let server: ScriptedServer;
  /** Messages seen on any reply or progress channel of the suite, by channel. */
  const published: string[] = [];

  before(async () => {
    server = await startServer((_req, res) => res.end(VALID_XML));
    const listener = await suite.admin();
    listener.on('pmessage', (_pattern: string, channel: string) => published.push(channel));
    await listener.psubscribe(`${suite.prefix}:*:reply:*`);
  });
  after(async () => {
    await suite.close();
    await server.close();
  });

  it('are handed over by a worker of this process, without a message through Redis', async () => {
    await suite.worker();
    const queue = await suite.waiter();
    const before = published.length;
    const result = await new QueueFetcher({ queue }).fetch(request(`${server.origin}/local`), Date.now() + 3000, live());
    expect(result.ok, JSON.stringify(result)).to.equal(true);
    await delay(100);
    expect(published.slice(before)).to.deep.equal([]);
  });

  it('are published on the reply channel when the worker runs in another process', async () => {
    const queueName = 'remote';
    await suite.workerProcess({ queueName });
    const queue = await suite.waiter({ queueName });
    const before = published.length;
    const result = await new QueueFetcher({ queue }).fetch(request(`${server.origin}/remote`), Date.now() + 3000, live());
    expect(result.ok, JSON.stringify(result)).to.equal(true);
    await delay(100);
    const channels = published.slice(before);
    expect(channels.some((c) => c.startsWith(`${suite.prefix}:${queueName}:reply:`) && !c.endsWith(':progress'))).to.equal(true);
  });

  it('stop once the waiting side is closed; a waiter only removes itself', async () => {
    const queue = await suite.waiter({ queueName: 'closing' });
    expect(localWaiters.get(queue.replyTo)).to.not.equal(undefined);
    await queue.close();
    expect(localWaiters.get(queue.replyTo)).to.equal(undefined);

    const waiter: LocalWaiter = { reply: () => undefined, progress: () => undefined };
    localWaiters.add('some:channel', waiter);
    localWaiters.remove('some:channel', { reply: () => undefined, progress: () => undefined });
    expect(localWaiters.get('some:channel')).to.equal(waiter);
    localWaiters.remove('some:channel', waiter);
    expect(localWaiters.get('some:channel')).to.equal(undefined);
  });
});
