import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startCollector, type CollectorHandle } from '../../collector/collector-service.ts';
import { parseConfig } from '../../runtime/config-loader.ts';
import { collectorConfigSchema } from '../../collector/config.ts';
import { silentLogger } from '../../runtime/logger.ts';
import { createRedis, waitForRedis } from '../../store/influx-redis/redis-connection.ts';
import { redisKeys } from '../../store/influx-redis/redis-keys.ts';
import { SnapshotStore } from '../../store/influx-redis/snapshot-store.ts';
import { startSimulator, type SimulatedFleet } from '../../simulator/index.ts';
import { waitForFirstPolls } from './first-polls.ts';

// Two collectors, shards 0/2 and 1/2 of the same inventory, over one simulated fleet (real gRPC,
// InfluxDB and Redis): every miner is polled by exactly one of them, and the fleet aggregates
// the API reads are the sum of both collectors' parts.
const MINERS = 60;
let fleet: SimulatedFleet;
const collectors: CollectorHandle[] = [];
const db = `t_${randomUUID().slice(0, 8)}`;
const prefix = `test-${randomUUID()}`;

beforeAll(async () => {
  fleet = await startSimulator({ miners: MINERS, seed: 13, baseAddress: '127.13.0.1', sites: 2, tenants: 2, faults: 'unreachable:4' });
  const dir = mkdtempSync(join(tmpdir(), 'collector-shards-'));
  const inventoryFile = join(dir, 'inventory.yaml');
  await fleet.writeInventory(inventoryFile);
  for (const shard of ['0/2', '1/2']) {
    const config = parseConfig(collectorConfigSchema, {
      INFLUX_URL: inject('influxUrl'),
      INFLUX_DB: db,
      REDIS_URL: inject('redisUrl'),
      REDIS_PREFIX: prefix,
      COLLECTOR_INVENTORY_FILE: inventoryFile,
      COLLECTOR_POLL_INTERVAL_MS: '1000',
      // a healthy miner slowed by a busy machine must not pass for offline (unreachable ones fail at once)
      COLLECTOR_RPC_TIMEOUT_MS: '3000',
      COLLECTOR_OFFLINE_AFTER_MISSES: '2',
      COLLECTOR_HTTP_PORT: '0',
      COLLECTOR_SHARD: shard,
      MINER_PASSWORD: 'root',
    });
    collectors.push(await startCollector(config, { log: silentLogger(), env: { ...process.env, MINER_PASSWORD: 'root' } }));
  }
  for (const c of collectors) await waitForFirstPolls(c);
  for (const c of collectors) await c.flushSnapshots();
}, 60_000);

afterAll(async () => {
  for (const c of collectors) await c.stop();
  await fleet?.stop();
});

describe('sharded collectors', () => {
  it('poll every miner exactly once between them', () => {
    const [a, b] = collectors.map(c => new Set(c.scheduler.trackers.keys())) as [Set<string>, Set<string>];
    expect(a.size).toBeGreaterThan(MINERS / 4);
    expect(b.size).toBeGreaterThan(MINERS / 4);
    expect([...a].filter(id => b.has(id))).toEqual([]);
    expect([...a, ...b].sort()).toEqual(fleet.miners.map(m => m.id).sort());
  });

  it('write aggregate parts that add up to the whole fleet', async () => {
    const redis = createRedis(inject('redisUrl'));
    try {
      await waitForRedis(redis, 5_000);
      const store = new SnapshotStore(redis, redisKeys(prefix));
      // What each tenant's aggregate must say once both collectors have seen every miner (the
      // unreachable ones offline after two misses): waited for, not assumed after a fixed time.
      const mismatches = async (): Promise<string[]> => {
        for (const c of collectors) await c.flushSnapshots();
        const out: string[] = [];
        for (const tenant of [...new Set(fleet.miners.map(m => m.tenant))]) {
          const mine = fleet.miners.filter(m => m.tenant === tenant);
          const agg = await store.getAggregate(tenant);
          const offline = mine.filter(m => fleet.faults(m.id).some(f => f.kind === 'unreachable')).length;
          const hashrate = mine.filter(m => !fleet.faults(m.id).some(f => f.kind === 'unreachable')).reduce((a, m) => a + fleet.truth(m.id).hashrate_ghs, 0);
          if (agg?.miners_total !== mine.length) out.push(`${tenant}: miners_total ${agg?.miners_total}, expected ${mine.length}`);
          if (agg?.by_status.offline !== offline) out.push(`${tenant}: offline ${agg?.by_status.offline}, expected ${offline}`);
          if (!agg || Math.abs(agg.hashrate_ghs - hashrate) >= hashrate * 0.1) out.push(`${tenant}: hashrate ${agg?.hashrate_ghs}, expected ~${hashrate}`);
          if ((await redis.hlen(redisKeys(prefix).aggregate(tenant))) !== 2) out.push(`${tenant}: not two collectors' parts`);
          if ((await store.listIds({ tenant })).length !== mine.length) out.push(`${tenant}: index incomplete`);
        }
        return out;
      };
      await expect.poll(mismatches, { timeout: 30_000, interval: 250 }).toEqual([]);
    } finally {
      redis.disconnect();
    }
  });
});
