import type { FastifyReply, FastifyRequest } from 'fastify';
import { FleetError, isFleetError } from '../../core/errors.ts';
import type { ApiConfig } from '../config.ts';
import { hasRole, type Caller, type Role } from '../../services/context.ts';
import type { ApiMetrics } from '../metrics.ts';
import type { AuthFailureLimiter } from '../plugins/rate-limit.ts';
import { noAuthCaller, type AuthFailureReason, type VerifyToken } from './verifier.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * Who is asking. Set by the authentication hook on every route under /api/v1 (and any
     * other scope that installs it); routes outside (health, metrics, docs) must not read it.
     */
    caller: Caller;
  }
}

export const AUTH_REALM = 'bos-fleet';

export interface AuthHookOptions {
  config: Pick<ApiConfig, 'AUTH_MODE' | 'AUTH_NONE_TENANT' | 'AUTH_NONE_ROLE'>;
  verifyToken: VerifyToken;
  /** counts 401s per IP and turns them into 429 above the budget; null disables */
  failures: AuthFailureLimiter | null;
  metrics?: ApiMetrics | undefined;
}

const BEARER_RE = /^Bearer[ \t]+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)[ \t]*$/i;

/** The bearer token of a request, or null (absent); throws unauthenticated/malformed for another scheme or shape. */
export function bearerToken(req: FastifyRequest): string | null {
  const header = req.headers.authorization;
  if (header === undefined || header === '') return null;
  const m = BEARER_RE.exec(header);
  if (!m)
    throw new FleetError('unauthenticated', 'the Authorization header must be "Bearer <JWT>"', {
      details: { reason: 'malformed' },
    });
  return m[1]!;
}

/**
 * The onRequest hook that authenticates every route of the scope it is added to: sets
 * `req.caller`, or answers 401 (`WWW-Authenticate: Bearer realm="bos-fleet"`, plus
 * `error="invalid_token"` when a token was presented, per RFC 6750 §3.1) — or 429 once the IP
 * has failed too often. A verified caller without any role gets 403.
 */
export function authenticate(
  o: AuthHookOptions,
): (req: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const fixed = o.config.AUTH_MODE === 'none' ? noAuthCaller(o.config) : null;

  const fail = async (
    req: FastifyRequest,
    reply: FastifyReply,
    err: FleetError,
    presented: boolean,
  ): Promise<never> => {
    const reason = String(err.details?.reason ?? 'malformed') as AuthFailureReason;
    o.metrics?.authFailures.inc({ reason });
    const limited = o.failures ? await o.failures.hit(req) : { blocked: false, retryAfterS: 0 };
    if (limited.blocked) {
      o.metrics?.rateLimited.inc({ limit: 'auth_failures' });
      reply.header('retry-after', String(limited.retryAfterS));
      throw new FleetError(
        'rate_limited',
        `too many failed authentications from this address; retry in ${limited.retryAfterS} s`,
        {
          details: { retry_after_s: limited.retryAfterS },
        },
      );
    }
    const description = err.message.replace(/["\\]/g, "'");
    reply.header(
      'www-authenticate',
      presented
        ? `Bearer realm="${AUTH_REALM}", error="invalid_token", error_description="${description}"`
        : `Bearer realm="${AUTH_REALM}"`,
    );
    throw err;
  };

  return async function authenticateRequest(req, reply) {
    if (fixed) {
      req.caller = fixed;
      return;
    }
    let token: string | null;
    try {
      token = bearerToken(req);
    } catch (err) {
      return await fail(req, reply, err as FleetError, true);
    }
    if (token === null) {
      return await fail(
        req,
        reply,
        new FleetError('unauthenticated', 'missing bearer token: send Authorization: Bearer <JWT>', {
          details: { reason: 'missing' },
        }),
        false,
      );
    }
    let caller: Caller;
    try {
      caller = await o.verifyToken(token);
    } catch (err) {
      if (isFleetError(err) && err.code === 'unauthenticated') return await fail(req, reply, err, true);
      throw err;
    }
    req.caller = caller;
    if (!hasRole(caller, 'viewer')) {
      throw new FleetError(
        'forbidden',
        'the token grants no bos-fleet role; it needs roles: [viewer], [operator] or [admin]',
        { details: { required_role: 'viewer' } },
      );
    }
  };
}

/**
 * A route hook that lets only callers with `role` (or a higher one) through; 403 otherwise.
 * Use it as `onRequest: requireRole('operator')` (checked before the body is parsed) or as a
 * preHandler. Ranks: viewer < operator < admin — viewer reads, operator controls, admin manages
 * inventory, credentials and firmware images.
 */
export function requireRole(role: Role): (req: FastifyRequest) => Promise<void> {
  return async function requireRoleHook(req) {
    const caller = req.caller as Caller | null;
    if (!caller)
      throw new FleetError('unauthenticated', 'this route needs an authenticated caller', {
        details: { reason: 'missing' },
      });
    if (!hasRole(caller, role)) {
      throw new FleetError(
        'forbidden',
        `this needs the ${role} role; the token grants ${caller.roles.length > 0 ? caller.roles.join(', ') : 'no role'}`,
        {
          details: { required_role: role },
        },
      );
    }
  };
}
