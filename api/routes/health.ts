import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { StoreBackend } from '../../store/store.ts';
import { Liveness, Readiness } from '../schemas/health.ts';

export interface ReadinessProbe {
  /** the dependency's name in `checks` and `down` (redis, influxdb) */
  name: string;
  check: () => Promise<boolean>;
}

export interface HealthRouteOptions {
  /** which backend this process serves from (shown in /health/ready) */
  backend: StoreBackend;
  /** the servers this process depends on; none for the embedded store (it lives in this process) */
  probes: readonly ReadinessProbe[];
  /** when the collector last reported (ms since epoch), null when unknown */
  collectorHeartbeatMs: () => Promise<number | null>;
  /** per-dependency timeout (default 1500 ms) */
  timeoutMs?: number;
}

async function timed(
  check: () => Promise<boolean>,
  timeoutMs: number,
): Promise<{ status: 'up' | 'down'; latency_ms: number | null; message?: string }> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const ok = await Promise.race([
      check(),
      new Promise<boolean>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    const latency = Math.round((performance.now() - started) * 10) / 10;
    return ok
      ? { status: 'up', latency_ms: latency }
      : { status: 'down', latency_ms: latency, message: 'unexpected answer' };
  } catch (err) {
    // Our own short text: never the driver's message (it may carry hosts or credentials).
    return {
      status: 'down',
      latency_ms: null,
      message: /within/.test((err as Error).message) ? (err as Error).message : 'not reachable',
    };
  } finally {
    clearTimeout(timer);
  }
}

/** /health/live (process up) and /health/ready (the store's servers answer; 503 naming what is down). */
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
        summary: 'Readiness: the store answers (Redis and InfluxDB on the influx-redis backend).',
        response: { 200: Readiness, 503: Readiness },
      },
    },
    async (_req, reply) => {
      const [results, beatMs] = await Promise.all([
        Promise.all(o.probes.map(async p => [p.name, await timed(p.check, timeoutMs)] as const)),
        o.collectorHeartbeatMs().catch(() => null),
      ]);
      const down = results.filter(([, r]) => r.status === 'down').map(([name]) => name);
      const body = {
        status: down.length === 0 ? ('ready' as const) : ('not_ready' as const),
        store: { backend: o.backend },
        down,
        checks: Object.fromEntries(results),
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
