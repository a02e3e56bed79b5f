import type { Redis } from 'ioredis';
import { FleetError } from '../../core/errors.ts';
import type { FleetAggregate, MinerSnapshot } from '../../core/samples.ts';
import type { MinerFilter, StatePort, WindowBucketRef, WindowStatWrite } from '../ports/state.ts';
import type { RedisKeys } from './redis-keys.ts';
import { exec } from './redis-pipeline.ts';
import { SnapshotStore, type SnapshotStoreOptions } from './snapshot-store.ts';

/**
 * The state port on Redis: snapshots, indexes and aggregates through SnapshotStore (same keys
 * and pipelines as before the port), the heartbeat as a STRING, window statistics as one HASH
 * per bucket with PEXPIREAT (core/window-stats.ts describes the layout).
 */
export class RedisState implements StatePort {
  readonly snapshotStore: SnapshotStore;
  private readonly redis: Redis;
  private readonly keys: RedisKeys;

  constructor(redis: Redis, keys: RedisKeys, opts: SnapshotStoreOptions = {}) {
    this.redis = redis;
    this.keys = keys;
    this.snapshotStore = new SnapshotStore(redis, keys, opts);
  }

  putSnapshots(batch: readonly MinerSnapshot[]): Promise<void> {
    return this.snapshotStore.writeSnapshots(batch);
  }

  snapshot(id: string): Promise<MinerSnapshot | null> {
    return this.snapshotStore.getSnapshot(id);
  }

  snapshots(ids: readonly string[]): Promise<(MinerSnapshot | null)[]> {
    return this.snapshotStore.getSnapshots(ids);
  }

  minersOf(filter: MinerFilter): Promise<string[]> {
    return this.snapshotStore.listIds({
      tenant: filter.tenant,
      ...(filter.site !== undefined ? { site: filter.site } : {}),
      ...(filter.status !== undefined ? { status: filter.status } : {}),
      ...(filter.model !== undefined ? { model: filter.model } : {}),
    });
  }

  async hasMiner(tenant: string, id: string): Promise<boolean> {
    return (await read(() => this.redis.sismember(this.keys.tenantMiners(tenant), id))) === 1;
  }

  tenants(): Promise<string[]> {
    return this.snapshotStore.listTenants();
  }

  sites(tenant: string): Promise<string[]> {
    return this.snapshotStore.listSites(tenant);
  }

  removeMiner(id: string): Promise<void> {
    return this.snapshotStore.removeMiner(id);
  }

  readmit(ids: Iterable<string>): void {
    this.snapshotStore.readmit(ids);
  }

  putAggregates(collectorId: string, parts: readonly FleetAggregate[]): Promise<void> {
    return this.snapshotStore.writeAggregates(parts, collectorId);
  }

  aggregate(tenant: string, site?: string): Promise<FleetAggregate | null> {
    return this.snapshotStore.getAggregate(tenant, site);
  }

  siteAggregates(tenant: string, sites: readonly string[]): Promise<(FleetAggregate | null)[]> {
    return this.snapshotStore.getSiteAggregates(tenant, sites);
  }

  async putHeartbeat(atMs: number): Promise<void> {
    await read(() => this.redis.set(this.keys.collectorHeartbeat(), String(atMs)));
  }

  async heartbeat(): Promise<number | null> {
    const raw = await read(() => this.redis.get(this.keys.collectorHeartbeat()));
    return raw !== null && /^\d+$/.test(raw) ? Number(raw) : null;
  }

  /**
   * One HSET of all its fields and one PEXPIREAT per bucket, in one pipeline (the writer chunks):
   * a command per field cost the collector's thread ~10 µs each at 10,000 miners.
   */
  async putWindowStats(batch: readonly WindowStatWrite[]): Promise<void> {
    if (batch.length === 0) return;
    const buckets = new Map<string, { args: string[]; expireAtMs: number }>();
    for (const e of batch) {
      const key = this.keys.windowStats(e.tenant, e.res, e.startMs);
      let b = buckets.get(key);
      if (!b) buckets.set(key, (b = { args: [], expireAtMs: e.expireAtMs }));
      // a field given twice: HSET keeps the last, as the writes one by one did
      b.args.push(e.field, e.value);
      b.expireAtMs = e.expireAtMs;
    }
    const p = this.redis.pipeline();
    for (const [key, b] of buckets) p.hset(key, ...b.args).pexpireat(key, b.expireAtMs);
    await exec(p);
  }

  async windowBucket(tenant: string, bucket: WindowBucketRef): Promise<string[]> {
    // A flat [field, value, ...] reply: cheaper than ioredis' object reply at 10,000 fields.
    return (await read(() => this.redis.call('HGETALL', this.keys.windowStats(tenant, bucket.res, bucket.startMs)))) as string[];
  }

  async windowBucketSizes(tenant: string, buckets: readonly WindowBucketRef[]): Promise<number[]> {
    if (buckets.length === 0) return [];
    const p = this.redis.pipeline();
    for (const b of buckets) p.hlen(this.keys.windowStats(tenant, b.res, b.startMs));
    const replies = (await read(() => p.exec())) ?? [];
    // -1 for a bucket whose count did not come back: matches no decoded copy, so it is read again.
    return buckets.map((_, i) => {
      const [err, n] = replies[i] ?? [new Error('no reply'), null];
      return err || typeof n !== 'number' ? -1 : n;
    });
  }
}

async function read<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof FleetError) throw err;
    throw new FleetError('unavailable', 'Redis is not available', { cause: err });
  }
}
