import { influxRedisStoreOver } from '../../../store/influx-redis/index.ts';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../api/app.ts';
import { controlRoutePlugins } from '../../../services/control/index.ts';
import { FleetQuery } from '../../../services/query/fleet-query.ts';
import { startHarness, type Harness } from './harness.ts';

// Issue #14 item 8 on REST: a pool URL scheme bosminer does not take is a 400 naming the
// accepted schemes, and nothing reaches the miner.
let h: Harness;
let app: FastifyInstance;

beforeAll(async () => {
  h = await startHarness({ sim: { miners: 1, sites: 1, seed: 1408 } });
  const fleetQuery = new FleetQuery({ store: influxRedisStoreOver({ redis: h.redis, keys: h.keys, influx: h.influx }), log: h.infra.log });
  // Tokens are checked by a stand-in verifier (as in routes.int.test.ts): one operator token.
  app = await buildApp({
    infra: { ...h.infra, config: { ...h.infra.config, AUTH_MODE: 'jwt' } },
    fleetQuery,
    extraRoutes: controlRoutePlugins(h.plane),
    verifyToken: async () => ({ sub: 'op@example.com', tenant: h.tenant, roles: ['operator'] }),
  });
  await app.ready();
}, 60_000);

afterAll(async () => {
  await app?.close();
  await h?.close();
});

describe('PUT /api/v1/control/pools', () => {
  it('rejects stratum+tls:// with a 400 naming the accepted schemes', async () => {
    const id = h.fleet.miners[0]!.id;
    const before = h.fleet.truth(id).pools.map(p => p.url);
    const r = await app.inject({
      method: 'PUT',
      url: '/api/v1/control/pools',
      headers: { authorization: 'Bearer operator.t.x' },
      payload: { id, op: 'replace', groups: [{ name: 'g', pools: [{ url: 'stratum+tls://pool.example.com:3333', user: 'u' }] }] },
    });
    expect(r.statusCode, r.body).toBe(400);
    expect(r.json().error.code).toBe('invalid_argument');
    expect(r.json().error.message).toMatch(/stratum\+tcp.*stratum\+ssl.*stratum2\+tcp/);
    expect(h.fleet.truth(id).pools.map(p => p.url)).toEqual(before);
  });
});
