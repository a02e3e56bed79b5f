import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { FleetError } from '../../core/errors.ts';
import { createCollectorMetrics } from '../../collector/metrics.ts';
import { createRedis, waitForRedis } from '../../store/influx-redis/redis-connection.ts';
import { redisKeys, type RedisKeys } from '../../store/influx-redis/redis-keys.ts';
import { HEALTH_STATUSES, type HealthStatus, type MinerSnapshot } from '../../core/samples.ts';
import { computeAggregates, SnapshotStore } from '../../store/influx-redis/snapshot-store.ts';
import { startLocalRedis } from '../../demo/local-services.ts';

// Real Redis: the shared test server with a random key prefix per test, and a private
// redis-server (startLocalRedis) that the outage test stops and starts.

const NOW = 1_764_000_000_000;
const SITES = [
  ['acme', 'dc-1'],
  ['acme', 'dc-2'],
  ['beta', 'dc-3'],
] as const;

function snapshot(i: number, over: Partial<MinerSnapshot> = {}): MinerSnapshot {
  const [tenant, site] = SITES[i % 3]!;
  const status: HealthStatus = HEALTH_STATUSES[i % 5]!;
  const id = `m-${String(i).padStart(3, '0')}`;
  const ref = { id, tenant, site, address: `10.0.${i}.1:50051`, credentials: 'default', labels: {} };
  const reached = status !== 'offline';
  return {
    ref,
    last_seen_ms: reached ? NOW : NOW - 60_000,
    last_poll_ms: NOW,
    consecutive_failures: reached ? 0 : 3,
    last_error: reached ? null : 'unreachable',
    status,
    details: null,
    sample: {
      time_ms: NOW,
      ref,
      model: i % 2 === 0 ? 'S19' : 'S21',
      hostname: id,
      firmware: 'fw',
      status,
      degraded_reasons: status === 'degraded' && i % 2 === 0 ? ['overheating'] : [],
      miner_status: 'normal',
      tuner_state: 'stable',
      hashrate_ghs: 100 + i,
      hashrate_5m_ghs: 100 + i,
      hashrate_nominal_ghs: 110,
      hashrate_error_mhs: 0,
      power_w: 3000,
      power_target_w: null,
      efficiency_jth: 30,
      temp_chip_max_c: 70,
      temp_board_max_c: 60,
      fan_rpm_min: 4000,
      fan_rpm_avg: 4000,
      shares_accepted: 1,
      shares_rejected: 0,
      shares_stale: 0,
      uptime_s: 60,
      boards_hashing: 3,
      boards_total: 3,
      hashboards: [],
      fans: [],
      pools: [],
    },
    ...over,
  };
}

const all = Array.from({ length: 50 }, (_, i) => snapshot(i));
const idsWhere = (f: (s: MinerSnapshot) => boolean): string[] =>
  all
    .filter(f)
    .map(s => s.ref.id)
    .sort();

async function cleanup(redis: Redis, prefix: string): Promise<void> {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
}

describe('SnapshotStore on Redis', () => {
  let redis: Redis;
  let keys: RedisKeys;
  let store: SnapshotStore;

  beforeEach(() => {
    redis = createRedis(inject('redisUrl'));
    keys = redisKeys(`test:${randomUUID()}`);
    store = new SnapshotStore(redis, keys, { chunkSize: 7 }); // small chunks: pipelines and MGET in several rounds
  });

  afterEach(async () => {
    await cleanup(redis, keys.prefix);
    redis.disconnect();
  });

  it('writes 50 snapshots and answers index queries', async () => {
    await waitForRedis(redis, 5_000);
    await store.writeSnapshots(all);
    expect(await store.listTenants()).toEqual(['acme', 'beta']);
    expect(await store.listSites('acme')).toEqual(['dc-1', 'dc-2']);
    expect(await store.listIds({ tenant: 'acme' })).toEqual(idsWhere(s => s.ref.tenant === 'acme'));
    expect(await store.listIds({ tenant: 'acme', site: 'dc-2' })).toEqual(
      idsWhere(s => s.ref.site === 'dc-2'),
    );
    expect(await store.listIds({ tenant: 'beta', status: 'offline' })).toEqual(
      idsWhere(s => s.ref.tenant === 'beta' && s.status === 'offline'),
    );
    expect(await store.listIds({ tenant: 'acme', site: 'dc-1', status: 'online', model: 'S19' })).toEqual(
      idsWhere(s => s.ref.site === 'dc-1' && s.status === 'online' && s.sample?.model === 'S19'),
    );
    expect(await store.listIds({ tenant: 'nobody' })).toEqual([]);
    expect(await redis.scard(keys.allMiners())).toBe(50);
    expect(await store.getSnapshot('m-007')).toEqual(all[7]);
    const many = await store.getSnapshots(['m-049', 'missing', ...all.slice(0, 20).map(s => s.ref.id)]);
    expect(many).toEqual([all[49], null, ...all.slice(0, 20)]);
  });

  it('moves a miner between status sets when its status changes, and between site sets when it moves', async () => {
    await waitForRedis(redis, 5_000);
    await store.writeSnapshots(all);
    const m0 = all[0]!; // acme/dc-1, online
    await store.writeSnapshots([{ ...m0, status: 'offline' }]);
    expect(await store.listIds({ tenant: 'acme', status: 'online' })).not.toContain('m-000');
    expect(await store.listIds({ tenant: 'acme', status: 'offline' })).toContain('m-000');
    for (const st of HEALTH_STATUSES)
      expect(await redis.sismember(keys.statusMiners('acme', st), 'm-000')).toBe(st === 'offline' ? 1 : 0);
    // A new store (a restarted collector) learns the old membership from the stored snapshot.
    const fresh = new SnapshotStore(redis, keys);
    await fresh.writeSnapshots([{ ...m0, ref: { ...m0.ref, site: 'dc-2' }, status: 'online' }]);
    expect(await fresh.listIds({ tenant: 'acme', site: 'dc-1' })).not.toContain('m-000');
    expect(await fresh.listIds({ tenant: 'acme', site: 'dc-2', status: 'online' })).toContain('m-000');
    expect(await fresh.listIds({ tenant: 'acme', status: 'offline' })).not.toContain('m-000');
  });

  it('re-asserts unchanged index memberships only every reindexMs, and indexes a change at once', async () => {
    await waitForRedis(redis, 5_000);
    let now = NOW;
    const timed = new SnapshotStore(redis, keys, { reindexMs: 60_000, now: () => now });
    await timed.writeSnapshots(all);
    // Someone wipes the tenant index (e.g. Redis restarted without persistence between two flushes).
    await redis.del(keys.tenantMiners('acme'));
    const changed = { ...all[1]!, sample: { ...all[1]!.sample!, hashrate_ghs: 1 } };
    now += 30_000;
    await timed.writeSnapshots([changed, ...all.slice(2)]);
    // Snapshots are always written; unchanged memberships are not re-asserted yet.
    expect((await timed.getSnapshot('m-001'))?.sample?.hashrate_ghs).toBe(1);
    expect(await redis.scard(keys.tenantMiners('acme'))).toBe(0);
    now += 30_000;
    await timed.writeSnapshots(all);
    expect(await timed.listIds({ tenant: 'acme' })).toEqual(idsWhere(s => s.ref.tenant === 'acme'));
    // A changed status is indexed at once, whatever the interval.
    now += 1_000;
    await timed.writeSnapshots([{ ...all[0]!, status: 'offline' }]);
    expect(await timed.listIds({ tenant: 'acme', status: 'offline' })).toContain('m-000');
    expect(await timed.listIds({ tenant: 'acme', status: 'online' })).not.toContain('m-000');
  });

  it('is idempotent: a full rewrite leaves the same keys and set sizes', async () => {
    await waitForRedis(redis, 5_000);
    await store.writeSnapshots(all);
    const shape = async (): Promise<Record<string, number>> => {
      const ks = (await redis.keys(`${keys.prefix}:*`)).sort();
      const out: Record<string, number> = {};
      for (const k of ks) out[k] = (await redis.type(k)) === 'set' ? await redis.scard(k) : 1;
      return out;
    };
    const before = await shape();
    await new SnapshotStore(redis, keys).writeSnapshots(all);
    await store.writeSnapshots(all);
    expect(await shape()).toEqual(before);
  });

  it('computes, writes and reads aggregates per tenant and site', async () => {
    await waitForRedis(redis, 5_000);
    const aggregates = computeAggregates(all, NOW);
    expect(SnapshotStore.computeAggregates(all, NOW)).toEqual(aggregates);
    expect(aggregates).toHaveLength(2 + 3);
    const acme = aggregates.find(a => a.tenant === 'acme' && a.site === null)!;
    const acmeSnaps = all.filter(s => s.ref.tenant === 'acme');
    const reached = acmeSnaps.filter(s => s.status !== 'offline');
    expect(acme).toEqual({
      tenant: 'acme',
      site: null,
      updated_ms: NOW,
      miners_total: acmeSnaps.length,
      by_status: Object.fromEntries(
        HEALTH_STATUSES.map(st => [st, acmeSnaps.filter(s => s.status === st).length]),
      ),
      overheating: reached.filter(s => s.sample!.degraded_reasons.includes('overheating')).length,
      hashrate_ghs: reached.reduce((a, s) => a + s.sample!.hashrate_ghs, 0),
      hashrate_nominal_ghs: 110 * reached.length,
      power_w: 3000 * reached.length,
      boards_hashing: 3 * reached.length,
      boards_total: 3 * reached.length,
    });
    expect(acme.overheating).toBeGreaterThan(0);
    const sites = aggregates.filter(a => a.tenant === 'acme' && a.site !== null);
    expect(sites.reduce((n, a) => n + a.miners_total, 0)).toBe(acme.miners_total);
    await store.writeAggregates(aggregates);
    expect(await store.getAggregate('acme')).toEqual(acme);
    expect(await store.getAggregate('beta', 'dc-3')).toEqual(aggregates.find(a => a.site === 'dc-3'));
    expect(await store.getAggregate('beta', 'nope')).toBeNull();
  });

  it('sums the aggregate parts of several collectors, leaving out a collector gone for good', async () => {
    await waitForRedis(redis, 5_000);
    const now = NOW + 3_600_000;
    const storeOf = (collectorId: string): SnapshotStore =>
      new SnapshotStore(redis, keys, { collectorId, now: () => now, aggregateMaxAgeMs: 600_000 });
    // Two collectors split the fleet (even / odd miners); the whole is what one collector of all would write.
    await storeOf('c-1').writeAggregates(computeAggregates(all.filter((_s, i) => i % 2 === 0), now - 5_000));
    await storeOf('c-2').writeAggregates(computeAggregates(all.filter((_s, i) => i % 2 === 1), now - 1_000));
    const whole = computeAggregates(all, now - 5_000);
    const reader = storeOf('api');
    expect(await reader.getAggregate('acme')).toEqual(whole.find(a => a.tenant === 'acme' && a.site === null));
    expect(await reader.getSiteAggregates('acme', ['dc-2', 'nope', 'dc-1'])).toEqual([
      whole.find(a => a.site === 'dc-2'),
      null,
      whole.find(a => a.site === 'dc-1'),
    ]);
    // A third collector that stopped an hour ago no longer counts while the others are current.
    await storeOf('c-old').writeAggregates(computeAggregates(all, now - 3_600_000));
    expect((await reader.getAggregate('acme'))?.miners_total).toBe(whole.find(a => a.tenant === 'acme' && a.site === null)!.miners_total);
    // With every part old, the stale figures are still answered (the API marks them stale by their age).
    const later = new SnapshotStore(redis, keys, { now: () => now + 7_200_000 });
    expect((await later.getAggregate('beta'))?.updated_ms).toBe(now - 3_600_000);
  });

  it('removes a miner from its snapshot and every index', async () => {
    await waitForRedis(redis, 5_000);
    await store.writeSnapshots(all);
    await new SnapshotStore(redis, keys).removeMiner('m-004'); // acme/dc-2, stopped, S19
    expect(await store.getSnapshot('m-004')).toBeNull();
    for (const k of [
      keys.allMiners(),
      keys.tenantMiners('acme'),
      keys.siteMiners('acme', 'dc-2'),
      keys.modelMiners('acme', 'S19'),
      keys.statusMiners('acme', 'stopped'),
    ]) {
      expect(await redis.sismember(k, 'm-004')).toBe(0);
    }
  });
});

describe('SnapshotStore while Redis is down', () => {
  const stops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const s of stops) await s();
  });

  it('throws FleetError(unavailable) at once and works again after Redis is back', async () => {
    const svc = await startLocalRedis();
    stops.push(() => svc.destroy());
    const redis = createRedis(svc.url, { maxReconnectDelayMs: 200 });
    stops.unshift(async () => redis.disconnect());
    const metrics = createCollectorMetrics();
    const keys = redisKeys(`test:${randomUUID()}`);
    const store = new SnapshotStore(redis, keys, { metrics });
    expect(await waitForRedis(redis, 5_000)).toBe(true);
    await store.writeSnapshots(all.slice(0, 10));

    await svc.stop();
    const t = Date.now();
    const err = await store.writeSnapshots(all).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(FleetError);
    expect((err as FleetError).code).toBe('unavailable');
    expect(Date.now() - t).toBeLessThan(1_000);
    await expect(store.listIds({ tenant: 'acme' })).rejects.toMatchObject({ code: 'unavailable' });
    expect((await metrics.redisErrors.get()).values[0]?.value).toBe(1);

    await svc.start(); // comes back empty (no persistence): the next full write rebuilds everything
    expect(await waitForRedis(redis, 10_000)).toBe(true);
    await store.writeSnapshots(all);
    expect(await store.listIds({ tenant: 'beta' })).toEqual(idsWhere(s => s.ref.tenant === 'beta'));
    expect(await store.getSnapshot('m-049')).toEqual(all[49]);
    expect((await metrics.snapshotsWritten.get()).values[0]?.value).toBe(60);
  });
});
