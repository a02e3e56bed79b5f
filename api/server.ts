import closeWithGrace from 'close-with-grace';
import type { FastifyInstance } from 'fastify';
import { parseConfig, readRawConfig } from '../runtime/config-loader.ts';
import { createLogger, type Logger } from '../runtime/logger.ts';
import { followCredentialRefs } from '../collector/inventory/credential-refs.ts';
import type { InfluxRedisStore } from '../store/influx-redis/index.ts';
import { redactRedisUrl, waitForRedis } from '../store/influx-redis/redis-connection.ts';
import { listenError } from '../runtime/listen-error.ts';
import { buildApp, type ApiRoutePlugin } from './app.ts';
import { checkAuthExposure, isLoopbackHost } from './auth/exposure.ts';
import { apiPollSchema, type ApiConfig } from './config.ts';
import type { ApiInfra } from '../services/context.ts';
import { createInfra } from './infra.ts';
import { createApiMetrics, type ApiMetrics } from './metrics.ts';
import { FleetQuery } from '../services/query/fleet-query.ts';
import { registerStoreInfo, storeLine } from '../store/open-store.ts';
import type { Store } from '../store/store.ts';

/**
 * The only place that listens: creates the connections (Redis, InfluxDB client, miner client
 * pool, credential store), the services and the app, listens, and shuts down gracefully on
 * SIGINT/SIGTERM (close-with-grace): stop accepting, finish in-flight requests, run every
 * onClose hook (miner clients, Redis), within `shutdownDelayMs` or exit hard.
 */
export interface ApiServerOptions {
  log?: Logger;
  /** overrides API_HOST */
  host?: string | undefined;
  /** overrides API_PORT (0 = any free port) */
  port?: number | undefined;
  /** what a user changes when the port is taken (default: the configuration keys) */
  listenSettings?: string;
  /**
   * The other halves (control, jobs, rollouts, schedules, inventory), built from the shared
   * infra: their routes are mounted under /api/v1 behind authentication, `start` runs once the
   * server listens (job workers, schedulers) and `close` runs first on shutdown, before the
   * connections close.
   */
  extension?: (
    infra: ApiInfra,
    shared: { metrics: ApiMetrics; fleetQuery: FleetQuery },
  ) => ApiExtension | Promise<ApiExtension>;
  /** install signal handlers (default true; tests pass false) */
  handleSignals?: boolean;
  /** hard-exit deadline for a graceful shutdown (default 10000 ms) */
  shutdownDelayMs?: number;
  /** environment for keys outside ApiConfig (COLLECTOR_POLL_INTERVAL_MS); default process.env */
  env?: NodeJS.ProcessEnv;
  /** the store to serve from, owned by the caller (one process with the collector); default: opened from config, closed with the server */
  store?: Store;
}

export interface ApiExtension {
  routes?: readonly ApiRoutePlugin[];
  /** register root-level routes (e.g. /mcp and its OAuth metadata) once the app is built */
  mount?(app: FastifyInstance): Promise<void>;
  start?(): Promise<void>;
  close?(): Promise<void>;
}

export interface ApiServer {
  app: FastifyInstance;
  infra: ApiInfra;
  fleetQuery: FleetQuery;
  /** http://host:port */
  url: string;
  /** resolves once the app has closed (signal or close()) */
  closed: Promise<void>;
  close(): Promise<void>;
}


export async function startApiServer(config: ApiConfig, opts: ApiServerOptions = {}): Promise<ApiServer> {
  const log = opts.log ?? createLogger({ level: config.LOG_LEVEL, name: 'api' });
  const host = opts.host ?? config.API_HOST;
  const port = opts.port ?? config.API_PORT;
  checkAuthExposure(config, host);
  const { COLLECTOR_POLL_INTERVAL_MS: pollIntervalMs } = parseConfig(
    apiPollSchema,
    readRawConfig(opts.env ?? process.env),
  );
  // On influx-redis the rate limiters get their own impatient connection: a slow Redis must not stall every request.
  const infraHandle = createInfra(config, log, 'bosfleet-api', { rateLimitConnection: true, ...(opts.store ? { store: opts.store } : {}) });
  const { infra } = infraHandle;
  const { minerPool, credentials } = infra;
  const farm = infra.store.backend === 'influx-redis';
  const stopCredentialRefs = config.COLLECTOR_INVENTORY_FILE ? await followCredentialRefs(config.COLLECTOR_INVENTORY_FILE, credentials, log) : () => undefined;
  const metrics = createApiMetrics();
  registerStoreInfo(metrics.registry, infra.store);
  const fleetQuery = new FleetQuery(
    { store: infra.store, redisUrl: config.REDIS_URL, log, metrics },
    { pollIntervalMs, windowCacheBytes: config.API_WINDOW_CACHE_MB * 1024 * 1024 },
  );

  let app: FastifyInstance;
  let extension: ApiExtension = {};
  try {
    extension = opts.extension ? await opts.extension(infra, { metrics, fleetQuery }) : {};
    app = await buildApp({
      infra,
      fleetQuery,
      metrics,
      extraRoutes: extension.routes ?? [],
    });
    await extension.mount?.(app);
  } catch (err) {
    await extension.close?.().catch(() => undefined);
    await fleetQuery.close();
    minerPool.closeAll();
    await infraHandle.close();
    throw err;
  }

  let stopPreload = (): void => undefined;
  let markClosed!: () => void;
  const closed = new Promise<void>(resolve => (markClosed = resolve));
  app.addHook('onClose', async () => {
    // Order: the other halves first (job workers hand running jobs back), then miners, then Redis.
    try {
      await extension.close?.();
    } catch (err) {
      log.error({ err }, 'extension close failed');
    }
    stopCredentialRefs();
    stopPreload();
    await fleetQuery.close();
    // The store drains its pending event writes, then quits Redis; the miner pool closes with it.
    await infraHandle.close();
    markClosed();
  });

  const redisUp = farm ? await waitForRedis((infra.store as InfluxRedisStore).redis, 3_000) : true;
  if (!redisUp) {
    log.warn(
      { redis: redactRedisUrl(config.REDIS_URL) },
      'Redis is not reachable yet; /health/ready reports it and requests needing it answer 503',
    );
  }
  // Listen once the recent window statistics are in memory (or after PRELOAD_WAIT_MS), so the
  // first analytical answers of a fresh replica are as fast as later ones (~1.5 s at 10,000 miners).
  const preload = startWindowPreload(fleetQuery, config.API_WINDOW_PRELOAD_HOURS, log);
  stopPreload = preload.stop;
  if (redisUp) await Promise.race([preload.first, new Promise(r => setTimeout(r, PRELOAD_WAIT_MS).unref())]);
  let url: string;
  try {
    url = await app.listen({ host, port });
  } catch (err) {
    // onClose releases what was opened above (Redis, workers, the table loader thread).
    await app.close().catch((e: unknown) => log.warn({ err: (e as Error).message }, 'close after a failed listen failed'));
    throw listenError(err, { what: 'the API', host, port, settings: opts.listenSettings ?? 'API_HOST / API_PORT' });
  }
  // fastify's url names one address (127.0.0.1 for 0.0.0.0); the log names what is really bound.
  const listeningOn = app
    .addresses()
    .map(a => (typeof a === 'string' ? a : a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`));
  const open = config.AUTH_MODE === 'none' ? { open_access: `${config.AUTH_NONE_ROLE} of tenant ${config.AUTH_NONE_TENANT}, no token` } : {};
  const line = { url, listening_on: listeningOn, docs: `${url}/docs`, auth: config.AUTH_MODE, ...open, pollIntervalMs, store: storeLine(infra.store) };
  if (config.AUTH_MODE === 'none' && !isLoopbackHost(host)) log.warn(line, 'API listening without authentication off loopback (AUTH_NONE_ALLOW_REMOTE=true)');
  else log.info(line, 'API listening');
  try {
    await extension.start?.();
  } catch (err) {
    await app.close();
    throw err;
  }

  let grace: { uninstall(): void } | null = null;
  if (opts.handleSignals ?? true) {
    grace = closeWithGrace(
      {
        delay: opts.shutdownDelayMs ?? 10_000,
        logger: { error: (m: unknown) => log.error({ err: m }, 'shutdown problem') },
      },
      async ({ signal, err }) => {
        if (err) log.error({ err }, 'shutting down after an unhandled error');
        else log.info({ signal }, 'shutting down');
        await app.close();
      },
    );
  }

  return {
    app,
    infra,
    fleetQuery,
    url,
    closed,
    async close() {
      grace?.uninstall();
      await app.close();
    },
  };
}

const PRELOAD_EVERY_MS = 5 * 60_000;
const PRELOAD_WAIT_MS = 10_000;

/** Keep the last `hours` of window statistics read ahead (FleetQuery.preloadWindows). */
function startWindowPreload(fleetQuery: FleetQuery, hours: number, log: Logger): { first: Promise<void>; stop: () => void } {
  if (hours <= 0) return { first: Promise.resolve(), stop: () => undefined };
  let running: Promise<void> | null = null;
  let runs = 0;
  const run = (): Promise<void> => {
    if (running) return running;
    const t0 = performance.now();
    // the first read-ahead is the long one (every bucket of `hours`): worth a line at info
    const level = runs++ === 0 ? 'info' : 'debug';
    running = fleetQuery
      .preloadWindows(hours)
      .then(r => log[level]({ ...r, ms: Math.round(performance.now() - t0) }, 'window statistics preloaded'))
      .catch((err: unknown) => log.warn({ err: (err as Error).message }, 'window statistics preload failed; analytics read them on demand'))
      .finally(() => (running = null));
    return running;
  };
  const first = run();
  const timer = setInterval(run, PRELOAD_EVERY_MS).unref();
  return { first, stop: () => clearInterval(timer) };
}
