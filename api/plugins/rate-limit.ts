import rateLimit, { normalizeIP } from '@fastify/rate-limit';
import type { FastifyContextConfig, FastifyInstance, FastifyRequest } from 'fastify';
import { FleetError } from '../../core/errors.ts';
import type { LimitsPort } from '../../store/ports/limits.ts';
import type { ApiConfig } from '../config.ts';
import type { Caller } from '../../services/context.ts';
import type { ApiMetrics } from '../metrics.ts';
import { formatDuration } from '../../services/query/time.ts';

/**
 * Rate limits on the store's window counters (store/ports/limits.ts: Redis shared by every API
 * process on the farm backend, in-process on embedded), fixed windows of RATE_LIMIT_WINDOW_MS:
 *
 *  - api: every route, RATE_LIMIT_MAX requests per subject — the JWT `tenant/sub` when
 *    authenticated, else the client IP (IPv6 per /64). @fastify/rate-limit with a store over
 *    those counters, run at preValidation so the caller is known (the auth hook runs at onRequest) and
 *    requests that later fail validation still count. Health, metrics and docs are exempt.
 *  - control: routes marked with `config: controlRateLimit` also count against
 *    RATE_LIMIT_CONTROL_MAX per subject, one budget shared by all control routes.
 *  - auth_failures: 401s per client IP; above RATE_LIMIT_AUTH_FAILURES_MAX further failures
 *    are answered 429 (a valid token from that IP still works: it never reaches the counter).
 *
 * Every 429 carries Retry-After and the standard error body (rate_limited).
 *
 * When the counters fail (Redis down; skipOnError, decided per limiter):
 *  - api and auth_failures fail OPEN: reads are served from InfluxDB too and must not go dark
 *    because the limiter's store is down; the outage shows in /health/ready and in
 *    bosfleet_api_rate_limit_errors_total{fail_open="true"}.
 *  - control fails CLOSED (503): control actions drive real machines (and their jobs live in
 *    Redis anyway); refusing them briefly is safer than running them unthrottled.
 */

declare module 'fastify' {
  interface FastifyContextConfig {
    /** extra limiter for this route, see controlRateLimit */
    rateLimitClass?: 'control';
  }
}

/** Route config for control routes: `app.post('/x', { config: controlRateLimit, … })`. */
export const controlRateLimit = { rateLimitClass: 'control' } as const satisfies FastifyContextConfig;

/** The rate-limit subject: tenant/sub when authenticated, else the IP. */
export function subjectOf(req: FastifyRequest): string {
  const caller = req.caller as Caller | null;
  return caller ? `sub:${caller.tenant}/${caller.sub}` : `ip:${normalizeIP(req.ip)}`;
}

export interface RateLimitDeps {
  config: ApiConfig;
  /** the store's window counters (infra.store.limits) */
  limits: LimitsPort;
  metrics: ApiMetrics;
}

/** Counts 401s per IP; `hit` says whether this failure is over the budget (then answer 429). */
export interface AuthFailureLimiter {
  hit(req: FastifyRequest): Promise<{ blocked: boolean; retryAfterS: number }>;
}

export function createAuthFailureLimiter(d: RateLimitDeps): AuthFailureLimiter {
  const counter = d.limits;
  const windowMs = d.config.RATE_LIMIT_WINDOW_MS;
  return {
    async hit(req) {
      try {
        const { count, ttlMs } = await counter.hit('auth_failures', `ip:${normalizeIP(req.ip)}`, windowMs);
        return {
          blocked: count > d.config.RATE_LIMIT_AUTH_FAILURES_MAX,
          retryAfterS: Math.max(1, Math.ceil(ttlMs / 1_000)),
        };
      } catch (err) {
        d.metrics.rateLimitErrors.inc({ limit: 'auth_failures', fail_open: 'true' });
        req.log.warn({ err: (err as Error).message }, 'auth-failure limiter unavailable; not counting');
        return { blocked: false, retryAfterS: 0 };
      }
    },
  };
}

/** Register the api limiter (global) and the control limiter on the root instance. */
export async function installRateLimits(app: FastifyInstance, d: RateLimitDeps): Promise<void> {
  const counter = d.limits;
  const windowMs = d.config.RATE_LIMIT_WINDOW_MS;
  const window = formatDuration(windowMs);

  // A @fastify/rate-limit store over our counter: our key names, our metrics.
  class Store {
    private readonly scope: string;
    constructor(_opts?: unknown, scope = 'api') {
      this.scope = scope;
    }
    incr(
      key: string,
      cb: (err: Error | null, res?: { current: number; ttl: number }) => void,
      timeWindow: number,
    ): void {
      counter.hit(this.scope, key, timeWindow).then(
        r => cb(null, { current: r.count, ttl: r.ttlMs }),
        (err: Error) => {
          d.metrics.rateLimitErrors.inc({ limit: 'api', fail_open: 'true' });
          cb(err);
        },
      );
    }
    child(routeOptions: { routeInfo?: { method?: string; url?: string } }): Store {
      return new Store(
        undefined,
        `api:${routeOptions.routeInfo?.method ?? ''}:${routeOptions.routeInfo?.url ?? ''}`,
      );
    }
  }

  await app.register(rateLimit, {
    global: true,
    hook: 'preValidation',
    max: d.config.RATE_LIMIT_MAX,
    timeWindow: windowMs,
    store: Store as never,
    skipOnError: true, // fail open, see the header comment
    keyGenerator: subjectOf,
    errorResponseBuilder: (req, ctx) => {
      d.metrics.rateLimited.inc({ limit: 'api' });
      const retry = Math.max(1, Math.ceil(ctx.ttl / 1_000));
      return new FleetError(
        'rate_limited',
        `rate limit exceeded: at most ${ctx.max} requests per ${window}; retry in ${retry} s`,
        {
          details: { limit: ctx.max, window_s: windowMs / 1_000, retry_after_s: retry },
        },
      );
    },
  });

  app.addHook('preValidation', async (req, reply) => {
    if (req.routeOptions.config?.rateLimitClass !== 'control') return;
    let r: { count: number; ttlMs: number };
    try {
      r = await counter.hit('control', subjectOf(req), windowMs);
    } catch (err) {
      d.metrics.rateLimitErrors.inc({ limit: 'control', fail_open: 'false' });
      throw new FleetError(
        'unavailable',
        'control requests are refused while the rate limiter (Redis) is unreachable; retry shortly',
        { cause: err },
      );
    }
    if (r.count > d.config.RATE_LIMIT_CONTROL_MAX) {
      d.metrics.rateLimited.inc({ limit: 'control' });
      const retry = Math.max(1, Math.ceil(r.ttlMs / 1_000));
      reply.header('retry-after', String(retry));
      throw new FleetError(
        'rate_limited',
        `control rate limit exceeded: at most ${d.config.RATE_LIMIT_CONTROL_MAX} control requests per ${window}; retry in ${retry} s`,
        {
          details: {
            limit: d.config.RATE_LIMIT_CONTROL_MAX,
            window_s: windowMs / 1_000,
            retry_after_s: retry,
          },
        },
      );
    }
  });
}
