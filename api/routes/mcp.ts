import { toNodeHandler } from '@modelcontextprotocol/node';
import {
  createMcpHandler,
  getOAuthProtectedResourceMetadataUrl,
  validateHostHeader,
  validateOriginHeader,
  type AuthInfo,
} from '@modelcontextprotocol/server';
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { FleetError, isFleetError } from '../../core/errors.ts';
import { AUTH_REALM, bearerToken } from '../auth/authenticate.ts';
import { noAuthCaller, type AuthFailureReason, type VerifyToken } from '../auth/verifier.ts';
import type { ControlPlane } from '../../services/control/index.ts';
import { hasRole, type ApiInfra, type Caller } from '../../services/context.ts';
import type { ApiMetrics } from '../metrics.ts';
import { HTTP_STATUS } from '../errors.ts';
import { refusedBody } from '../plugins/json-body.ts';
import {
  createAuthFailureLimiter,
  subjectOf,
  type AuthFailureLimiter,
} from '../plugins/rate-limit.ts';
import type { FleetQuery } from '../../services/query/fleet-query.ts';
import { TenantGate } from '../plugins/tenant-gate.ts';
import type { ToolCategory } from '../../mcp/define-tool.ts';
import { createMcpMetrics } from '../../mcp/metrics.ts';
import { ALL_TOOLS, buildMcpServer } from '../../mcp/server.ts';

/**
 * MCP over Streamable HTTP at `/mcp` (stateless: one McpServer per request, built for the
 * caller of that request), plus its OAuth protected-resource metadata (RFC 9728) at
 * `/.well-known/oauth-protected-resource` and `/.well-known/oauth-protected-resource/mcp`.
 * Register it at the root of the app (not under /api/v1: it authenticates itself, with the
 * MCP-specific challenge), after the rate limiter.
 *
 * Every /mcp request, in order:
 *  1. Host check (DNS rebinding): the Host header's hostname must be in MCP_ALLOWED_HOSTS or be
 *     the host of API_PUBLIC_URL ('*' in MCP_ALLOWED_HOSTS turns the check off); a browser's
 *     Origin, when present, must be in MCP_ALLOWED_ORIGINS or the API_PUBLIC_URL host (plus
 *     localhost origins when that host is a loopback name). Refused: 403.
 *  2. Bearer JWT with the same verifier as REST (AUTH_MODE=none: the fixed caller). Missing or
 *     invalid: 401 with `WWW-Authenticate: Bearer realm="bos-fleet", resource_metadata="…"` (and
 *     error="invalid_token" when a token was sent), counted by the auth-failure limiter; a
 *     token without any bos-fleet role: 403 insufficient_scope.
 *  3. The caller's tenant and role decide which tools the server registers (a viewer sees no
 *     control tools) and every service call is tenant-scoped, exactly as REST.
 *  4. Rate limits: the app's per-caller limit counts every /mcp request; a tools/call of a
 *     control or admin tool also counts against RATE_LIMIT_CONTROL_MAX, in the same Redis
 *     window as the REST control routes (one budget per caller), failing closed (503) when the
 *     limiter's Redis is unreachable. A JSON-RPC batch is refused (-32600), so every call is
 *     counted. Each tenant runs at most MCP_TENANT_CONCURRENCY POSTs at once in this process,
 *     MCP_TENANT_QUEUE more wait their turn, and the rest get 429 (fair share: one tenant's burst
 *     queues behind itself, not in front of other tenants).
 */
export interface McpRouteOptions {
  fleetQuery: FleetQuery;
  plane: ControlPlane;
  /** default: app.infra */
  infra?: ApiInfra;
  /** default: app.verifyToken */
  verifyToken?: VerifyToken;
  /** default: a limiter over infra.redis (RATE_LIMIT_AUTH_FAILURES_MAX per IP); null disables */
  failures?: AuthFailureLimiter | null;
  /** default: app.metrics */
  metrics?: ApiMetrics;
  /** register no control or admin tools */
  readOnly?: boolean;
  categories?: readonly ToolCategory[] | 'all';
}

declare module 'fastify' {
  interface FastifyRequest {
    /** MCP over HTTP: the verified token, handed to the MCP handler as ctx.http.authInfo */
    mcpAuth: AuthInfo | null;
  }
}

/** Tools that change miners: their calls count against RATE_LIMIT_CONTROL_MAX like REST control routes. */
const CHANGING_TOOLS = new Set(ALL_TOOLS.filter(t => t.access !== 'read').map(t => t.name));

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

function jsonRpcError(reply: FastifyReply, status: number, message: string, code = -32000): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'application/json')
    .send({ jsonrpc: '2.0', error: { code, message }, id: null });
}

/**
 * Errors before the MCP handler runs (the body parser: bad JSON, a forbidden key, too large)
 * answer as JSON-RPC, not with the REST error body: an MCP client only understands the former.
 */
function mcpErrorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const status = isFleetError(err) ? HTTP_STATUS[err.code] : typeof err.statusCode === 'number' ? err.statusCode : 500;
  if (status >= 500) {
    req.log.error({ err, route: '/mcp' }, 'MCP request failed before its handler');
    return jsonRpcError(reply, 500, 'internal error; the server log has the details', -32603);
  }
  // A tool call refused for a key in its arguments is a tool error, as any other argument error.
  const call = refusedBody(err) as { method?: unknown; id?: unknown } | undefined;
  if (call && call.method === 'tools/call' && (typeof call.id === 'string' || typeof call.id === 'number')) {
    const text = `invalid_argument: ${err.message.replace(/^body\.params\.arguments\./, '')}`;
    return reply
      .code(200)
      .header('content-type', 'application/json')
      .send({ jsonrpc: '2.0', id: call.id, result: { resultType: 'complete', content: [{ type: 'text', text }], isError: true } });
  }
  const parseError = err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY';
  return jsonRpcError(reply, status, err.message, parseError ? -32700 : INVALID_REQUEST);
}

/** JSON-RPC "Invalid Request": the spec's code for a message the server will not take. */
const INVALID_REQUEST = -32600;

const quoted = (s: string): string => s.replace(/["\\]/g, "'");

export const mcpRoutes: FastifyPluginAsync<McpRouteOptions> = async (app, o) => {
  const infra = o.infra ?? app.infra;
  const config = infra.config;
  if (!config.MCP_ENABLED) return;
  const verifyToken = o.verifyToken ?? app.verifyToken;
  const metrics = o.metrics ?? app.metrics;
  const failures =
    o.failures === undefined
      ? createAuthFailureLimiter({ config, limits: infra.store.limits, metrics })
      : o.failures;

  const publicUrl = new URL(config.API_PUBLIC_URL);
  const resourceUrl = new URL('/mcp', publicUrl);
  const metadataUrl = getOAuthProtectedResourceMetadataUrl(resourceUrl);
  const publicHost = publicUrl.hostname.startsWith('[') ? publicUrl.hostname : publicUrl.hostname.toLowerCase();
  const anyHost = config.MCP_ALLOWED_HOSTS.includes('*');
  const allowedHosts = [...new Set([...config.MCP_ALLOWED_HOSTS, publicHost])];
  const allowedOrigins = [
    ...new Set([
      ...config.MCP_ALLOWED_ORIGINS,
      publicHost,
      ...(LOOPBACK.has(publicHost) ? ['localhost', '127.0.0.1', '[::1]'] : []),
    ]),
  ];
  const issuerIsUrl = /^https?:\/\//.test(config.AUTH_ISSUER);
  const controlCounter = infra.store.limits;
  const gate = new TenantGate(config.MCP_TENANT_CONCURRENCY, config.MCP_TENANT_QUEUE);
  app.decorateRequest('mcpAuth', null);
  const fixedCaller = config.AUTH_MODE === 'none' ? noAuthCaller(config) : null;

  // ---- RFC 9728 protected resource metadata ----
  const metadata = {
    resource: resourceUrl.href,
    ...(issuerIsUrl ? { authorization_servers: [config.AUTH_ISSUER] } : {}),
    bearer_methods_supported: ['header'],
    resource_name: 'bos-fleet MCP server',
    resource_documentation: new URL('/docs', publicUrl).href,
  };
  for (const path of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp']) {
    app.get(path, { schema: { hide: true }, config: { rateLimit: false } }, async (_req, reply) =>
      reply.header('access-control-allow-origin', '*').header('cache-control', 'max-age=3600').send(metadata),
    );
  }

  // ---- /mcp ----
  const mcpMetrics = createMcpMetrics(metrics.registry);
  const handler = createMcpHandler(
    ctx => {
      const caller = (ctx.authInfo?.extra?.caller as Caller | undefined) ?? { sub: 'anonymous', tenant: '', roles: [] };
      return buildMcpServer({ fleetQuery: o.fleetQuery, plane: o.plane, infra, profitability: app.hasDecorator('profitability') ? app.profitability : undefined }, caller, {
        readOnly: o.readOnly ?? false,
        categories: o.categories ?? 'all',
        log: infra.log,
        metrics: mcpMetrics,
      });
    },
    { onerror: err => infra.log.debug({ err: err.message }, 'MCP HTTP request refused') },
  );
  const node = toNodeHandler(handler);
  app.addHook('onClose', async () => {
    await handler.close();
  });

  const checkHostAndOrigin = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | void> => {
    if (!anyHost) {
      const host = validateHostHeader(req.headers.host, allowedHosts);
      if (!host.ok) return jsonRpcError(reply, 403, `Host not allowed (${host.message}); add it to MCP_ALLOWED_HOSTS`);
    }
    const origin = validateOriginHeader(req.headers.origin, allowedOrigins);
    if (!origin.ok) return jsonRpcError(reply, 403, `Origin not allowed (${origin.message}); add it to MCP_ALLOWED_ORIGINS`);
  };

  const challenge = async (
    req: FastifyRequest,
    reply: FastifyReply,
    err: FleetError,
    presented: boolean,
  ): Promise<FastifyReply> => {
    const reason = String(err.details?.reason ?? 'malformed') as AuthFailureReason;
    metrics.authFailures.inc({ reason });
    const limited = failures ? await failures.hit(req) : { blocked: false, retryAfterS: 0 };
    if (limited.blocked) {
      metrics.rateLimited.inc({ limit: 'auth_failures' });
      return reply
        .code(429)
        .header('retry-after', String(limited.retryAfterS))
        .send({ error: 'rate_limited', error_description: `too many failed authentications; retry in ${limited.retryAfterS} s` });
    }
    const params = [`realm="${AUTH_REALM}"`, `resource_metadata="${metadataUrl}"`];
    if (presented) params.push('error="invalid_token"', `error_description="${quoted(err.message)}"`);
    return reply
      .code(401)
      .header('www-authenticate', `Bearer ${params.join(', ')}`)
      .send({ error: presented ? 'invalid_token' : 'unauthorized', error_description: err.message });
  };

  const authenticateMcp = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | void> => {
    let caller: Caller;
    let token = '';
    if (fixedCaller) {
      caller = fixedCaller;
    } else {
      let raw: string | null;
      try {
        raw = bearerToken(req);
      } catch (err) {
        return await challenge(req, reply, err as FleetError, true);
      }
      if (raw === null)
        return await challenge(
          req,
          reply,
          new FleetError('unauthenticated', 'missing bearer token: send Authorization: Bearer <JWT>', {
            details: { reason: 'missing' },
          }),
          false,
        );
      token = raw;
      try {
        caller = await verifyToken(token);
      } catch (err) {
        if (isFleetError(err) && err.code === 'unauthenticated') return await challenge(req, reply, err, true);
        if (isFleetError(err) && err.code === 'unavailable')
          return reply.code(503).send({ error: 'temporarily_unavailable', error_description: err.message });
        throw err;
      }
    }
    req.caller = caller;
    if (!hasRole(caller, 'viewer')) {
      return reply
        .code(403)
        .header(
          'www-authenticate',
          `Bearer realm="${AUTH_REALM}", resource_metadata="${metadataUrl}", error="insufficient_scope", error_description="the token grants no bos-fleet role"`,
        )
        .send({ error: 'insufficient_scope', error_description: 'the token grants no bos-fleet role; it needs roles viewer, operator or admin' });
    }
    req.mcpAuth = { token, clientId: caller.sub, scopes: [...caller.roles], extra: { caller } };
  };

  // A batch would run many calls under one request's count (the api limit saw 1 request, the
  // control limit saw none). MCP 2025-06-18 dropped batching, so refuse it outright: every
  // message then arrives in its own POST and is counted by both limits.
  const refuseBatch = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | void> => {
    if (!Array.isArray(req.body)) return;
    return jsonRpcError(
      reply,
      400,
      'JSON-RPC batches are not supported: send one JSON-RPC message per POST (MCP 2025-06-18 and later have no batching)',
      INVALID_REQUEST,
    );
  };

  const limitControl = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | void> => {
    const body = req.body as { method?: unknown; params?: { name?: unknown } } | undefined;
    if (body?.method !== 'tools/call' || !CHANGING_TOOLS.has(String(body.params?.name))) return;
    const windowMs = config.RATE_LIMIT_WINDOW_MS;
    let hit: { count: number; ttlMs: number };
    try {
      hit = await controlCounter.hit('control', subjectOf(req), windowMs);
    } catch {
      metrics.rateLimitErrors.inc({ limit: 'control', fail_open: 'false' });
      return jsonRpcError(reply, 503, 'control requests are refused while the rate limiter (Redis) is unreachable; retry shortly');
    }
    if (hit.count > config.RATE_LIMIT_CONTROL_MAX) {
      metrics.rateLimited.inc({ limit: 'control' });
      const retry = Math.max(1, Math.ceil(hit.ttlMs / 1_000));
      reply.header('retry-after', String(retry));
      return jsonRpcError(
        reply,
        429,
        `control rate limit exceeded: at most ${config.RATE_LIMIT_CONTROL_MAX} control requests per ${Math.round(windowMs / 1_000)} s; retry in ${retry} s`,
      );
    }
  };

  app.route({
    method: ['GET', 'POST', 'DELETE'],
    url: '/mcp',
    schema: { hide: true },
    onRequest: [checkHostAndOrigin, authenticateMcp],
    preHandler: [refuseBatch, limitControl],
    errorHandler: mcpErrorHandler,
    handler: async (req, reply) => {
      let release: (() => void) | null = null;
      if (req.method === 'POST') {
        const tenant = req.caller?.tenant ?? '';
        const gone = new AbortController();
        const onClose = (): void => gone.abort();
        // The response closing before it was written means the client went away while waiting.
        reply.raw.once('close', onClose);
        release = await gate.acquire(tenant, gone.signal);
        reply.raw.off('close', onClose);
        if (!release) {
          if (gone.signal.aborted) return reply.hijack();
          metrics.rateLimited.inc({ limit: 'mcp_tenant_concurrency' });
          reply.header('retry-after', '1');
          return jsonRpcError(
            reply,
            429,
            `too many MCP requests of tenant '${tenant}' at once: ${gate.maxActive} run and ${gate.maxQueued} wait (MCP_TENANT_CONCURRENCY, MCP_TENANT_QUEUE); retry in 1 s`,
          );
        }
        reply.raw.once('close', release);
      }
      // The SDK writes the answer (JSON or an SSE stream) to the raw response itself.
      reply.hijack();
      try {
        await node(Object.assign(req.raw, { auth: req.mcpAuth ?? undefined }), reply.raw, req.body);
      } finally {
        release?.();
      }
    },
  });
};

export default mcpRoutes;
