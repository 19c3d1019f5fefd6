// GET /metrics: the process's metrics in the Prometheus text format, unauthenticated as
// Prometheus scrapes expect (bind HTTP_HOST to a private interface, or filter at the edge).
import type { FastifyPluginAsync } from 'fastify';
import type { Logger } from '../flow/ports.js';
import type { Metrics } from '../metrics/metrics.js';

export interface MetricsRouteOptions {
  readonly metrics: Metrics;
  readonly log: Logger;
}

export const METRICS_PATH = '/metrics';

/** Register with `app.register(metricsRoute, { metrics, log })`. */
export const metricsRoute: FastifyPluginAsync<MetricsRouteOptions> = async (app, { metrics, log }) => {
  app.get(METRICS_PATH, async (_request, reply) => {
    try {
      const text = await metrics.scrape();
      return reply.type(metrics.contentType).send(text);
    } catch (error) {
      log.error({ err: error }, 'metrics scrape failed');
      return reply.code(500).type('text/plain; charset=utf-8').send('the metrics could not be collected\n');
    }
  });
};
