import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';

/** Prometheus text exposition of the API registry (self-metrics; per-miner series live in InfluxDB). */
const metricsRoutes: FastifyPluginAsync<{ registry: Registry }> = async (app, o) => {
  app.get(
    '/metrics',
    {
      config: { rateLimit: false },
      schema: {
        tags: ['health'],
        security: [],
        summary: 'Prometheus metrics of this API process.',
        produces: ['text/plain'],
      },
    },
    async (_req, reply) => {
      const text = await o.registry.metrics();
      return reply.type(o.registry.contentType).send(text);
    },
  );
};

export default metricsRoutes;
