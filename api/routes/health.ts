import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Redis } from 'ioredis';
import type { InfluxClient } from '../../store/influx-redis/influx-client.ts';
import type { StatePort } from '../../store/ports/state.ts';
import { Liveness, Readiness } from '../schemas/health.ts';

export interface HealthRouteOptions {
  redis: Redis;
  /** where the collector heartbeat is read */
  state: StatePort;
  influx: InfluxClient;
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

/** /health/live (process up) and /health/ready (Redis and InfluxDB answer; 503 naming what is down). */
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
        summary: 'Readiness: Redis and InfluxDB answer.',
        response: { 200: Readiness, 503: Readiness },
      },
    },
    async (_req, reply) => {
      const [redis, influxdb, beatMs] = await Promise.all([
        timed(async () => (await o.redis.ping()) === 'PONG', timeoutMs),
        timed(() => o.influx.ping(), timeoutMs),
        o.state.heartbeat().catch(() => null),
      ]);
      const down = [
        ...(redis.status === 'down' ? ['redis'] : []),
        ...(influxdb.status === 'down' ? ['influxdb'] : []),
      ];
      const body = {
        status: down.length === 0 ? ('ready' as const) : ('not_ready' as const),
        down,
        checks: { redis, influxdb },
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
