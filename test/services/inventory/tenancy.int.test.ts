import { mkdtempSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApp } from '../../../api/app.ts';
import type { Caller } from '../../../services/context.ts';
import { controlRoutePlugins } from '../../../services/control/index.ts';
import { InventoryService } from '../../../services/inventory/inventory-service.ts';
import { FleetQuery } from '../../../services/query/fleet-query.ts';
import { FleetError } from '../../../core/errors.ts';
import { DeviceIdentity } from '../../../collector/inventory/device-identity.ts';
import { InventoryManager } from '../../../collector/inventory/inventory-manager.ts';
import { createRedis } from '../../../store/influx-redis/redis-connection.ts';
import { influxRedisStoreOver } from '../../../store/influx-redis/index.ts';
import { startHarness, waitFor, type Harness } from '../control/harness.ts';

// Issue 15, security 1: a tenant admin must not be able to register another tenant's miner under
// another spelling of its address (or a host name that resolves to it), nor use credentials that
// an operator did not give its tenant. The real app (auth hook, error mapping) over the real
// InventoryService and the collector's InventoryManager, on the simulated fleet (tenant 1).
let h: Harness;
let app: FastifyInstance;
let manager: InventoryManager;
let managerRedis: Redis;
const T2 = 'tenant-two';

const TOKENS: Record<string, (tenant1: string) => Caller> = {
  'admin1.t.x': tenant => ({ sub: 'a1@example.com', tenant, roles: ['admin'] }),
  'admin2.t.x': () => ({ sub: 'a2@example.com', tenant: T2, roles: ['admin'] }),
};
const auth = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  h = await startHarness({ sim: { miners: 2, seed: 15 } });
  const file = join(mkdtempSync(join(tmpdir(), 'inv-')), 'inventory.yaml');
  await h.fleet.writeInventory(file);
  managerRedis = createRedis(inject('redisUrl'), { name: 'test-inventory-manager' });
  manager = new InventoryManager({
    filePath: file,
    store: influxRedisStoreOver({ redis: managerRedis, keys: h.keys, influx: h.influx }),
    credentials: h.infra.credentials,
    log: h.infra.log,
    scanConcurrency: 4,
    scanTimeoutMs: 200,
    defaults: { tenant: 'default', site: 'default', credentials: 'default', port: 50_051 },
  });
  await manager.start();
  await waitFor('file miners published', async () => (await h.redis.hlen(h.keys.resolvedInventory())) === 2, 5_000);
  const fleetQuery = new FleetQuery({ store: influxRedisStoreOver({ redis: h.redis, keys: h.keys, influx: h.influx }), log: h.infra.log });
  app = await buildApp({
    infra: { ...h.infra, config: { ...h.infra.config, AUTH_MODE: 'jwt' } },
    fleetQuery,
    extraRoutes: controlRoutePlugins(h.plane, { sse: { pollMs: 50, heartbeatMs: 1_000 } }),
    verifyToken: async token => {
      const make = TOKENS[token];
      if (!make) throw new FleetError('unauthenticated', 'unknown test token', { details: { reason: 'signature' } });
      return make(h.tenant);
    },
  });
  await app.ready();
  // Tenant 2 has credentials of its own that the simulator accepts (root/root, the factory default).
  const put = await app.inject({
    method: 'PUT',
    url: '/api/v1/inventory/credentials/own',
    headers: auth('admin2.t.x'),
    payload: { username: 'root', password: 'root' },
  });
  expect(put.statusCode).toBe(200);
}, 60_000);

afterAll(async () => {
  await app?.close();
  await manager?.close();
  managerRedis?.disconnect();
  await h?.close();
});

/** The spellings of one IPv4 address that the system resolver reads as that address. */
function spellings(ip: string): string[] {
  const [a, b, c, d] = ip.split('.').map(Number) as [number, number, number, number];
  const n = ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
  const hex = (x: number): string => x.toString(16).padStart(2, '0');
  return [
    ip,
    `${a}.${b}.${c * 256 + d}`,
    String(n),
    `0x${n.toString(16).padStart(8, '0')}`,
    `0${a.toString(8)}.0${b.toString(8)}.0${c.toString(8)}.0${d.toString(8)}`,
    `${ip}.`,
    `::ffff:${ip}`,
    `[::ffff:${hex(a)}${hex(b)}:${hex(c)}${hex(d)}]`,
  ];
}

describe('tenancy of inventory entries', () => {
  it("refuses another tenant's miner under every spelling of its address, without naming the tenant", async () => {
    const victim = h.fleet.miners[0]!;
    const outcomes: string[] = [];
    for (const address of spellings(victim.host)) {
      const r = await app.inject({
        method: 'POST',
        url: '/api/v1/inventory/miners',
        headers: auth('admin2.t.x'),
        payload: { id: `steal-${outcomes.length}`, address, port: victim.port, credentials: 'own' },
      });
      outcomes.push(`${address} -> ${r.statusCode}`);
      if (r.statusCode === 409) {
        expect(r.json().error.message).not.toContain(h.tenant);
        expect(r.json().error.message).not.toContain(victim.id);
      }
    }
    expect(outcomes).toEqual(spellings(victim.host).map(a => `${a} -> 409`));
    const mine = await app.inject({ method: 'GET', url: '/api/v1/inventory/miners', headers: auth('admin2.t.x') });
    expect(mine.json().total).toBe(0);
  });

  it('gives the same 409 whichever tenant holds the address', async () => {
    const victim = h.fleet.miners[1]!;
    const other = await app.inject({
      method: 'POST',
      url: '/api/v1/inventory/miners',
      headers: auth('admin2.t.x'),
      payload: { id: 'dup-a', address: victim.host, port: victim.port, credentials: 'own' },
    });
    // The same tenant gets told which of its own entries it is; another tenant gets the generic answer,
    // which is the answer for an address held by a tenant it cannot see.
    expect(other.statusCode).toBe(409);
    expect(other.json().error.message).toBe(`address ${victim.host}:${victim.port} is already in the inventory`);
  });

  it('resolves host names at registration: a name for an address another tenant holds is refused', async () => {
    const a = await app.inject({
      method: 'POST',
      url: '/api/v1/inventory/miners',
      headers: auth('admin1.t.x'),
      payload: { id: 'loop-miner', address: '127.0.0.1', port: 50_999, credentials: 'own-1' },
    });
    // tenant 1 needs credentials of its own first
    expect(a.statusCode).toBe(400);
    const put = await app.inject({
      method: 'PUT',
      url: '/api/v1/inventory/credentials/own-1',
      headers: auth('admin1.t.x'),
      payload: { username: 'root', password: 'root' },
    });
    expect(put.statusCode).toBe(200);
    const ok = await app.inject({
      method: 'POST',
      url: '/api/v1/inventory/miners',
      headers: auth('admin1.t.x'),
      payload: { id: 'loop-miner', address: '127.0.0.1', port: 50_999, credentials: 'own-1' },
    });
    expect(ok.statusCode).toBe(201);
    for (const address of ['localhost', 'LOCALHOST.', 'localhost.']) {
      const r = await app.inject({
        method: 'POST',
        url: '/api/v1/inventory/miners',
        headers: auth('admin2.t.x'),
        payload: { id: 'by-name', address, port: 50_999, credentials: 'own' },
      });
      expect({ address, status: r.statusCode }).toEqual({ address, status: 409 });
      expect(r.json().error.message).not.toContain(h.tenant);
    }
    const gone = await app.inject({
      method: 'POST',
      url: '/api/v1/inventory/miners',
      headers: auth('admin2.t.x'),
      payload: { id: 'nowhere', address: 'no-such-host.invalid', credentials: 'own' },
    });
    expect(gone.statusCode).toBe(400);
    expect(gone.json().error.message).toContain('does not resolve');
  });

  it('the collector resolves names too: an entry whose name points at another tenant\'s endpoint is held back', async () => {
    // As if the name had pointed elsewhere at registration and was re-pointed later: written as stored.
    await h.redis.hset(
      h.keys.inventory(),
      'repointed',
      JSON.stringify({ id: 'repointed', address: 'localhost', port: 50_999, tenant: T2, site: 'default', credentials: `${T2}:own`, labels: {}, created_ms: Date.now() }),
    );
    await h.redis.publish(h.keys.inventoryChannel(), JSON.stringify({ type: 'inventory', op: 'upsert', id: 'repointed', tenant: T2 }));
    const view = await waitFor(
      'entry held back',
      async () => {
        const r = await app.inject({ method: 'GET', url: '/api/v1/inventory/miners/repointed', headers: auth('admin2.t.x') });
        return r.statusCode === 200 && r.json().state === 'quarantined' ? r.json() : null;
      },
      5_000,
    );
    expect(view.reason).toContain('already in the inventory');
    expect(view.reason).not.toContain(h.tenant);
    expect(await h.redis.hget(h.keys.resolvedInventory(), 'repointed')).toBeNull();
    // tenant 1's entry is untouched
    expect(await h.redis.hget(h.keys.resolvedInventory(), 'loop-miner')).not.toBeNull();
    await h.redis.hdel(h.keys.inventory(), 'repointed');
  });

  it("stores the canonical address, so the collector connects to what was checked", async () => {
    const r = await app.inject({
      method: 'POST',
      url: '/api/v1/inventory/miners',
      headers: auth('admin2.t.x'),
      payload: { id: 'canon', address: '0x7f5a0102', port: 50_998, credentials: 'own' },
    });
    expect(r.statusCode).toBe(201);
    expect(r.json().address).toBe('127.90.1.2');
    const bad = await app.inject({
      method: 'POST',
      url: '/api/v1/inventory/miners',
      headers: auth('admin2.t.x'),
      payload: { id: 'zero', address: '0', credentials: 'own' },
    });
    expect(bad.statusCode).toBe(400);
  });
});

describe('device identity at registration', () => {
  let forward: Server | undefined;
  const sockets = new Set<Socket>();
  afterAll(async () => {
    for (const sk of sockets) sk.destroy();
    await new Promise(r => (forward ? forward.close(r) : r(undefined)));
  });

  it("refuses a device another tenant holds, reached through another address, with the same 409", async () => {
    const victim = h.fleet.miners[1]!;
    // What the collector records when it polls tenant 1's miner (the uid it reports).
    const snap = (await h.redis.hget(h.keys.resolvedInventory(), victim.id))!;
    const identity = new DeviceIdentity({ store: h.infra.store.inventory, inventory: manager, log: h.infra.log });
    const details = await h.infra.minerPool
      .get({ id: victim.id, host: victim.host, port: victim.port, credentials: 'default' })
      .unary('MinerService', 'GetMinerDetails', {});
    expect(await identity.admit(JSON.parse(snap), { uid: details.uid, mac: null, serial: null })).toBe(true);
    // A port forward on another loopback address: the same device behind a different endpoint.
    const [a, b, c] = victim.host.split('.');
    const other = `${a}.${b}.${(Number(c) + 1) % 250}.201`;
    forward = createServer(inbound => {
      const out = createConnection({ host: victim.host, port: victim.port });
      for (const sk of [inbound, out]) {
        sockets.add(sk);
        sk.on('error', () => undefined);
        sk.on('close', () => sockets.delete(sk));
      }
      inbound.pipe(out).pipe(inbound);
    });
    await new Promise<void>((resolve, reject) => {
      forward!.once('error', reject);
      forward!.listen(victim.port, other, resolve);
    });
    const r = await app.inject({
      method: 'POST',
      url: '/api/v1/inventory/miners',
      headers: auth('admin2.t.x'),
      payload: { id: 'forwarded', address: other, port: victim.port, credentials: 'own' },
    });
    expect(r.statusCode).toBe(409);
    expect(r.json().error.message).toBe(`address ${other}:${victim.port} is already in the inventory`);
  });
});

describe('which entry keeps a device', () => {
  it("the operator's file precedes a tenant's API entry that claimed the device first", async () => {
    const identity = new DeviceIdentity({ store: h.infra.store.inventory, inventory: manager, log: h.infra.log });
    const device = { uid: `precedence-${Date.now()}`, mac: null, serial: null };
    const early = { id: 'early', address: '127.93.0.1', port: 50_051, tenant: T2, site: 'default', credentials: `${T2}:own`, labels: {}, created_ms: Date.now() };
    await h.redis.hset(h.keys.inventory(), 'early', JSON.stringify(early));
    await h.redis.publish(h.keys.inventoryChannel(), JSON.stringify({ type: 'inventory', op: 'upsert', id: 'early', tenant: T2 }));
    await waitFor('early entry active', async () => (await h.redis.hget(h.keys.resolvedInventory(), 'early')) !== null, 5_000);
    expect(await identity.admit(manager.entry('early')!, device)).toBe(true);
    // The file's miner turns out to be that device: it keeps it, and the API entry is held back.
    const fileMiner = manager.entry(h.fleet.miners[0]!.id)!;
    expect(fileMiner.source).toBe('file');
    expect(await identity.admit(fileMiner, device)).toBe(true);
    const view = await waitFor(
      'early entry held back',
      async () => {
        const r = await app.inject({ method: 'GET', url: '/api/v1/inventory/miners/early', headers: auth('admin2.t.x') });
        return r.statusCode === 200 && r.json().state === 'quarantined' ? r.json() : null;
      },
      5_000,
    );
    expect(view.reason).toContain('already in the inventory');
    expect(await h.redis.hget(h.keys.resolvedInventory(), 'early')).toBeNull();
    // Changing the entry through the API lifts the hold; it is checked afresh.
    const put = await app.inject({
      method: 'PUT',
      url: '/api/v1/inventory/miners/early',
      headers: auth('admin2.t.x'),
      payload: { address: '127.93.0.2', credentials: 'own' },
    });
    expect(put.statusCode).toBe(200);
    await waitFor('hold lifted', async () => (await h.redis.hget(h.keys.resolvedInventory(), 'early')) !== null, 5_000);
    // ...and reporting the same device again holds it back again.
    expect(await identity.admit(manager.entry('early')!, device)).toBe(false);
    await app.inject({ method: 'DELETE', url: '/api/v1/inventory/miners/early', headers: auth('admin2.t.x') });
  });
});

describe('credentials are scoped to a tenant', () => {
  it('a tenant cannot use the instance-wide default credentials unless the operator shared them', async () => {
    for (const payload of [
      { id: 'def-1', address: '127.91.0.1', credentials: 'default' },
      { id: 'def-2', address: '127.91.0.2' },
    ]) {
      const r = await app.inject({ method: 'POST', url: '/api/v1/inventory/miners', headers: auth('admin2.t.x'), payload });
      expect({ id: payload.id, status: r.statusCode }).toEqual({ id: payload.id, status: 400 });
      expect(r.json().error.message).toContain('MINER_SHARED_CREDENTIALS');
    }
    const scan = await app.inject({
      method: 'POST',
      url: '/api/v1/inventory/scans',
      headers: auth('admin2.t.x'),
      payload: { cidr: '127.91.0.0/30' },
    });
    expect(scan.statusCode).toBe(400);
    const listed = await app.inject({ method: 'GET', url: '/api/v1/inventory/credentials', headers: auth('admin2.t.x') });
    expect(listed.json().items.map((c: { name: string }) => c.name)).toEqual(['own']);
  });

  it('an operator shares an instance-wide credential with named tenants, explicitly', async () => {
    const shared = new InventoryService(
      { ...h.infra, config: { ...h.infra.config, MINER_SHARED_CREDENTIALS: `default@${T2}` } },
      { audit: h.events },
    );
    const caller: Caller = { sub: 'a2@example.com', tenant: T2, roles: ['admin'] };
    const added = await shared.addMiner(caller, { id: 'def-ok', address: '127.91.0.3' });
    expect(added).toMatchObject({ credentials: 'default' });
    await expect(
      shared.addMiner({ ...caller, tenant: 'tenant-three' }, { id: 'def-no', address: '127.91.0.4' }),
    ).rejects.toMatchObject({ code: 'invalid_argument' });
    await shared.removeMiner(caller, 'def-ok');
  });

  it('the collector does not poll an API entry whose credentials its tenant may not use, and says why', async () => {
    // An entry written before this rule (or by hand): tenant 2 pointing at a tenant-1 miner with `default`.
    const victim = h.fleet.miners[0]!;
    await h.redis.hset(
      h.keys.inventory(),
      'legacy',
      JSON.stringify({ id: 'legacy', address: '127.92.0.9', port: victim.port, tenant: T2, site: 'default', credentials: 'default', labels: {} }),
    );
    await h.redis.publish(h.keys.inventoryChannel(), JSON.stringify({ type: 'inventory', op: 'upsert', id: 'legacy', tenant: T2 }));
    const view = await waitFor(
      'entry quarantined',
      async () => {
        const r = await app.inject({ method: 'GET', url: '/api/v1/inventory/miners/legacy', headers: auth('admin2.t.x') });
        return r.statusCode === 200 && r.json().state === 'quarantined' ? r.json() : null;
      },
      5_000,
    );
    expect(view.reason).toContain('credentials');
    expect(await h.redis.hget(h.keys.resolvedInventory(), 'legacy')).toBeNull();
    await h.redis.hdel(h.keys.inventory(), 'legacy');
  });
});
