import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The API's self-metrics, served at `/metrics`. One registry per API process (created by
 * `createApiMetrics`, handed to `buildApp`, reachable by route plugins as `app.metrics`), so
 * the control half registers its own series on the same registry, e.g.
 *
 *   new Gauge({ name: 'bosfleet_api_jobs', help: '…', labelNames: ['state'], registers: [app.metrics.registry] })
 *
 * Label values are bounded: `route` is the route template (`/api/v1/miners/:id`, or
 * `unmatched` for 404s), never the raw URL; `cache` and `limit` are fixed vocabularies.
 */
export interface ApiMetrics {
  registry: Registry;
  requestDuration: Histogram<'method' | 'route' | 'status_code'>;
  requests: Counter<'method' | 'route' | 'status_code'>;
  /** in-process caches of the query service: result = hit | stale | miss */
  cacheRequests: Counter<'cache' | 'result'>;
  /** requests answered 429, per limiter: api | control | auth_failures */
  rateLimited: Counter<'limit'>;
  /** limiter storage (Redis) failures, per limiter; `fail_open` says whether the request went through */
  rateLimitErrors: Counter<'limit' | 'fail_open'>;
  /** 401s by bounded reason (missing | malformed | expired | signature | claims | key) */
  authFailures: Counter<'reason'>;
  /** bytes of decoded window-statistics buckets held (set by whoever owns them) */
  windowCacheBytes: Gauge;
  /** loads of a tenant's miner table (read and parsed in the loader thread), result = ok | error */
  minerTableLoad: Histogram<'result'>;
}

export const CACHE_NAMES = ['miner_table', 'miner_list', 'summary', 'models', 'pool_health', 'miner_page', 'window_stats', 'window_bucket'] as const;
export type CacheName = (typeof CACHE_NAMES)[number];

export function createApiMetrics(registry = new Registry()): ApiMetrics {
  collectDefaultMetrics({ register: registry, prefix: 'bosfleet_api_process_' });
  const r = [registry];
  const labelNames = ['method', 'route', 'status_code'] as const;
  return {
    registry,
    requestDuration: new Histogram({
      name: 'bosfleet_api_request_duration_seconds',
      help: 'Time from request received to response sent, by method, route template and status code.',
      labelNames,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: r,
    }),
    requests: new Counter({
      name: 'bosfleet_api_requests_total',
      help: 'Requests answered, by method, route template and status code.',
      labelNames,
      registers: r,
    }),
    cacheRequests: new Counter({
      name: 'bosfleet_api_cache_requests_total',
      help: 'Lookups in the query service in-process caches by cache and result (hit, stale = served while refreshing, miss).',
      labelNames: ['cache', 'result'],
      registers: r,
    }),
    rateLimited: new Counter({
      name: 'bosfleet_api_rate_limited_total',
      help: 'Requests refused with 429, by limiter (api, control, auth_failures).',
      labelNames: ['limit'],
      registers: r,
    }),
    rateLimitErrors: new Counter({
      name: 'bosfleet_api_rate_limit_errors_total',
      help: 'Rate-limit storage (Redis) failures by limiter; fail_open="true" when the request was let through.',
      labelNames: ['limit', 'fail_open'],
      registers: r,
    }),
    authFailures: new Counter({
      name: 'bosfleet_api_auth_failures_total',
      help: 'Requests refused with 401, by bounded reason.',
      labelNames: ['reason'],
      registers: r,
    }),
    windowCacheBytes: new Gauge({
      name: 'bosfleet_api_window_cache_bytes',
      help: 'Decoded per-miner window statistics held in memory for analytics (bounded by API_WINDOW_CACHE_MB).',
      registers: r,
    }),
    minerTableLoad: new Histogram({
      name: 'bosfleet_api_miner_table_load_seconds',
      help: "Time to load a tenant's miner table (every snapshot, read and parsed off the request thread), by result (ok, error).",
      labelNames: ['result'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: r,
    }),
  };
}
