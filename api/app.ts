import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyPluginAsync,
} from 'fastify';
import { serializerCompiler, validatorCompiler, type FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { authenticate } from './auth/authenticate.ts';
import { createTokenVerifier, type VerifyToken } from './auth/verifier.ts';
import type { ApiConfig } from './config.ts';
import type { ApiInfra } from '../services/context.ts';
import type { LimitsPort } from '../store/ports/limits.ts';
import { errorBody, installErrorHandler } from './errors.ts';
import { createApiMetrics, type ApiMetrics } from './metrics.ts';
import { createAuthFailureLimiter, installRateLimits } from './plugins/rate-limit.ts';
import { clientErrorHandler } from './plugins/client-errors.ts';
import { installJsonBodyParser } from './plugins/json-body.ts';
import { installRequestMetrics } from './plugins/request-metrics.ts';
import { installSwagger } from './plugins/swagger.ts';
import type { FleetQuery } from '../services/query/fleet-query.ts';
import { ProfitabilityService } from '../services/energy/profitability-service.ts';
import healthRoutes from './routes/health.ts';
import metricsRoutes from './routes/metrics.ts';
import analyticsRoutes from './routes/v1/analytics.ts';
import profitabilityRoutes from './routes/v1/profitability.ts';
import eventRoutes from './routes/v1/events.ts';
import fleetRoutes from './routes/v1/fleet.ts';
import minerRoutes from './routes/v1/miners.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** connections and shared clients (config, log, redis, keys, influx, minerPool, credentials) */
    infra: ApiInfra;
    fleetQuery: FleetQuery;
    /** revenue, power cost and margin from stored series and the configured prices */
    profitability: ProfitabilityService;
    /** the API's prom-client registry and metrics; register more series on `metrics.registry` */
    metrics: ApiMetrics;
    /** the bearer-token verifier (MCP over HTTP uses the same one) */
    verifyToken: VerifyToken;
  }
}

export const API_VERSION = '0.1.0';

/** A route plugin of the control half (or any other), mounted under /api/v1 behind authentication. */
export type ApiRoutePlugin = FastifyPluginAsync | FastifyPluginAsyncZod;

export interface BuildAppOptions {
  infra: ApiInfra;
  fleetQuery: FleetQuery;
  /** default: one over fleetQuery and the ENERGY_PRICE_SOURCE / HASHPRICE_* configuration */
  profitability?: ProfitabilityService;
  /** more route plugins, each registered under the auth hook with prefix /api/v1 */
  extraRoutes?: readonly ApiRoutePlugin[];
  /** default: a new registry (createApiMetrics) */
  metrics?: ApiMetrics;
  /** default: createTokenVerifier(infra.config) */
  verifyToken?: VerifyToken;
  /** the rate limiters' window counters (default infra.store.limits) */
  limits?: LimitsPort;
}

/**
 * The API as a fastify instance that does not listen (server.ts listens; tests inject).
 *
 * Order matters: error handler and compilers first; request metrics; OpenAPI (it must see every
 * route); rate limits (their onRoute hook must see every route); then the public routes at the
 * root (health, metrics, docs) and the authenticated scope `/api/v1`, whose onRequest hook
 * verifies the bearer token before anything else runs, including its 404s (so unauthenticated
 * callers cannot enumerate routes).
 */
export async function buildApp(o: BuildAppOptions): Promise<FastifyInstance> {
  const { infra } = o;
  const config = infra.config;
  const metrics = o.metrics ?? createApiMetrics();
  const verifyToken = o.verifyToken ?? createTokenVerifier(config);

  const app = Fastify({
    // pino's Logger is a FastifyBaseLogger; typing it as such keeps the instance type plain.
    loggerInstance: infra.log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: 'x-request-id',
    // Behind a load balancer, the client is in X-Forwarded-For, set by the proxies trusted here.
    trustProxy: trustProxyOf(config.API_TRUST_PROXY),
    routerOptions: { ignoreTrailingSlash: true },
    // Slow clients cannot hold a request open forever; control uploads set their own limits.
    requestTimeout: 120_000,
    clientErrorHandler,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorate('infra', infra);
  app.decorate('fleetQuery', o.fleetQuery);
  const profitability = o.profitability ?? new ProfitabilityService({ fleetQuery: o.fleetQuery, config, log: infra.log, registry: metrics.registry });
  app.decorate('profitability', profitability);
  // An HTTP hashprice feed is polled while the app runs (a fixed hashprice needs nothing).
  app.addHook('onReady', async () => profitability.start());
  app.addHook('onClose', async () => profitability.close());
  app.decorate('metrics', metrics);
  app.decorate('verifyToken', verifyToken);
  app.decorateRequest('caller', null, []);

  installErrorHandler(app);
  installJsonBodyParser(app);
  installRequestMetrics(app, metrics);
  await installSwagger(app, config, API_VERSION);
  const limiterDeps = { config, limits: o.limits ?? infra.store.limits, metrics };
  await installRateLimits(app, limiterDeps);

  await app.register(healthRoutes, { store: infra.store });
  await app.register(metricsRoutes, { registry: metrics.registry });

  const failures = createAuthFailureLimiter(limiterDeps);
  await app.register(
    async api => {
      api.addHook('onRequest', authenticate({ config, verifyToken, failures, metrics }));
      api.setNotFoundHandler((req, reply) =>
        reply
          .code(404)
          .send(
            errorBody(
              'not_found',
              `no route ${req.method} ${req.url.split('?')[0]}; the API is described at /docs`,
            ),
          ),
      );
      await api.register(fleetRoutes);
      await api.register(minerRoutes);
      await api.register(analyticsRoutes);
      await api.register(profitabilityRoutes);
      await api.register(eventRoutes);
      for (const routes of o.extraRoutes ?? []) await api.register(routes as FastifyPluginAsync);
    },
    { prefix: '/api/v1' },
  );
  return app;
}

/** A hop count as the trust function fastify takes for it (its types know no number). */
function trustProxyOf(v: ApiConfig['API_TRUST_PROXY']): boolean | string[] | ((address: string, hop: number) => boolean) {
  return typeof v === 'number' ? (_address, hop) => hop < v : v;
}
