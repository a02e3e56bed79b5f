import type { ChainableCommander, Redis } from 'ioredis';
import { FleetError } from '../../core/errors.ts';
import { computeAggregates, mergeAggregates } from '../../core/fleet-aggregates.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { CollectorMetrics } from '../../collector/metrics.ts';
import type { RedisKeys } from './redis-keys.ts';
import { exec } from './redis-pipeline.ts';
import { HEALTH_STATUSES, type FleetAggregate, type HealthStatus, type MinerDetailsInfo, type MinerSnapshot } from '../../core/samples.ts';

export { computeAggregates, mergeAggregates } from '../../core/fleet-aggregates.ts';
export { exec } from './redis-pipeline.ts';

/**
 * Latest state per miner in Redis: one JSON string per miner plus SET indexes (all, tenant,
 * tenant+site, tenant+status, tenant+model, tenant's sites, tenants) and per tenant / site
 * aggregates. Writes are pipelined in chunks and idempotent (SET + SADD + SREM only). A miner's
 * index memberships are written when they change and re-asserted every `reindexMs` (the
 * snapshot itself on every write): at 10,000 miners that is one command per poll instead of
 * eight. Any failed write forgets what this process believes Redis holds, so after an outage
 * the next full cycle rebuilds every index; an index lost without a failed write (e.g. Redis
 * restarted between two flushes) comes back within `reindexMs`. A miner whose tenant, site or
 * model changed is removed from its old index sets; the old membership comes from this
 * process's memory, or (first write of an id in this process) from the stored snapshot.
 * Redis unavailable: every method throws FleetError('unavailable') at once (see
 * redis-connection.ts: no offline queue); writes also count metrics.redisErrors.
 */

export interface SnapshotStoreOptions {
  metrics?: CollectorMetrics;
  logger?: Logger;
  /** miners per pipeline / MGET (default 500) */
  chunkSize?: number;
  /** re-write unchanged index memberships this often. @defaultValue 300000 */
  reindexMs?: number;
  /** clock. @defaultValue Date.now */
  now?: () => number;
  /** who writes the aggregates (COLLECTOR_ID): each collector writes its own part. @defaultValue 'collector' */
  collectorId?: string;
  /** parts older than this are left out of a merged aggregate (a collector gone for good). @defaultValue 600000 */
  aggregateMaxAgeMs?: number;
}

export interface ListFilter {
  tenant: string;
  site?: string;
  status?: HealthStatus;
  model?: string;
}

interface Membership {
  tenant: string;
  site: string;
  model: string | null;
  status: HealthStatus;
}

interface Indexed extends Membership {
  /** when this process last wrote every index membership of the miner */
  indexedMs: number;
}

const sameMembership = (a: Membership, b: Membership): boolean =>
  a.tenant === b.tenant && a.site === b.site && a.model === b.model && a.status === b.status;

/** The miner's last known model: its own report, else what its inventory label names. */
const modelOf = (s: MinerSnapshot): string | null => s.sample?.model || s.details?.model || s.ref.labels.model || null;
const membershipOf = (s: MinerSnapshot): Membership => ({
  tenant: s.ref.tenant,
  site: s.ref.site,
  model: modelOf(s),
  status: s.status,
});

export class SnapshotStore {
  /** Same as the module-level computeAggregates (pure). */
  static readonly computeAggregates = computeAggregates;

  private readonly redis: Redis;
  private readonly keys: RedisKeys;
  private readonly metrics: CollectorMetrics | undefined;
  private readonly log: Logger | undefined;
  private readonly chunk: number;
  /** details of the previous snapshot, for miners this process has not reached yet */
  private readonly knownDetails = new Map<string, MinerDetailsInfo>();
  /** index membership last written by this process, per miner id */
  private readonly members = new Map<string, Indexed>();
  private readonly reindexMs: number;
  private readonly now: () => number;
  private readonly collectorId: string;
  private readonly aggregateMaxAgeMs: number;
  /**
   * Miners removed from the inventory: a poll that was in flight when its miner was deleted
   * reports afterwards, and writing its snapshot would bring the miner back for good (nothing
   * deletes it again). Cleared by readmit() when the id is in the inventory again.
   */
  private readonly removed = new Set<string>();

  constructor(redis: Redis, keys: RedisKeys, opts: SnapshotStoreOptions = {}) {
    this.redis = redis;
    this.keys = keys;
    this.metrics = opts.metrics;
    this.log = opts.logger;
    this.chunk = opts.chunkSize ?? 500;
    this.reindexMs = opts.reindexMs ?? 300_000;
    this.now = opts.now ?? Date.now;
    this.collectorId = opts.collectorId ?? 'collector';
    this.aggregateMaxAgeMs = opts.aggregateMaxAgeMs ?? 600_000;
  }

  async writeSnapshots(snapshots: readonly MinerSnapshot[]): Promise<void> {
    const k = this.keys;
    for (let i = 0; i < snapshots.length; i += this.chunk) {
      const slice = snapshots.slice(i, i + this.chunk);
      const unknown = slice.filter(s => !this.members.has(s.ref.id) && !this.removed.has(s.ref.id));
      const previous = new Map<string, Membership>();
      if (unknown.length > 0) {
        const old = await this.write(() => this.getSnapshots(unknown.map(s => s.ref.id)));
        for (const o of old) {
          if (!o) continue;
          previous.set(o.ref.id, membershipOf(o));
          if (o.details) this.knownDetails.set(o.ref.id, o.details);
        }
      }
      // A miner not reached since this process started keeps what it last said of itself
      // (model, hostname, firmware) instead of losing its identity while it is offline.
      const chunk = slice.map(s => {
        if (s.details) {
          this.knownDetails.delete(s.ref.id);
          return s;
        }
        const known = this.knownDetails.get(s.ref.id);
        return known ? { ...s, details: known } : s;
      });
      const nowMs = this.now();
      const indexed: Indexed[] = [];
      // Checked again here, in the tick that sends the pipeline: a removal that came first is
      // skipped, one that comes later is sent after this write on the same connection.
      let part: MinerSnapshot[] = [];
      await this.write(async () => {
        part = chunk.filter(s => !this.removed.has(s.ref.id));
        if (part.length === 0) return;
        const p = this.redis.pipeline();
        // one MSET for the chunk: a SET per miner cost the collector's thread ~10 µs each
        const pairs: string[] = [];
        for (const snap of part) pairs.push(k.snapshot(snap.ref.id), JSON.stringify(snap));
        p.mset(...pairs);
        for (const snap of part) {
          const { id, tenant, site } = snap.ref;
          const model = modelOf(snap);
          const known = this.members.get(id);
          const current: Membership = { tenant, site, model, status: snap.status };
          if (known && sameMembership(known, current) && nowMs - known.indexedMs < this.reindexMs) {
            indexed.push(known);
            continue;
          }
          indexed.push({ ...current, indexedMs: nowMs });
          const prev = known ?? previous.get(id);
          if (prev && (prev.tenant !== tenant || prev.site !== site || prev.model !== model))
            this.unindex(p, id, prev);
          p.sadd(k.allMiners(), id).sadd(k.tenants(), tenant).sadd(k.tenantMiners(tenant), id);
          p.sadd(k.tenantSites(tenant), site).sadd(k.siteMiners(tenant, site), id);
          if (model) p.sadd(k.modelMiners(tenant, model), id);
          p.sadd(k.statusMiners(tenant, snap.status), id);
          // SREM from the other status sets unless this process wrote the same status last time.
          if (known?.status !== snap.status || known.tenant !== tenant) {
            for (const st of HEALTH_STATUSES) if (st !== snap.status) p.srem(k.statusMiners(tenant, st), id);
          }
        }
        await exec(p);
      });
      part.forEach((snap, i) => {
        if (!this.removed.has(snap.ref.id)) this.members.set(snap.ref.id, indexed[i]!);
      });
      this.metrics?.snapshotsWritten.inc(part.length);
    }
  }

  /** This collector's part of each aggregate (a field of the aggregate's hash named by collectorId). */
  async writeAggregates(aggregates: readonly FleetAggregate[], collectorId = this.collectorId): Promise<void> {
    if (aggregates.length === 0) return;
    await this.write(async () => {
      const p = this.redis.pipeline();
      for (const a of aggregates)
        p.hset(this.keys.aggregate(a.tenant, a.site ?? undefined), collectorId, JSON.stringify(a));
      await exec(p);
    });
  }

  async getSnapshot(id: string): Promise<MinerSnapshot | null> {
    const raw = await this.read(() => this.redis.get(this.keys.snapshot(id)));
    return raw ? (JSON.parse(raw) as MinerSnapshot) : null;
  }

  /** Snapshots in the order of `ids` (null where missing), MGET in chunks. */
  async getSnapshots(ids: readonly string[]): Promise<(MinerSnapshot | null)[]> {
    const out: (MinerSnapshot | null)[] = [];
    for (let i = 0; i < ids.length; i += this.chunk) {
      const keys = ids.slice(i, i + this.chunk).map(id => this.keys.snapshot(id));
      const raws = await this.read(() => this.redis.mget(keys));
      for (const raw of raws) out.push(raw ? (JSON.parse(raw) as MinerSnapshot) : null);
    }
    return out;
  }

  /** Miner ids of a tenant, narrowed by site / status / model (SINTER), sorted. */
  async listIds(f: ListFilter): Promise<string[]> {
    const k = this.keys;
    const sets = [k.tenantMiners(f.tenant)];
    if (f.site !== undefined) sets.push(k.siteMiners(f.tenant, f.site));
    if (f.status !== undefined) sets.push(k.statusMiners(f.tenant, f.status));
    if (f.model !== undefined) sets.push(k.modelMiners(f.tenant, f.model));
    const ids = await this.read(() =>
      sets.length === 1 ? this.redis.smembers(sets[0]!) : this.redis.sinter(...sets),
    );
    return ids.sort();
  }

  async listTenants(): Promise<string[]> {
    return (await this.read(() => this.redis.smembers(this.keys.tenants()))).sort();
  }

  async listSites(tenant: string): Promise<string[]> {
    return (await this.read(() => this.redis.smembers(this.keys.tenantSites(tenant)))).sort();
  }

  /** The tenant's (or site's) aggregate: the parts of every collector summed (see mergeAggregates). */
  async getAggregate(tenant: string, site?: string): Promise<FleetAggregate | null> {
    const parts = await this.read(() => this.redis.hvals(this.keys.aggregate(tenant, site)));
    return mergeAggregates(parts.map(p => JSON.parse(p) as FleetAggregate), this.now() - this.aggregateMaxAgeMs);
  }

  /** Aggregates of several sites of a tenant in one round trip, in the order of `sites`. */
  async getSiteAggregates(tenant: string, sites: readonly string[]): Promise<(FleetAggregate | null)[]> {
    if (sites.length === 0) return [];
    const oldestMs = this.now() - this.aggregateMaxAgeMs;
    const rows = await this.read(async () => {
      const p = this.redis.pipeline();
      for (const s of sites) p.hvals(this.keys.aggregate(tenant, s));
      return (await exec(p)) as string[][];
    });
    return rows.map(parts => mergeAggregates(parts.map(x => JSON.parse(x) as FleetAggregate), oldestMs));
  }

  /** Miners in the inventory (again): their snapshots are written again. */
  readmit(ids: Iterable<string>): void {
    if (this.removed.size === 0) return;
    for (const id of ids) this.removed.delete(id);
  }

  /** Delete a miner's snapshot and its index memberships (inventory removal); later writes of it are dropped until readmit. */
  async removeMiner(id: string): Promise<void> {
    this.removed.add(id);
    const snap = await this.getSnapshot(id);
    const known = this.members.get(id);
    await this.write(async () => {
      const p = this.redis.pipeline();
      p.del(this.keys.snapshot(id)).srem(this.keys.allMiners(), id);
      for (const m of [known, snap && membershipOf(snap)]) if (m) this.unindex(p, id, m);
      await exec(p);
    });
    this.members.delete(id);
    this.knownDetails.delete(id);
  }

  private unindex(p: ChainableCommander, id: string, m: Membership): void {
    const k = this.keys;
    p.srem(k.tenantMiners(m.tenant), id).srem(k.siteMiners(m.tenant, m.site), id);
    if (m.model) p.srem(k.modelMiners(m.tenant, m.model), id);
    for (const st of HEALTH_STATUSES) p.srem(k.statusMiners(m.tenant, st), id);
  }

  private async write<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      this.metrics?.redisErrors.inc();
      // Our state of what Redis holds may now be wrong: re-derive it on the next write.
      this.members.clear();
      throw unavailable(err);
    }
  }

  private async read<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      this.log?.debug({ err: (err as Error).message }, 'Redis read failed');
      throw unavailable(err);
    }
  }
}

function unavailable(err: unknown): FleetError {
  if (err instanceof FleetError) return err;
  return new FleetError('unavailable', 'Redis is not available', { cause: err });
}
