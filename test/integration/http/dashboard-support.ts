// What the queue dashboard's tests share: an http role serving /admin/queues over a
// suite's prefix, Basic headers, and a failed job in the callbacks queue.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { startHttpRole, type HttpRole, type HttpRoleOptions } from '../../../app/roles/http.js';
import type { BasicCredentials } from '../../../lib/http/basic-auth.js';
import { MediaStore } from '../../../lib/media/index.js';
import { DEFAULT_QUEUE_NAME, ENGINE_QUEUES, JOB_NAME } from '../../../lib/queue/names.js';
import { silentLogger } from '../../support/silent-logger.js';
import type { TestLogger } from '../../support/stderr-logger.js';

export const ADMIN: BasicCredentials = { username: 'operator', password: 'dashboard-Secret-1' };

export function basic(username: string, password: string): { authorization: string } {
  return { authorization: `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}` };
}

/** An http role on 127.0.0.1 with a media store of its own; `stop` removes the store too. */
export async function startDashboardRole(
  options: Pick<HttpRoleOptions, 'admin' | 'queues'>,
  log: TestLogger,
): Promise<{ role: HttpRole; origin: string; stop(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'opentact-dashboard-'));
  const store = await MediaStore.open({ dir, maxBytes: 1024 * 1024, log: silentLogger });
  const role = await startHttpRole({ port: 0, host: '127.0.0.1', readiness: () => ({ ready: true }), store, ...options }, log);
  return {
    role,
    origin: `http://127.0.0.1:${role.port}`,
    async stop() {
      await role.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The dashboard's queues for a suite's prefix: every queue the engine has. */
export function dashboardQueues(connection: string, prefix: string): { connection: string; prefix: string; names: readonly string[] } {
  return { connection, prefix, names: ENGINE_QUEUES };
}

/**
 * Puts one failed job in the callbacks queue, as BullMQ leaves a job that stalled past
 * its limit (a worker process killed twice while fetching it): taken by hand and moved to
 * failed with BullMQ's own reason. The engine's worker answers every fetch it finishes,
 * failed fetches included, as a completed job; a failed job is what it could not finish.
 * Call it before a worker of the engine runs on the queue, or it may take the job first.
 */
export async function addFailedJob(connection: string, prefix: string, jobId: string): Promise<void> {
  const client = new Redis(connection, { maxRetriesPerRequest: null });
  const queue = new Queue(DEFAULT_QUEUE_NAME, { connection: client, prefix });
  const worker = new Worker(DEFAULT_QUEUE_NAME, null, { connection: client, prefix, autorun: false });
  try {
    await queue.add(JOB_NAME, { note: 'a job no worker could finish' }, { jobId });
    const token = `test-${jobId}`;
    const job = await worker.getNextJob(token);
    if (job?.id !== jobId) throw new Error(`expected to take job ${jobId}, took ${job?.id ?? 'none'}`);
    await job.moveToFailed(new Error('job stalled more than allowable limit'), token, false);
  } finally {
    await worker.close();
    await queue.close();
    client.disconnect();
  }
}
