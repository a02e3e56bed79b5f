import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Store } from '../../store/store.ts';
import { Liveness, Readiness } from '../schemas/health.ts';

export interface HealthRouteOptions {
  /** the storage backend: its ping() answers for each dependency */
  store: Store;
  /** per-dependency timeout (default 1500 ms) */
  timeoutMs?: number;
}

/** /health/live (process up) and /health/ready (the store's dependencies answer; 503 naming what is down). */
const healthRoutes: FastifyPluginAsyncZod<HealthRouteOptions> = async (app, o) => {
  const timeoutMs = o.timeoutMs ?? 1_500;
  const common = { tags: ['health'], security: [] };

  app.get(
    '/health/live',
    {
      config: { rateLimit: false },
      schema: { ...common, summary: 'Liveness: the process answers.', response: { 200: Liveness } },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/health/ready',
    {
      config: { rateLimit: false },
      schema: {
        ...common,
        summary: 'Readiness: the store answers (Redis and InfluxDB, or the SQLite file).',
        response: { 200: Readiness, 503: Readiness },
      },
    },
    async (_req, reply) => {
      const [pings, beatMs] = await Promise.all([
        o.store.ping(timeoutMs),
        o.store.state.heartbeat().catch(() => null),
      ]);
      const down = pings.filter(p => p.status === 'down').map(p => p.name);
      const checks = Object.fromEntries(pings.map(({ name, ...check }) => [name, check]));
      const body = {
        status: down.length === 0 ? ('ready' as const) : ('not_ready' as const),
        store: { backend: o.store.backend },
        down,
        checks,
        collector: {
          last_heartbeat: beatMs === null ? null : new Date(beatMs).toISOString(),
          age_s: beatMs === null ? null : Math.max(0, Math.round((Date.now() - beatMs) / 100) / 10),
        },
      };
      return reply.code(down.length === 0 ? 200 : 503).send(body);
    },
  );
};

export default healthRoutes;
