// The events queue's sending side without Redis: events are held in a bounded buffer,
// what does not fit is dropped, counted and logged once, and the rest is queued once
// Redis is back.
import { expect } from 'chai';
import { Queue } from 'bullmq';
import { CallEvents, EventQueue } from '../../../lib/events/index.js';
import { EVENTS_QUEUE_NAME } from '../../../lib/queue/names.js';
import { uniquePrefix } from '../../support/redis.js';
import { RestartableRedis } from '../../support/restartable-redis.js';
import { RecordingLogger } from '../../support/silent-logger.js';

describe('call events: the sending side while Redis is unreachable', function () {
  this.timeout(30_000);

  it('keeps up to maxBuffer events, drops and counts the rest (logged once), and queues what it kept once Redis is back', async function () {
    const redis = await RestartableRedis.create();
    const prefix = uniquePrefix('events-buffer');
    const log = new RecordingLogger();
    const queue = new EventQueue({ connection: redis.url, prefix, maxBuffer: 5, log });
    let reader: Queue | undefined;
    try {
      const target = { url: 'http://127.0.0.1:9/events' };
      const call = new CallEvents(queue, target, { call: 'call-1', sca: 'app-1', from: '15550001111', tn: '15550002222' });
      const started = performance.now();
      for (let i = 0; i < 7; i += 1) call.ringing();
      // Emitting never waits on Redis.
      expect(performance.now() - started).to.be.below(50);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(queue.backlog).to.equal(5);
      expect(queue.droppedEvents).to.equal(3);
      const warnings = log.entries.filter((e) => e.level === 'warn').map((e) => e.msg);
      expect(warnings.filter((m) => m?.includes('buffer full'))).to.have.length(1);
      expect(warnings.filter((m) => m?.includes('Redis is unreachable'))).to.have.length(1);

      await redis.start();
      expect(await queue.whenQueued(10_000)).to.equal(true);
      reader = new Queue(EVENTS_QUEUE_NAME, { connection: { url: redis.url }, prefix });
      const jobs = await reader.getJobs(['waiting', 'wait', 'delayed']);
      expect(jobs.map((job) => (job.data as { event: { sequence: number } }).event.sequence).sort((a, b) => a - b)).to.deep.equal([1, 2, 3, 4, 5]);
      expect(log.entries.find((e) => e.msg?.includes('queueing to Redis again'))?.obj).to.include({ dropped: 3 });
    } finally {
      await reader?.close();
      await queue.close(500);
      await redis.dispose();
    }
  });
});
