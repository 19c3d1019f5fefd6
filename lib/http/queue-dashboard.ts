// The queue dashboard: Bull Board (@bull-board/api + @bull-board/fastify) at
// /admin/queues, over every queue the engine has, read-write as Bull Board offers (retry,
// clean, promote, remove…), behind HTTP Basic authentication with ADMIN_USERNAME /
// ADMIN_PASSWORD: the page, its static assets and its JSON API alike.
import os from 'node:os';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { Queue } from 'bullmq';
import type { FastifyPluginAsync } from 'fastify';
import type { Logger } from '../flow/ports.js';
import { settledWithin, WatchedRedis } from '../queue/redis.js';
import { basicAuth, type BasicCredentials } from './basic-auth.js';

export const QUEUE_DASHBOARD_PATH = '/admin/queues';

/**
 * Bull Board's page links Google Fonts: every visit would send the operator's browser to
 * Google, and on an operations network that cannot reach it the browser logs an error.
 * The link is taken out of the page; it falls back to the system's fonts.
 */
const EXTERNAL_FONTS = /<link\b[^>]*\bhref="https:\/\/fonts\.(?:googleapis|gstatic)\.com\/[^"]*"[^>]*>\s*/g;

/** How long closing the dashboard's queues and connection may take, whatever Redis does. */
const CLOSE_TIMEOUT_MS = 1000;

/** Which queues the dashboard shows, and where they live. */
export interface DashboardQueues {
  /** Redis, in the form the queue's connections take (REDIS_URL). */
  readonly connection: ConstructorParameters<typeof WatchedRedis>[0];
  /** QUEUE_PREFIX. */
  readonly prefix: string;
  /** The queues' names (lib/queue ENGINE_QUEUES). */
  readonly names: readonly string[];
}

export interface QueueDashboardOptions {
  readonly credentials: BasicCredentials;
  readonly queues: DashboardQueues;
  readonly log: Logger;
}

/**
 * Register with `app.register(queueDashboard, { credentials, queues, log })` (no prefix:
 * it serves QUEUE_DASHBOARD_PATH). Opens one Redis connection, shared by the queues,
 * closed with the server (its onClose hook).
 */
export const queueDashboard: FastifyPluginAsync<QueueDashboardOptions> = async (app, { credentials, queues, log }) => {
  const redis = new WatchedRedis(queues.connection, `${queues.prefix}:dashboard:${os.hostname()}:${process.pid}`, log);
  const opened = queues.names.map((name) => {
    const queue = new Queue(name, { connection: redis.client, prefix: queues.prefix });
    // Connection trouble is reported once per outage by WatchedRedis.
    queue.on('error', (error: Error) => log.debug({ err: error, queue: name }, 'queue dashboard: queue error'));
    return queue;
  });
  app.addHook('onClose', async () => {
    await Promise.all(opened.map((queue) => settledWithin(queue.close(), CLOSE_TIMEOUT_MS)));
    await redis.close(CLOSE_TIMEOUT_MS);
  });

  // Every request of this plugin's scope (the page, /static/…, /api/…) asks first.
  app.addHook('onRequest', basicAuth(credentials));
  app.addHook('onSend', async (_request, reply, payload) => {
    const type = reply.getHeader('content-type');
    if (typeof payload !== 'string' || typeof type !== 'string' || !type.startsWith('text/html')) return payload;
    return payload.replace(EXTERNAL_FONTS, '');
  });
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(QUEUE_DASHBOARD_PATH);
  createBullBoard({
    queues: opened.map((queue) => new BullMQAdapter(queue, { readOnlyMode: false, allowRetries: true })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'opentact-ari queues' } },
  });
  await app.register(serverAdapter.registerPlugin(), { prefix: QUEUE_DASHBOARD_PATH });
};
