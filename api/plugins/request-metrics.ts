import type { FastifyInstance } from 'fastify';
import type { ApiMetrics } from '../metrics.ts';

/**
 * Request duration histogram and counter by method, route template and status code, plus one
 * log line per request: info for writes and for answers >= 400, debug for successful reads
 * (quiet under normal load; 5xx details are logged by the error handler).
 */
export function installRequestMetrics(app: FastifyInstance, metrics: ApiMetrics): void {
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    const labels = { method: req.method, route, status_code: String(reply.statusCode) };
    const seconds = reply.elapsedTime / 1_000;
    metrics.requestDuration.observe(labels, seconds);
    metrics.requests.inc(labels);
    const entry = {
      method: req.method,
      route,
      url: req.url.split('?')[0],
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
    };
    if (reply.statusCode >= 400 || (req.method !== 'GET' && req.method !== 'HEAD'))
      req.log.info(entry, 'request completed');
    else req.log.debug(entry, 'request completed');
  });
}
