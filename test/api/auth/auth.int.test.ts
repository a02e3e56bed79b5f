import { influxRedisStoreOver } from '../../../store/influx-redis/index.ts';
import { createPublicKey } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { Redis } from 'ioredis';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { buildApp } from '../../../api/app.ts';
import { requireRole } from '../../../api/auth/authenticate.ts';
import { createApiMetrics } from '../../../api/metrics.ts';
import { controlRateLimit } from '../../../api/plugins/rate-limit.ts';
import { FleetQuery } from '../../../services/query/fleet-query.ts';
import { silentLogger } from '../../../runtime/logger.ts';
import { buildTestApp, freshIp, testConfig, testKeys, type TestApp, type TestKeys } from '../app/helpers.ts';
import { POLL_MS, seedFleet, type FarmFleetFixture } from '../../services/query/fleet-fixture.ts';
import { RedisWindowCounter } from '../../../store/influx-redis/window-counter.ts';
import { redisKeys } from '../../../store/influx-redis/redis-keys.ts';

// Authentication, role guards, tenant scoping and rate limits of the real app on real Redis.
// Every test uses its own client IP (inject remoteAddress) and token subject, so per-IP and
// per-subject limiter counts of one test never leak into another.

/** A stand-in for the control half: operator and admin routes mounted through extraRoutes. */
const controlTestRoutes: FastifyPluginAsyncZod = async app => {
  const Body = z.strictObject({ miner: z.string() });
  const Out = z.object({ ok: z.boolean(), by: z.string(), tenant: z.string() });
  app.post(
    '/test/reboot',
    {
      onRequest: requireRole('operator'),
      config: controlRateLimit,
      schema: { body: Body, response: { 200: Out } },
    },
    async req => ({
      ok: true,
      by: req.caller.sub,
      tenant: req.caller.tenant,
    }),
  );
  app.post(
    '/test/pause',
    {
      preHandler: requireRole('operator'),
      config: controlRateLimit,
      schema: { body: Body, response: { 200: Out } },
    },
    async req => ({
      ok: true,
      by: req.caller.sub,
      tenant: req.caller.tenant,
    }),
  );
  app.get('/test/credentials', { onRequest: requireRole('admin') }, async () => ({ ok: true }));
};

let fx: FarmFleetFixture;
let keys: TestKeys;
let t: TestApp;
let subs = 0;

const sub = (): string => `user-${++subs}`;
async function bearer(
  roles: string[] = ['viewer'],
  tenant = 'acme',
  s = sub(),
): Promise<Record<string, string>> {
  return { authorization: `Bearer ${await keys.token({ tenant, roles }, { sub: s })}` };
}

beforeAll(async () => {
  fx = await seedFleet({ influxUrl: inject('influxUrl'), redisUrl: inject('redisUrl'), historyMinutes: 10 });
  keys = await testKeys();
  t = await buildTestApp(fx, {
    config: testConfig({
      AUTH_PUBLIC_KEY: keys.publicPem,
      RATE_LIMIT_MAX: '10',
      RATE_LIMIT_CONTROL_MAX: '3',
      RATE_LIMIT_AUTH_FAILURES_MAX: '4',
    }),
    extraRoutes: [controlTestRoutes],
  });
});

afterAll(async () => {
  await t?.app.close();
  await fx?.cleanup();
});

describe('401 unauthenticated', () => {
  it('no token: 401 with WWW-Authenticate Bearer realm (no error code, RFC 6750 §3.1)', async () => {
    const r = await t.app.inject({ url: '/api/v1/fleet/summary', remoteAddress: freshIp() });
    expect(r.statusCode).toBe(401);
    expect(r.headers['www-authenticate']).toBe('Bearer realm="bos-fleet"');
    expect(r.json()).toEqual({
      error: {
        code: 'unauthenticated',
        message: 'missing bearer token: send Authorization: Bearer <JWT>',
        details: { reason: 'missing' },
      },
    });
  });

  const invalid: [string, () => Promise<string>, RegExp][] = [
    [
      'bad signature',
      async () => {
        const other = await testKeys();
        return `Bearer ${await other.token()}`;
      },
      /token signature is invalid/,
    ],
    [
      'wrong audience',
      async () => `Bearer ${await keys.token(undefined, { aud: 'someone-else' })}`,
      /audience does not match; expected aud 'bos-fleet'/,
    ],
    [
      'wrong issuer',
      async () => `Bearer ${await keys.token(undefined, { iss: 'https://evil.example' })}`,
      /issuer does not match/,
    ],
    [
      'expired',
      async () => `Bearer ${await keys.token(undefined, { expS: Math.floor(Date.now() / 1_000) - 120 })}`,
      /token expired/,
    ],
    [
      'HS256 (symmetric) token',
      async () =>
        `Bearer ${await new SignJWT({ tenant: 'acme', roles: ['admin'] }).setProtectedHeader({ alg: 'HS256' }).setSubject('x').setIssuer('bos-fleet').setAudience('bos-fleet').setExpirationTime('1h').sign(new TextEncoder().encode('0123456789abcdef0123456789abcdef'))}`,
      /algorithm not allowed/,
    ],
    [
      'missing tenant claim',
      async () => `Bearer ${await keys.token({ roles: ['viewer'] })}`,
      /claim 'tenant' is missing/,
    ],
    ['not a JWT', async () => 'Bearer abc.def', /must be "Bearer <JWT>"/],
    ['another scheme', async () => 'Basic YWxpY2U6c2VjcmV0', /must be "Bearer <JWT>"/],
  ];
  for (const [name, header, message] of invalid) {
    it(`${name}: 401 invalid_token`, async () => {
      const r = await t.app.inject({
        url: '/api/v1/miners',
        headers: { authorization: await header() },
        remoteAddress: freshIp(),
      });
      expect(r.statusCode).toBe(401);
      expect(r.headers['www-authenticate']).toMatch(
        /^Bearer realm="bos-fleet", error="invalid_token", error_description="/,
      );
      expect(r.json().error.code).toBe('unauthenticated');
      expect(r.json().error.message).toMatch(message);
    });
  }

  it('authentication runs before validation and before route lookup', async () => {
    const ip = freshIp();
    expect((await t.app.inject({ url: '/api/v1/miners?limit=abc', remoteAddress: ip })).statusCode).toBe(401);
    expect((await t.app.inject({ url: '/api/v1/no-such-route', remoteAddress: ip })).statusCode).toBe(401);
  });

  it('public routes need no token', async () => {
    for (const url of ['/health/live', '/health/ready', '/metrics', '/docs/json']) {
      expect((await t.app.inject({ url, remoteAddress: freshIp() })).statusCode, url).toBe(200);
    }
  });
});

describe('roles and tenants', () => {
  it('a token without any role is 403', async () => {
    const r = await t.app.inject({ url: '/api/v1/fleet/summary', headers: await bearer([]) });
    expect(r.statusCode).toBe(403);
    expect(r.json().error).toMatchObject({ code: 'forbidden', details: { required_role: 'viewer' } });
  });

  it("another tenant's miner is 404, and lists show only the caller's tenant", async () => {
    const g = await bearer(['admin'], 'globex');
    const one = await t.app.inject({ url: '/api/v1/miners/acme-dc1-01', headers: g });
    expect(one.statusCode).toBe(404);
    expect(one.json().error.code).toBe('not_found');
    expect((await t.app.inject({ url: '/api/v1/miners/acme-dc1-01/telemetry', headers: g })).statusCode).toBe(
      404,
    );
    const list = await t.app.inject({ url: '/api/v1/miners?limit=500', headers: g });
    expect(
      list
        .json()
        .items.map((i: { id: string }) => i.id)
        .every((id: string) => id.startsWith('globex-')),
    ).toBe(true);
    expect(list.json().total).toBe(10);
    expect((await t.app.inject({ url: '/api/v1/miners/globex-dc1-01', headers: g })).statusCode).toBe(200);
  });

  it('viewer on an operator route is 403; operator passes; admin routes need admin', async () => {
    const viewer = await t.app.inject({
      method: 'POST',
      url: '/api/v1/test/reboot',
      headers: await bearer(['viewer']),
      payload: { miner: 'acme-dc1-01' },
    });
    expect(viewer.statusCode).toBe(403);
    expect(viewer.json().error).toEqual({
      code: 'forbidden',
      message: 'this needs the operator role; the token grants viewer',
      details: { required_role: 'operator' },
    });
    // preHandler variant refuses too (after validation)
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: '/api/v1/test/pause',
          headers: await bearer(['viewer']),
          payload: { miner: 'x' },
        })
      ).statusCode,
    ).toBe(403);
    const s = sub();
    const op = await t.app.inject({
      method: 'POST',
      url: '/api/v1/test/reboot',
      headers: await bearer(['operator'], 'acme', s),
      payload: { miner: 'acme-dc1-01' },
    });
    expect(op.statusCode).toBe(200);
    expect(op.json()).toEqual({ ok: true, by: s, tenant: 'acme' });
    expect(
      (await t.app.inject({ url: '/api/v1/test/credentials', headers: await bearer(['operator']) }))
        .statusCode,
    ).toBe(403);
    expect(
      (await t.app.inject({ url: '/api/v1/test/credentials', headers: await bearer(['admin']) })).statusCode,
    ).toBe(200);
  });

  it('strict control bodies: unknown keys are a 400 naming them', async () => {
    const r = await t.app.inject({
      method: 'POST',
      url: '/api/v1/test/reboot',
      headers: await bearer(['operator']),
      payload: { miner: 'a', force: true },
    });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.message).toMatch(/body\.force: unknown parameter 'force'/);
  });
});

describe('rate limits', () => {
  it('per subject: the 11th request in the window is 429 with Retry-After; other subjects are unaffected', async () => {
    const h = await bearer();
    const ip = freshIp();
    for (let i = 0; i < 10; i++) {
      const r = await t.app.inject({ url: '/api/v1/fleet/summary', headers: h, remoteAddress: ip });
      expect(r.statusCode, `request ${i + 1}`).toBe(200);
      expect(r.headers['x-ratelimit-limit']).toBe('10');
    }
    const limited = await t.app.inject({ url: '/api/v1/fleet/summary', headers: h, remoteAddress: ip });
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.json().error).toMatchObject({
      code: 'rate_limited',
      details: { limit: 10, window_s: 60 },
    });
    expect(limited.json().error.message).toMatch(/at most 10 requests per 1m; retry in \d+ s/);
    // same IP, another subject: its own budget
    expect(
      (await t.app.inject({ url: '/api/v1/fleet/summary', headers: await bearer(), remoteAddress: ip }))
        .statusCode,
    ).toBe(200);
    // health checks are never limited
    for (let i = 0; i < 12; i++)
      expect((await t.app.inject({ url: '/health/live', remoteAddress: ip })).statusCode).toBe(200);
  });

  it('concurrent requests of one subject are counted exactly: 10 answered 200, the rest 429', async () => {
    const h = await bearer();
    const rs = await Promise.all(
      Array.from({ length: 16 }, () => t.app.inject({ url: '/api/v1/fleet/summary', headers: h })),
    );
    expect(rs.filter(r => r.statusCode === 200)).toHaveLength(10);
    expect(rs.filter(r => r.statusCode === 429)).toHaveLength(6);
    const remaining = rs.map(r => Number(r.headers['x-ratelimit-remaining'] ?? 0)).sort((a, b) => a - b);
    expect(remaining).toEqual([...Array<number>(7).fill(0), 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('control routes share a stricter per-subject budget', async () => {
    const h = await bearer(['operator']);
    const urls = ['/api/v1/test/reboot', '/api/v1/test/pause', '/api/v1/test/reboot'];
    for (const url of urls)
      expect(
        (await t.app.inject({ method: 'POST', url, headers: h, payload: { miner: 'acme-dc1-01' } }))
          .statusCode,
        url,
      ).toBe(200);
    const r = await t.app.inject({
      method: 'POST',
      url: '/api/v1/test/pause',
      headers: h,
      payload: { miner: 'acme-dc1-01' },
    });
    expect(r.statusCode).toBe(429);
    expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
    expect(r.json().error.message).toMatch(/control rate limit exceeded: at most 3 control requests per 1m/);
    // reads of the same subject are still within their own budget
    expect((await t.app.inject({ url: '/api/v1/fleet/summary', headers: h })).statusCode).toBe(200);
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: '/api/v1/test/reboot',
          headers: await bearer(['operator']),
          payload: { miner: 'x' },
        })
      ).statusCode,
    ).toBe(200);
  });

  it('repeated auth failures from one IP turn into 429; a valid token from that IP still works', async () => {
    const ip = freshIp();
    const bad = { authorization: `Bearer ${await keys.token(undefined, { aud: 'nope' })}` };
    for (let i = 0; i < 4; i++)
      expect(
        (await t.app.inject({ url: '/api/v1/miners', headers: bad, remoteAddress: ip })).statusCode,
      ).toBe(401);
    const r = await t.app.inject({ url: '/api/v1/miners', headers: bad, remoteAddress: ip });
    expect(r.statusCode).toBe(429);
    expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
    expect(r.headers['www-authenticate']).toBeUndefined();
    expect(r.json().error.code).toBe('rate_limited');
    expect((await t.app.inject({ url: '/api/v1/miners', remoteAddress: ip })).statusCode).toBe(429);
    expect(
      (await t.app.inject({ url: '/api/v1/miners', headers: await bearer(), remoteAddress: ip })).statusCode,
    ).toBe(200);
    expect(
      (await t.app.inject({ url: '/api/v1/miners', headers: bad, remoteAddress: freshIp() })).statusCode,
    ).toBe(401);
    const metrics = (await t.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/bosfleet_api_rate_limited_total\{limit="auth_failures"\} [1-9]/);
    expect(metrics).toMatch(/bosfleet_api_auth_failures_total\{reason="claims"\} [1-9]/);
  });

  it('behind a trusted proxy, auth failures count per forwarded client, not per proxy', async () => {
    const behind = await buildTestApp(fx, {
      config: testConfig({
        AUTH_PUBLIC_KEY: keys.publicPem,
        RATE_LIMIT_AUTH_FAILURES_MAX: '4',
        API_TRUST_PROXY: '10.98.0.0/16',
      }),
    });
    try {
      const proxy = '10.98.0.1';
      const bad = { authorization: `Bearer ${await keys.token(undefined, { aud: 'nope' })}` };
      const from = async (client: string) =>
        (
          await behind.app.inject({
            url: '/api/v1/miners',
            headers: { ...bad, 'x-forwarded-for': client },
            remoteAddress: proxy,
          })
        ).statusCode;
      const a = freshIp();
      for (let i = 0; i < 4; i++) expect(await from(a)).toBe(401);
      expect(await from(a)).toBe(429);
      // another client through the same proxy is not limited with the first
      expect(await from(freshIp())).toBe(401);
      // an untrusted sender's X-Forwarded-For is ignored: it is limited by its own address
      const direct = freshIp();
      for (let i = 0; i < 4; i++)
        await behind.app.inject({
          url: '/api/v1/miners',
          headers: { ...bad, 'x-forwarded-for': freshIp() },
          remoteAddress: direct,
        });
      expect(
        (
          await behind.app.inject({
            url: '/api/v1/miners',
            headers: { ...bad, 'x-forwarded-for': freshIp() },
            remoteAddress: direct,
          })
        ).statusCode,
      ).toBe(429);
    } finally {
      await behind.app.close();
    }
  });

  it('with the limiter store down, reads fail open and control fails closed', async () => {
    const dead = new Redis('redis://127.0.0.1:9', {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      lazyConnect: true,
      retryStrategy: () => null,
    });
    dead.on('error', () => undefined);
    const metrics = createApiMetrics();
    const fleetQuery = new FleetQuery({ store: influxRedisStoreOver({ redis: fx.redis, keys: fx.keys, influx: fx.influx }) },
      { pollIntervalMs: POLL_MS, now: () => fx.nowMs },
    );
    const app = await buildApp({
      infra: { ...t.infra, config: testConfig({ AUTH_PUBLIC_KEY: keys.publicPem }), log: silentLogger() },
      fleetQuery,
      metrics,
      extraRoutes: [controlTestRoutes],
      limits: new RedisWindowCounter(dead, redisKeys('test:dead-limiter')),
    });
    try {
      const h = await bearer(['operator']);
      expect((await app.inject({ url: '/api/v1/fleet/summary', headers: h })).statusCode).toBe(200);
      const c = await app.inject({
        method: 'POST',
        url: '/api/v1/test/reboot',
        headers: h,
        payload: { miner: 'x' },
      });
      expect(c.statusCode).toBe(503);
      expect(c.json().error.message).toMatch(/control requests are refused while the rate limiter/);
      expect(await metrics.registry.getSingleMetricAsString('bosfleet_api_rate_limit_errors_total')).toMatch(
        /limit="api",fail_open="true"\} [1-9]/,
      );
    } finally {
      await app.close();
      dead.disconnect();
    }
  });
});

describe('other verification modes', () => {
  let jwks: Server;
  let jwksUrl: string;

  beforeAll(async () => {
    // The JWKS publishes the test ES256 key (kid "es") next to an unrelated RS256 key (kid "k1").
    const { publicKey } = await generateKeyPair('RS256');
    const rsa = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    const es = {
      ...(createPublicKey(keys.publicPem).export({ format: 'jwk' }) as Record<string, unknown>),
      kid: 'es',
      alg: 'ES256',
      use: 'sig',
    };
    jwks = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [rsa, es] }));
    });
    await new Promise<void>(r => jwks.listen(0, '127.0.0.1', () => r()));
    jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
  });

  afterAll(async () => {
    await new Promise(r => jwks?.close(r));
  });

  it('verifies against a JWKS URL by kid; an unknown kid is 401', async () => {
    const app = await buildTestApp(fx, { config: testConfig({ AUTH_JWKS_URL: jwksUrl }) });
    try {
      const ok = await app.app.inject({
        url: '/api/v1/fleet/summary',
        headers: { authorization: `Bearer ${await keys.token(undefined, { kid: 'es' })}` },
      });
      expect(ok.statusCode).toBe(200);
      const unknown = await app.app.inject({
        url: '/api/v1/fleet/summary',
        headers: { authorization: `Bearer ${await keys.token(undefined, { kid: 'nope' })}` },
        remoteAddress: freshIp(),
      });
      expect(unknown.statusCode).toBe(401);
      expect(unknown.json().error).toMatchObject({ code: 'unauthenticated', details: { reason: 'key' } });
    } finally {
      await app.app.close();
    }
  });

  it('AUTH_MODE=none acts as the configured tenant and role without a token', async () => {
    const app = await buildTestApp(fx, {
      config: testConfig({ AUTH_MODE: 'none', AUTH_NONE_TENANT: 'globex', AUTH_NONE_ROLE: 'viewer' }),
      extraRoutes: [controlTestRoutes],
    });
    try {
      const r = await app.app.inject({ url: '/api/v1/fleet/summary' });
      expect(r.statusCode).toBe(200);
      expect(r.json().tenant).toBe('globex');
      expect(
        (await app.app.inject({ method: 'POST', url: '/api/v1/test/reboot', payload: { miner: 'x' } }))
          .statusCode,
      ).toBe(403);
    } finally {
      await app.app.close();
    }
  });
});
