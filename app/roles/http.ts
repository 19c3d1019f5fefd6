// The http role: /health (the process answers), /ready (the roles in this process can
// take work), /media (speech and audio for Asterisk), /metrics (Prometheus) and, for the
// operator behind Basic authentication, /admin (the queue dashboard, recordings, call trails).
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from '../../lib/flow/ports.js';
import { basicAuth, type BasicCredentials } from '../../lib/http/basic-auth.js';
import { QUEUE_DASHBOARD_PATH, queueDashboard, type DashboardQueues } from '../../lib/http/queue-dashboard.js';
import { CALLS_PATH, callsRoute } from '../../lib/http/calls-route.js';
import { RECORDINGS_PATH, recordingsRoute, type RecordingFiles } from '../../lib/http/recordings-route.js';
import { METRICS_PATH, metricsRoute } from '../../lib/http/metrics-route.js';
import { mediaRoutes, type MediaStore } from '../../lib/media/index.js';
import type { Metrics } from '../../lib/metrics/index.js';

export interface Readiness {
  readonly ready: boolean;
  /** Each check of the process's roles: "ok", or why it fails ("no answer within 1000 ms"). */
  readonly checks?: Readonly<Record<string, string>>;
  readonly [detail: string]: unknown;
}

export interface HttpRoleOptions {
  readonly port: number;
  /** The address to bind (HTTP_HOST). Default 0.0.0.0: reachable from outside a container. */
  readonly host?: string;
  /** Asked on each /ready: 200 when `ready`, else 503; the body says which check failed. */
  readonly readiness: () => Readiness | Promise<Readiness>;
  /**
   * Serves `/media/<sha256>.wav` from this store: what Asterisk fetches for speech and
   * audio. Absent in a process without the http role, which serves /health, /ready and
   * /metrics only.
   */
  readonly store?: MediaStore;
  /** Serves `/metrics` (Prometheus text format): every process has it, whatever its roles. */
  readonly metrics?: Metrics;
  /**
   * Serves `/admin/recordings/<name>.wav` (`<Record>`'s recordings, from Asterisk) behind
   * Basic authentication with `credentials` (ADMIN_USERNAME / ADMIN_PASSWORD). Without
   * credentials, or without ARI settings for `files`, the route does not exist (404).
   */
  readonly recordings?: { readonly files?: RecordingFiles; readonly credentials?: BasicCredentials };
  /**
   * The operator's credentials (ADMIN_USERNAME / ADMIN_PASSWORD) for everything under
   * `/admin`: the queue dashboard, and the recordings when `recordings.credentials` is
   * not given. Without any, `/admin` is not served at all (404).
   */
  readonly admin?: BasicCredentials;
  /**
   * The queues the dashboard at `/admin/queues` shows (Bull Board, read-write), on one
   * Redis connection of its own closed by stop(). Served only with `admin` credentials.
   */
  readonly queues?: DashboardQueues;
  /**
   * Where the call trails are (REDIS_URL, QUEUE_PREFIX): served at `/admin/calls` and
   * `/admin/calls/<uuid>` with `admin` credentials, on one Redis connection of their own.
   */
  readonly trails?: { readonly connection: DashboardQueues['connection']; readonly prefix: string };
}

export interface HttpRole {
  /** The port listened on (useful when 0 was asked). */
  readonly port: number;
  stop(): Promise<void>;
}

export async function startHttpRole(options: HttpRoleOptions, log: Logger): Promise<HttpRole> {
  // The http role closes last, after the calls have drained: nobody is left to need a
  // connection, and a client's keep-alive socket must not hold the shutdown open.
  const server: FastifyInstance = Fastify({ logger: false, forceCloseConnections: true });
  server.get('/health', async () => ({ status: 'ok' }));
  if (options.store !== undefined) await server.register(mediaRoutes, { store: options.store });
  if (options.metrics !== undefined) {
    await server.register(metricsRoute, { metrics: options.metrics, log });
    log.debug({ path: METRICS_PATH }, 'serving metrics');
  }
  const { files } = options.recordings ?? {};
  const credentials = options.recordings?.credentials ?? options.admin;
  const offersAdmin = options.recordings !== undefined || options.queues !== undefined || options.trails !== undefined;
  if (offersAdmin && credentials === undefined && options.admin === undefined) {
    // One line for all of /admin: nothing there is served, and how to change that.
    log.info({}, `/admin is not served: set ADMIN_USERNAME and ADMIN_PASSWORD to serve the queue dashboard at ${QUEUE_DASHBOARD_PATH}, recordings at ${RECORDINGS_PATH}/<name>.wav and call trails at ${CALLS_PATH}`);
  }
  if (files !== undefined && credentials !== undefined) {
    await server.register(recordingsRoute, { files, credentials, log });
    log.info({ path: `${RECORDINGS_PATH}/<name>.wav` }, 'serving recordings to ADMIN_USERNAME');
  } else if (credentials !== undefined) {
    log.info({}, `recordings are not served: set ARI_URL, ARI_USERNAME and ARI_PASSWORD for the http role to fetch them from Asterisk`);
  }
  const { admin, queues, trails } = options;
  if (admin !== undefined) {
    // Any other path under /admin asks for the credentials too before it says 404.
    await server.register(
      async (scope) => {
        scope.addHook('onRequest', basicAuth(admin));
        scope.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: 'not found' }));
      },
      { prefix: '/admin' },
    );
    if (queues !== undefined) {
      await server.register(queueDashboard, { credentials: admin, queues, log });
      log.info({ path: QUEUE_DASHBOARD_PATH, prefix: queues.prefix, queues: queues.names }, 'serving the queue dashboard to ADMIN_USERNAME');
    } else {
      log.info({}, `the queue dashboard is not served: set REDIS_URL for the http role to serve ${QUEUE_DASHBOARD_PATH}`);
    }
    if (trails !== undefined) {
      await server.register(callsRoute, { credentials: admin, trails, log });
      log.info({ path: CALLS_PATH, prefix: trails.prefix }, 'serving call trails to ADMIN_USERNAME');
    }
  }
  server.get('/ready', async (_request, reply) => {
    const readiness = await options.readiness();
    return reply.code(readiness.ready ? 200 : 503).send(readiness);
  });
  const host = options.host ?? '0.0.0.0';
  await server.listen({ port: options.port, host });
  const address = server.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const bound = typeof address === 'object' && address !== null ? address.address : host;
  log.info({ host: bound, port }, 'http role listening');
  let stopping: Promise<void> | undefined;
  return {
    port,
    stop() {
      stopping ??= server.close();
      return stopping;
    },
  };
}
