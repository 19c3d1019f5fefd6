// The call trail for the operator, behind HTTP Basic authentication:
//   GET /admin/calls/<uuid>                      one call: { call: summary, events: [lines] }
//   GET /admin/calls?limit=&did=&from=          recent calls, newest first: { calls: [summaries] }
// `limit` 1-500 (default 50); `did` the number called; `from` the earliest start, as an
// ISO 8601 time or epoch milliseconds.
import type { FastifyPluginAsync } from 'fastify';
import type { Logger } from '../flow/ports.js';
import type { RedisTarget } from '../queue/redis.js';
import { TrailReader, TrailUnavailableError } from '../trail/reader.js';
import { basicAuth, type BasicCredentials } from './basic-auth.js';

export const CALLS_PATH = '/admin/calls';

export const DEFAULT_LIST_LIMIT = 50;
export const MAX_LIST_LIMIT = 500;

export interface CallsRouteOptions {
  readonly credentials: BasicCredentials;
  /** Where the trails are (REDIS_URL, QUEUE_PREFIX). */
  readonly trails: { readonly connection: RedisTarget; readonly prefix: string };
  readonly log: Logger;
}

/** The UUIDs the stasis role gives calls, or anything of that alphabet. */
const CALL_ID = /^[A-Za-z0-9-]{1,64}$/;

interface ListParams {
  readonly limit?: string;
  readonly did?: string;
  readonly from?: string;
}

/** `from`: epoch ms (digits), or an ISO 8601 time; undefined when it is neither. */
export function parseFrom(value: string): number | undefined {
  if (/^\d+$/.test(value)) return Number(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * Register with `app.register(callsRoute, { credentials, trails, log })`. Opens one
 * Redis connection, closed with the server.
 */
export const callsRoute: FastifyPluginAsync<CallsRouteOptions> = async (app, { credentials, trails, log }) => {
  const reader = new TrailReader(trails);
  app.addHook('onClose', () => reader.close());
  const unavailable = (error: unknown): { error: string } => {
    if (!(error instanceof TrailUnavailableError)) throw error;
    log.warn({ reason: error.message }, 'call trail: cannot read Redis');
    return { error: 'the call trails are unavailable: Redis does not answer' };
  };

  app.route<{ Querystring: ListParams }>({
    method: 'GET',
    url: CALLS_PATH,
    onRequest: basicAuth(credentials),
    handler: async (request, reply) => {
      const { limit: rawLimit, did, from: rawFrom } = request.query;
      const limit = rawLimit === undefined ? DEFAULT_LIST_LIMIT : /^\d+$/.test(rawLimit) ? Number(rawLimit) : NaN;
      if (!(limit >= 1 && limit <= MAX_LIST_LIMIT)) return reply.code(400).send({ error: `limit must be a whole number from 1 to ${MAX_LIST_LIMIT}` });
      const from = rawFrom === undefined ? undefined : parseFrom(rawFrom);
      if (rawFrom !== undefined && from === undefined) return reply.code(400).send({ error: 'from must be an ISO 8601 time or epoch milliseconds' });
      try {
        const calls = await reader.list({ limit, ...(did === undefined || did === '' ? {} : { did }), ...(from === undefined ? {} : { from }) });
        return reply.header('cache-control', 'private, no-store').send({ calls });
      } catch (error) {
        return reply.code(503).send(unavailable(error));
      }
    },
  });

  app.route<{ Params: { call: string } }>({
    method: 'GET',
    url: `${CALLS_PATH}/:call`,
    onRequest: basicAuth(credentials),
    handler: async (request, reply) => {
      const { call } = request.params;
      if (!CALL_ID.test(call)) return reply.code(404).send({ error: 'no trail for this call' });
      try {
        const trail = await reader.get(call);
        if (trail === undefined) return reply.code(404).send({ error: 'no trail for this call (unknown, or older than CALL_TRAIL_TTL)' });
        return reply.header('cache-control', 'private, no-store').send(trail);
      } catch (error) {
        return reply.code(503).send(unavailable(error));
      }
    },
  });
};
