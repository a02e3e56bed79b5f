import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CredentialPolicy } from '../../../collector/inventory/credential-policy.ts';
import { InventoryManager } from '../../../collector/inventory/inventory-manager.ts';
import type { InventoryMiner } from '../../../collector/inventory/schema.ts';
import { createRedis } from '../../../store/influx-redis/redis-connection.ts';
import { influxRedisStoreOver } from '../../../store/influx-redis/index.ts';
import { startHarness, waitFor, type Harness } from '../control/harness.ts';

// InventoryService against the collector's real InventoryManager (file = the simulated fleet,
// plus the API entries in Redis): what the API writes and announces is what the collector
// picks up. Credentials go through the real CredentialStore (AES-GCM sealed in Redis).
let h: Harness;
let manager: InventoryManager;
let managerRedis: Redis;
let sub: Redis;
const messages: unknown[] = [];

beforeAll(async () => {
  // This instance's operator shares `default` with every tenant (tenancy.int.test.ts covers the strict default).
  h = await startHarness({ sim: { miners: 3, seed: 77 }, env: { MINER_SHARED_CREDENTIALS: 'default@*' } });
  const file = join(mkdtempSync(join(tmpdir(), 'inv-')), 'inventory.yaml');
  await h.fleet.writeInventory(file);
  // The collector's own connection settings (no offline queue), as in production.
  managerRedis = createRedis(inject('redisUrl'), { name: 'test-inventory-manager' });
  manager = new InventoryManager({
    filePath: file,
    store: influxRedisStoreOver({ redis: managerRedis, keys: h.keys, influx: h.influx }),
    credentials: h.infra.credentials,
    log: h.infra.log,
    scanConcurrency: 4,
    scanTimeoutMs: 200,
    defaults: { tenant: h.tenant, site: 'default', credentials: 'default', port: 50_051 },
    policy: new CredentialPolicy('default@*'),
  });
  await manager.start();
  sub = h.redis.duplicate();
  sub.on('message', (_c, m) => messages.push(JSON.parse(m)));
  await sub.subscribe(h.keys.inventoryChannel());
}, 60_000);

afterAll(async () => {
  await manager?.close();
  managerRedis?.disconnect();
  sub?.disconnect();
  await h?.close();
});

const resolved = async (id: string): Promise<InventoryMiner | null> => {
  const raw = await h.redis.hget(h.keys.resolvedInventory(), id);
  return raw ? (JSON.parse(raw) as InventoryMiner) : null;
};

describe('inventory service', () => {
  it('adds a miner with tenant-scoped credentials; the collector picks it up', async () => {
    const inv = h.plane.inventory;
    await inv.putCredentials(h.admin, 'rack-9', { username: 'root', password: 'rack9-secret' });
    expect(await inv.listCredentials(h.admin)).toEqual(
      expect.arrayContaining([{ name: 'rack-9', username: 'root', scope: 'tenant' }]),
    );
    expect(JSON.stringify(await inv.listCredentials(h.admin))).not.toContain('rack9-secret');
    expect(await h.infra.credentials.resolve(`${h.tenant}:rack-9`)).toEqual({
      username: 'root',
      password: 'rack9-secret',
    });
    // Another tenant neither sees nor uses them.
    expect((await inv.listCredentials({ ...h.admin, tenant: 'other' })).some(c => c.name === 'rack-9')).toBe(
      false,
    );
    await expect(
      inv.addMiner({ ...h.admin, tenant: 'other' }, { address: '10.1.1.1', credentials: 'rack-9' }),
    ).rejects.toMatchObject({ code: 'invalid_argument' });

    const added = await inv.addMiner(h.admin, {
      id: 'rack9-m01',
      address: '127.250.1.1',
      site: 'dc9',
      credentials: 'rack-9',
      labels: { rack: 'r9' },
    });
    expect(added).toMatchObject({
      id: 'rack9-m01',
      tenant: h.tenant,
      site: 'dc9',
      credentials: 'rack-9',
      state: 'pending',
      source: 'api',
    });
    const m = await waitFor('collector picked it up', () => resolved('rack9-m01'), 5_000);
    expect(m).toMatchObject({
      id: 'rack9-m01',
      host: '127.250.1.1',
      port: 50_051,
      tenant: h.tenant,
      site: 'dc9',
      credentials: `${h.tenant}:rack-9`,
      source: 'api',
      labels: { rack: 'r9' },
    });
    expect(messages).toContainEqual({ type: 'inventory', op: 'upsert', id: 'rack9-m01', tenant: h.tenant });
    const list = await inv.listMiners(h.admin);
    expect(list.items.find(x => x.id === 'rack9-m01')).toMatchObject({
      state: 'active',
      credentials: 'rack-9',
    });
    expect(list.total).toBe(4);

    await expect(inv.removeCredentials(h.admin, 'rack-9')).rejects.toMatchObject({ code: 'conflict' });
    const updated = await inv.updateMiner(h.admin, 'rack9-m01', {
      address: '127.250.1.2',
      site: 'dc9',
      credentials: 'rack-9',
      labels: {},
    });
    expect(updated.address).toBe('127.250.1.2');
    await waitFor(
      'collector saw the update',
      async () => (await resolved('rack9-m01'))?.host === '127.250.1.2',
      5_000,
    );

    await inv.removeMiner(h.admin, 'rack9-m01');
    await waitFor('collector dropped it', async () => (await resolved('rack9-m01')) === null, 5_000);
    await inv.removeCredentials(h.admin, 'rack-9');
    await expect(h.infra.credentials.resolve(`${h.tenant}:rack-9`)).rejects.toMatchObject({
      code: 'not_found',
    });
  });

  it('refuses ids and addresses already in use, and file miners', async () => {
    const inv = h.plane.inventory;
    const sim = h.fleet.miners[0]!;
    await expect(inv.addMiner(h.admin, { address: sim.host, port: sim.port })).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringContaining(`as '${sim.id}'`),
    });
    await expect(
      inv.addMiner({ ...h.admin, tenant: 'other' }, { id: sim.id, address: '10.0.0.1' }),
    ).rejects.toMatchObject({
      code: 'conflict',
      message: `miner id '${sim.id}' is already in use; choose another id`,
    });
    await expect(inv.removeMiner(h.admin, sim.id)).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringContaining('inventory file'),
    });
    await expect(
      inv.updateMiner({ ...h.admin, tenant: 'other' }, sim.id, { address: '10.0.0.1' }),
    ).rejects.toMatchObject({ code: 'not_found' });
    await expect(inv.addMiner(h.operator, { address: '10.0.0.1' })).rejects.toMatchObject({
      code: 'forbidden',
    });
    await expect(inv.addMiner(h.admin, { address: '10.0.0.1', credentials: 'nope' })).rejects.toMatchObject({
      code: 'invalid_argument',
    });
    await expect(inv.addMiner(h.admin, { address: '10.0.0.1', tenant: 'x' })).rejects.toMatchObject({
      code: 'invalid_argument',
    });
  });

  it('queues and announces a discovery scan', async () => {
    const req = await h.plane.inventory.requestScan(h.admin, {
      cidr: '127.251.0.0/30',
      site: 'dc3',
      labels: { zone: 'b' },
    });
    expect(req).toMatchObject({
      type: 'scan',
      cidr: '127.251.0.0/30',
      tenant: h.tenant,
      site: 'dc3',
      requested_by: h.admin.sub,
    });
    const queued = await h.redis.lrange(h.keys.custom('scan', 'requests'), 0, -1);
    expect(queued.map(q => JSON.parse(q))).toContainEqual(req);
    await waitFor('scan announced', () => messages.some(m => (m as { id?: string }).id === req.id), 2_000);
    await expect(h.plane.inventory.requestScan(h.admin, { cidr: '10.0.0.0/8' })).rejects.toMatchObject({
      code: 'invalid_argument',
      message: expect.stringContaining('/16'),
    });
    await expect(
      h.plane.inventory.requestScan(h.admin, { cidr: '10.0.0.0/24', bogus: true }),
    ).rejects.toMatchObject({ code: 'invalid_argument' });
  });
});
