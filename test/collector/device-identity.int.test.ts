import type { InfluxRedisStore } from '../../store/influx-redis/index.ts';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startCollector, type CollectorHandle } from '../../collector/collector-service.ts';
import { parseConfig } from '../../runtime/config-loader.ts';
import { collectorConfigSchema } from '../../collector/config.ts';
import { CredentialStore } from '../../collector/credentials.ts';
import { InfluxClient, rowsOf } from '../../store/influx-redis/influx-client.ts';
import { quarantineKey, type QuarantineEntry } from '../../collector/inventory/quarantine.ts';
import { silentLogger } from '../../runtime/logger.ts';
import { SecretBox } from '../../collector/secret-box.ts';
import { RedisInventory } from '../../store/influx-redis/inventory.ts';
import { startSimulator, type SimulatedFleet } from '../../simulator/index.ts';
import { waitForFirstPolls } from './first-polls.ts';

// Issue 15, security 1: a device is identified by what it reports (uid), not by where it is.
// Tenant 2 reaches tenant 1's simulated miner through another address (a plain TCP port forward
// on loopback, as a second IP, NAT rule or re-pointed host name would), with credentials of its
// own that the miner accepts. The real collector must hold that entry back before anything it
// polled is stored, and say why; tenant 1's entry goes on as before.
let fleet: SimulatedFleet;
let collector: CollectorHandle;
let forward: Server;
let influx: InfluxClient;
const sockets = new Set<Socket>();
const db = `t_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
const prefix = `test-${randomUUID()}`;
const secret = randomBytes(32).toString('base64');
const block = 20 + (process.pid % 200);

beforeAll(async () => {
  fleet = await startSimulator({ miners: 2, seed: 21, baseAddress: `127.${block}.7.1`, warmupMs: 100 });
  const victim = fleet.miners[0]!;
  forward = createServer(inbound => {
    const out = createConnection({ host: victim.host, port: victim.port });
    for (const s of [inbound, out]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    inbound.pipe(out).pipe(inbound);
  });
  await new Promise<void>((resolve, reject) => {
    forward.once('error', reject);
    forward.listen(victim.port, `127.${block}.8.200`, resolve);
  });
  const file = join(mkdtempSync(join(tmpdir(), 'identity-')), 'inventory.yaml');
  await fleet.writeInventory(file);
  const config = parseConfig(collectorConfigSchema, {
    INFLUX_URL: inject('influxUrl'),
    INFLUX_DB: db,
    REDIS_URL: inject('redisUrl'),
    REDIS_PREFIX: prefix,
    COLLECTOR_INVENTORY_FILE: file,
    COLLECTOR_POLL_INTERVAL_MS: '1000',
    COLLECTOR_RPC_TIMEOUT_MS: '1500',
    COLLECTOR_HTTP_PORT: '0',
    INFLUX_FLUSH_INTERVAL_MS: '200',
    BOSFLEET_SECRET_KEY: secret,
  });
  influx = new InfluxClient({ url: inject('influxUrl'), db, auth: 'none', flavour: '1' });
  collector = await startCollector(config, { log: silentLogger(), http: false, env: { ...process.env, MINER_PASSWORD: 'root' } });
  await waitForFirstPolls(collector);
}, 60_000);

afterAll(async () => {
  await collector?.stop();
  for (const s of sockets) s.destroy();
  await new Promise(r => forward?.close(r));
  await fleet?.stop();
  await influx?.query(`DROP DATABASE "${db}"`).catch(() => undefined);
});

async function until<T>(what: string, fn: () => Promise<T | null | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 100));
  }
}

describe('device identity', () => {
  it("holds back another tenant's entry that reaches an owned device by another address", async () => {
    const { redis, keys } = collector.store as InfluxRedisStore;
    const victim = fleet.miners[0]!;
    // Tenant 2's own credentials (what PUT /api/v1/inventory/credentials/own stores) and its entry.
    const store = new CredentialStore({ inventory: new RedisInventory(redis, keys), box: new SecretBox(secret) });
    await store.put('tenant-two:own', { username: 'root', password: 'root' });
    const entry = {
      id: 'stolen',
      address: `127.${block}.8.200`,
      port: victim.port,
      tenant: 'tenant-two',
      site: 'default',
      credentials: 'tenant-two:own',
      labels: {},
      created_ms: Date.now(),
    };
    await redis.hset(keys.inventory(), 'stolen', JSON.stringify(entry));
    await redis.publish(keys.inventoryChannel(), JSON.stringify({ type: 'inventory', op: 'upsert', id: 'stolen', tenant: 'tenant-two' }));

    const q = await until('entry held back', async () => {
      const raw = await redis.hget(quarantineKey(keys), 'stolen');
      return raw ? (JSON.parse(raw) as QuarantineEntry) : null;
    });
    expect(q).toMatchObject({ id: 'stolen', tenant: 'tenant-two', reason: 'device_in_use' });
    expect(q.message).not.toContain(victim.id);
    expect(q.message).not.toContain(victim.tenant);
    // Not polled, not published for control, and nothing of what its poll read was stored.
    expect(collector.scheduler.trackers.has('stolen')).toBe(false);
    expect(await redis.hget(keys.resolvedInventory(), 'stolen')).toBeNull();
    expect((await collector.state.snapshots(['stolen']))[0]).toBeNull();
    await collector.writer.flush();
    const rows = rowsOf(await influx.query(`SELECT count(up) FROM miner WHERE miner = 'stolen'`));
    expect(rows).toEqual([]);
    // Tenant 1's miner is polled as before.
    const before = collector.scheduler.trackers.get(victim.id)!.lastPollMs;
    await until('owner polled again', async () => collector.scheduler.trackers.get(victim.id)!.lastPollMs > before);
    expect(collector.scheduler.trackers.get(victim.id)!.lastSample).not.toBeNull();
  });
});
