import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CredentialStore } from '../../collector/credentials.ts';
import { DeviceIdentity, type IdentityInventory } from '../../collector/inventory/device-identity.ts';
import type { QuarantineEntry } from '../../collector/inventory/quarantine.ts';
import type { InventoryMiner } from '../../collector/inventory/schema.ts';
import { SecretBox } from '../../collector/secret-box.ts';
import { FleetError } from '../../core/errors.ts';
import { silentLogger } from '../../runtime/logger.ts';
import type { ApiInfra, Caller } from '../../services/context.ts';
import { InventoryService } from '../../services/inventory/inventory-service.ts';
import type { ApiInventoryEntry } from '../../store/ports/inventory.ts';
import { waitForRedis } from '../../store/influx-redis/redis-connection.ts';
import { BACKENDS, openTestStore, type TestStore } from './backends.ts';

const entry = (id: string, tenant: string, address: string, extra: Partial<ApiInventoryEntry> = {}): ApiInventoryEntry => ({
  id,
  tenant,
  address,
  site: 'default',
  credentials: `${tenant}:own`,
  labels: {},
  created_ms: 1_000,
  ...extra,
});

const resolved = (id: string, tenant: string): InventoryMiner => ({
  id,
  host: '10.0.0.1',
  port: 50_051,
  tenant,
  site: 'default',
  credentials: 'default',
  labels: { rack: 'r1' },
  source: 'api',
});

/** Every byte the backend keeps: the SQLite files, or every Redis value under the store's prefix. */
async function rawData(store: TestStore): Promise<string> {
  if (store.backend === 'embedded') {
    const dir = path.dirname(store.location);
    return fs
      .readdirSync(dir)
      .map(f => fs.readFileSync(path.join(dir, f)).toString('latin1'))
      .join('\n');
  }
  const out: string[] = [];
  for (const key of await store.redis.keys(`${store.keys.prefix}:*`)) {
    const type = await store.redis.type(key);
    if (type === 'hash') out.push(JSON.stringify(await store.redis.hgetall(key)));
    else if (type === 'list') out.push(JSON.stringify(await store.redis.lrange(key, 0, -1)));
    else if (type === 'string') out.push((await store.redis.get(key)) ?? '');
  }
  return out.join('\n');
}

describe.each(BACKENDS)('inventory port on %s', backend => {
  let store: TestStore;

  beforeEach(async () => {
    store = await openTestStore(backend);
    // The farm connection has no offline queue: wait until it is connected.
    if (store.backend === 'influx-redis') expect(await waitForRedis(store.redis, 5_000)).toBe(true);
  });

  afterEach(async () => {
    await store.destroy();
  });

  it('registers, lists and deletes entries per tenant', async () => {
    const inv = store.inventory;
    expect(await inv.putEntry(entry('a1', 'acme', '10.0.0.1'), 'create')).toEqual({ ok: true });
    expect(await inv.putEntry(entry('b1', 'bolt', '10.0.0.2', { port: 4_000 }), 'create')).toEqual({ ok: true });
    const all = await inv.listEntries();
    expect([...all.keys()].sort()).toEqual(['a1', 'b1']);
    expect(all.get('b1')).toMatchObject({ tenant: 'bolt', address: '10.0.0.2', port: 4_000 });
    expect(await inv.hasEntry('a1')).toBe(true);

    // Another tenant can neither remove nor replace it.
    expect(await inv.removeEntry('a1', 'bolt')).toBeNull();
    expect(await inv.putEntry(entry('a1', 'bolt', '10.0.0.9'), 'replace')).toEqual({ ok: false, reason: 'not_found' });
    expect((await inv.getEntry('a1'))?.address).toBe('10.0.0.1');

    await inv.setDeviceHold('a1', 'held-definition');
    expect(await inv.putEntry(entry('a1', 'acme', '10.0.0.3'), 'replace')).toEqual({ ok: true });
    expect((await inv.getEntry('a1'))?.address).toBe('10.0.0.3');
    expect((await inv.readDeviceHolds()).has('a1')).toBe(false); // a changed entry is checked afresh

    expect(await inv.removeEntry('a1', 'acme')).toMatchObject({ id: 'a1', tenant: 'acme' });
    expect(await inv.getEntry('a1')).toBeNull();
    expect([...(await inv.listEntries()).keys()]).toEqual(['b1']);
  });

  it('refuses a taken id or endpoint in the same step as the write, and says who holds it', async () => {
    const inv = store.inventory;
    expect(await inv.putEntry(entry('a1', 'acme', '10.0.0.1'), 'create')).toEqual({ ok: true });
    expect(await inv.putEntry(entry('a1', 'bolt', '10.0.0.7'), 'create')).toEqual({ ok: false, reason: 'id_taken', holder: { id: 'a1', tenant: 'acme' } });
    // 50051 written out or left to the default is the same endpoint.
    expect(await inv.putEntry(entry('b1', 'bolt', '10.0.0.1', { port: 50_051 }), 'create')).toEqual({ ok: false, reason: 'endpoint_taken', holder: { id: 'a1', tenant: 'acme' } });
    expect(await inv.putEntry(entry('b1', 'bolt', '10.0.0.1', { port: 4_000 }), 'create')).toEqual({ ok: true });

    // Two registrations of one endpoint at once (two API replicas): exactly one gets it.
    const race = await Promise.all(['x1', 'x2', 'x3', 'x4'].map((id, i) => inv.putEntry(entry(id, i % 2 ? 'acme' : 'bolt', '10.9.9.9'), 'create')));
    expect(race.filter(r => r.ok)).toHaveLength(1);
    expect([...(await inv.listEntries()).values()].filter(e => e?.address === '10.9.9.9')).toHaveLength(1);
  });

  it("answers a cross-tenant address conflict without naming the other tenant or its miner", async () => {
    const box = new SecretBox(randomBytes(32).toString('base64'));
    const credentials = new CredentialStore({ inventory: store.inventory, box });
    const log = silentLogger();
    const infra = {
      config: { MINER_SHARED_CREDENTIALS: '', MINER_RPC_TIMEOUT_MS: 300 },
      log,
      store,
      credentials,
      minerPool: { evict: () => undefined },
    } as unknown as ApiInfra;
    const service = new InventoryService(infra, { audit: { record: async () => undefined } }, { probeTimeoutMs: 300 });
    const acme: Caller = { sub: 'a@acme', tenant: 'acme', roles: ['admin'] };
    const bolt: Caller = { sub: 'b@bolt', tenant: 'bolt', roles: ['admin'] };
    await service.putCredentials(acme, 'own', { username: 'root', password: 'acme-pw' });
    await service.putCredentials(bolt, 'own', { username: 'root', password: 'bolt-pw' });
    // Port 1: nothing answers there, so the identity probe gives up at once.
    await service.addMiner(acme, { id: 'acme-secret-miner', address: '127.0.0.1', port: 1, credentials: 'own' });
    const err = await service.addMiner(bolt, { id: 'mine', address: '127.0.0.1', port: 1, credentials: 'own' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FleetError);
    expect((err as FleetError).code).toBe('conflict');
    expect((err as FleetError).message).toBe('address 127.0.0.1:1 is already in the inventory');
    expect((err as FleetError).message).not.toMatch(/acme/);
    const own = await service.addMiner(acme, { id: 'again', address: '127.0.0.1', port: 1, credentials: 'own' }).catch((e: unknown) => e);
    expect((own as FleetError).message).toBe("address 127.0.0.1:1 is already in your inventory as 'acme-secret-miner'");
    expect((await service.listMiners(bolt)).items).toEqual([]);
    expect((await service.listMiners(acme)).items.map(m => [m.id, m.state])).toEqual([['acme-secret-miner', 'pending']]);
  });

  it('keeps credentials sealed: the raw data never holds the password, and a clear one is refused', async () => {
    const box = new SecretBox(randomBytes(32).toString('base64'));
    const credentials = new CredentialStore({ inventory: store.inventory, box });
    const password = 'Tr0ub4dor-and-3-horses';
    await credentials.put('acme:site-b', { username: 'miner-admin', password });
    expect(await credentials.resolve('acme:site-b')).toEqual({ username: 'miner-admin', password });
    expect((await credentials.list()).find(c => c.name === 'acme:site-b')).toEqual({ name: 'acme:site-b', username: 'miner-admin', source: 'api' });
    if (store.backend === 'embedded') store.database.checkpoint();
    const raw = await rawData(store);
    expect(raw).toContain((await store.inventory.getSealedCredential('acme:site-b'))!); // the raw data was read
    expect(raw).not.toContain(password);
    expect(raw).not.toContain('miner-admin');
    await expect(store.inventory.putSealedCredential('x', JSON.stringify({ username: 'u', password: 'p' }))).rejects.toThrow(/unsealed/);
    expect(await credentials.remove('acme:site-b')).toBe(true);
    expect(await store.inventory.getSealedCredential('acme:site-b')).toBeNull();
  });

  it("lets the first entry to report a device claim it and holds back another tenant's", async () => {
    const inv = store.inventory;
    expect(await inv.claimDeviceIfFree('uid:1', { id: 'a1', tenant: 'acme', source: 'api', created_ms: 1 })).toBe(true);
    expect(await inv.claimDeviceIfFree('uid:1', { id: 'b1', tenant: 'bolt', source: 'api', created_ms: 0 })).toBe(false);
    expect(await inv.getDeviceClaim('uid:1')).toEqual({ id: 'a1', tenant: 'acme', source: 'api', created_ms: 1 });

    const entries = new Map<string, InventoryMiner>([
      ['c1', { ...resolved('c1', 'acme'), created_ms: 10 }],
      ['c2', { ...resolved('c2', 'bolt'), created_ms: 20 }],
    ]);
    const held: string[] = [];
    const manager: IdentityInventory = {
      entry: id => entries.get(id),
      isHeld: id => held.includes(id),
      holdDevice: async id => void held.push(id),
    };
    const identity = new DeviceIdentity({ store: inv, inventory: manager, log: silentLogger() });
    expect(await identity.admit(entries.get('c1')!, { uid: 'dev-9', mac: null, serial: null })).toBe(true);
    expect(await identity.admit(entries.get('c2')!, { uid: 'dev-9', mac: null, serial: null })).toBe(false);
    expect(held).toEqual(['c2']);
    expect(await inv.getDeviceClaim('uid:dev-9')).toMatchObject({ id: 'c1', tenant: 'acme' });
  });

  it('reads and replaces the resolved inventory and the held-back entries together', async () => {
    const inv = store.inventory;
    const q: QuarantineEntry = { id: 'q1', tenant: 'bolt', reason: 'endpoint_in_use', message: 'held', since_ms: 5 };
    await inv.writeResolved([resolved('r1', 'acme'), resolved('r2', 'bolt')], [q]);
    expect((await inv.readResolved()).map(m => m.id).sort()).toEqual(['r1', 'r2']);
    expect(await inv.getResolved(['r2', 'nope', 'r1'])).toEqual([resolved('r2', 'bolt'), null, resolved('r1', 'acme')]);
    expect(await inv.getResolved([])).toEqual([]);
    expect(await inv.readQuarantine()).toEqual(new Map([['q1', q]]));
    await inv.writeResolved([resolved('r3', 'acme')], []);
    expect((await inv.readResolved()).map(m => m.id)).toEqual(['r3']);
    expect((await inv.readQuarantine()).size).toBe(0);
  });

  it('keeps everything across a restart', async () => {
    const inv = store.inventory;
    await inv.putEntry(entry('a1', 'acme', '10.0.0.1'), 'create');
    await inv.writeResolved([resolved('a1', 'acme')], [{ id: 'q1', tenant: 'bolt', reason: 'device_in_use', message: 'held', since_ms: 5 }]);
    await inv.setDeviceHold('q1', 'def');
    await inv.claimDeviceIfFree('uid:7', { id: 'a1', tenant: 'acme', source: 'api' });
    const box = new SecretBox(randomBytes(32).toString('base64'));
    await new CredentialStore({ inventory: inv, box }).put('acme:own', { username: 'u', password: 'p' });
    for (let i = 0; i < 3; i++) await inv.recordScanRequest({ type: 'scan', n: i }, 2);
    await store.close();
    store = await store.reopen();
    if (store.backend === 'influx-redis') expect(await waitForRedis(store.redis, 5_000)).toBe(true);
    const again = store.inventory;
    expect((await again.getEntry('a1'))?.tenant).toBe('acme');
    expect((await again.readResolved()).map(m => m.id)).toEqual(['a1']);
    expect([...(await again.readQuarantine()).keys()]).toEqual(['q1']);
    expect(await again.readDeviceHolds()).toEqual(new Map([['q1', 'def']]));
    expect(await again.getDeviceClaim('uid:7')).toMatchObject({ id: 'a1' });
    expect(await new CredentialStore({ inventory: again, box }).resolve('acme:own')).toEqual({ username: 'u', password: 'p' });
    expect(await again.listScanRequests()).toEqual([{ type: 'scan', n: 2 }, { type: 'scan', n: 1 }]);
    // The atomic check still sees the entry written before the restart.
    expect(await again.putEntry(entry('b1', 'bolt', '10.0.0.1'), 'create')).toMatchObject({ ok: false, reason: 'endpoint_taken' });
  });
});
