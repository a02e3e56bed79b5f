import type { StatementSync } from 'node:sqlite';
import { FleetError } from '../../core/errors.ts';
import { mergeAggregates } from '../../core/fleet-aggregates.ts';
import type { FleetAggregate, MinerSnapshot } from '../../core/samples.ts';
import type { MinerFilter, StatePort, WindowBucketRef, WindowStatWrite } from '../ports/state.ts';
import type { EmbeddedDatabase } from './database.ts';

/**
 * The state port in one process. Snapshots live in memory (the fleet table and every miner
 * lookup read them there, without parsing) and are written through to SQLite in one
 * transaction per collector flush, so a restart answers at once from the last snapshots.
 * Indexes are not stored: a tenant's miners are a Set, narrower filters scan it (10,000
 * miners in well under a millisecond). Window statistics stay in SQLite only (at 10,000 miners
 * they are ~1.8 M rows over their retention, too many for the heap; readers keep decoded
 * buckets themselves) and are deleted once expired, as Redis expires its hashes.
 *
 * Snapshots handed out are the stored objects: read-only for callers.
 */
const MIGRATIONS = [
  // A rowid table for snapshots: rows of ~2.5 KB in a WITHOUT ROWID b-tree made a 10,000-miner
  // flush several times slower (SQLite recommends WITHOUT ROWID for small rows only).
  `CREATE TABLE miner_snapshots (id TEXT PRIMARY KEY, snapshot TEXT NOT NULL);
   CREATE TABLE fleet_aggregates (
     tenant TEXT NOT NULL, scope TEXT NOT NULL, collector TEXT NOT NULL, aggregate TEXT NOT NULL,
     PRIMARY KEY (tenant, scope, collector)) WITHOUT ROWID;
   CREATE TABLE state_values (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
   CREATE TABLE window_stats (
     tenant TEXT NOT NULL, res TEXT NOT NULL, start_ms INTEGER NOT NULL, field TEXT NOT NULL,
     value TEXT NOT NULL, expire_at_ms INTEGER NOT NULL,
     PRIMARY KEY (tenant, res, start_ms, field)) WITHOUT ROWID;
   CREATE INDEX window_stats_expiry ON window_stats (expire_at_ms);`,
];

const HEARTBEAT = 'collector_heartbeat';
/** the aggregate scope of a whole tenant; a site's is 's:' + site */
const TENANT_SCOPE = 't';
const scopeOf = (site: string | null | undefined): string => (site == null ? TENANT_SCOPE : `s:${site}`);

/** The miner's last known model: its own report, else what its inventory label names (as on Redis). */
const modelOf = (s: MinerSnapshot): string | null => s.sample?.model || s.details?.model || s.ref.labels.model || null;

export interface EmbeddedStateOptions {
  now?: () => number;
  /** aggregate parts older than this are left out of a merge (see mergeAggregates). @defaultValue 600000 */
  aggregateMaxAgeMs?: number;
  /** expired window statistics are deleted at most this often. @defaultValue 60000 */
  sweepEveryMs?: number;
}

export class EmbeddedState implements StatePort {
  private readonly database: EmbeddedDatabase;
  private readonly now: () => number;
  private readonly aggregateMaxAgeMs: number;
  private readonly sweepEveryMs: number;
  private readonly snaps = new Map<string, MinerSnapshot>();
  private readonly byTenant = new Map<string, Set<string>>();
  /** removed from the inventory: late polls must not bring them back (see SnapshotStore) */
  private readonly removed = new Set<string>();
  /** tenant \0 scope -> collector -> part */
  private readonly aggregates = new Map<string, Map<string, FleetAggregate>>();
  private heartbeatMs: number | null = null;
  private sweptMs = 0;
  private readonly sql: {
    putSnapshot: StatementSync;
    deleteSnapshot: StatementSync;
    putAggregate: StatementSync;
    putValue: StatementSync;
    putStat: StatementSync;
    bucket: StatementSync;
    bucketSize: StatementSync;
    sweep: StatementSync;
  };

  constructor(database: EmbeddedDatabase, opts: EmbeddedStateOptions = {}) {
    this.database = database;
    this.now = opts.now ?? Date.now;
    this.aggregateMaxAgeMs = opts.aggregateMaxAgeMs ?? 600_000;
    this.sweepEveryMs = opts.sweepEveryMs ?? 60_000;
    database.migrate('state', MIGRATIONS);
    const db = database.db;
    this.sql = {
      putSnapshot: db.prepare('INSERT INTO miner_snapshots (id, snapshot) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET snapshot = excluded.snapshot'),
      deleteSnapshot: db.prepare('DELETE FROM miner_snapshots WHERE id = ?'),
      putAggregate: db.prepare(
        'INSERT INTO fleet_aggregates (tenant, scope, collector, aggregate) VALUES (?, ?, ?, ?) ON CONFLICT(tenant, scope, collector) DO UPDATE SET aggregate = excluded.aggregate',
      ),
      putValue: db.prepare('INSERT INTO state_values (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value'),
      putStat: db.prepare(
        'INSERT INTO window_stats (tenant, res, start_ms, field, value, expire_at_ms) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(tenant, res, start_ms, field) DO UPDATE SET value = excluded.value, expire_at_ms = excluded.expire_at_ms',
      ),
      bucket: db.prepare('SELECT field, value FROM window_stats WHERE tenant = ? AND res = ? AND start_ms = ? AND expire_at_ms > ?'),
      bucketSize: db.prepare('SELECT COUNT(*) AS n FROM window_stats WHERE tenant = ? AND res = ? AND start_ms = ? AND expire_at_ms > ?'),
      sweep: db.prepare('DELETE FROM window_stats WHERE expire_at_ms <= ?'),
    };
    this.load();
  }

  /** The last state before a restart back into memory; expired window statistics go. */
  private load(): void {
    const db = this.database.db;
    for (const row of db.prepare('SELECT snapshot FROM miner_snapshots').iterate() as Iterable<{ snapshot: string }>)
      this.remember(JSON.parse(row.snapshot) as MinerSnapshot);
    for (const row of db.prepare('SELECT tenant, scope, collector, aggregate FROM fleet_aggregates').iterate() as Iterable<{
      tenant: string;
      scope: string;
      collector: string;
      aggregate: string;
    }>)
      this.partsOf(row.tenant, row.scope).set(row.collector, JSON.parse(row.aggregate) as FleetAggregate);
    const beat = db.prepare('SELECT value FROM state_values WHERE name = ?').get(HEARTBEAT) as { value: string } | undefined;
    this.heartbeatMs = beat && /^\d+$/.test(beat.value) ? Number(beat.value) : null;
    this.sweep(true);
  }

  async putSnapshots(batch: readonly MinerSnapshot[]): Promise<void> {
    const kept: MinerSnapshot[] = [];
    for (const s of batch) {
      if (this.removed.has(s.ref.id)) continue;
      // A miner not reached since it last reported its details keeps them (model, hostname).
      const prev = this.snaps.get(s.ref.id);
      kept.push(!s.details && prev?.details ? { ...s, details: prev.details } : s);
    }
    if (kept.length === 0) return;
    this.write(() => {
      for (const s of kept) this.sql.putSnapshot.run(s.ref.id, JSON.stringify(s));
    });
    for (const s of kept) this.remember(s);
  }

  async snapshot(id: string): Promise<MinerSnapshot | null> {
    return this.snaps.get(id) ?? null;
  }

  async snapshots(ids: readonly string[]): Promise<(MinerSnapshot | null)[]> {
    return ids.map(id => this.snaps.get(id) ?? null);
  }

  async minersOf(f: MinerFilter): Promise<string[]> {
    const ids = this.byTenant.get(f.tenant);
    if (!ids) return [];
    const out: string[] = [];
    for (const id of ids) {
      const s = this.snaps.get(id)!;
      if (f.site !== undefined && s.ref.site !== f.site) continue;
      if (f.status !== undefined && s.status !== f.status) continue;
      if (f.model !== undefined && modelOf(s) !== f.model) continue;
      out.push(id);
    }
    return out.sort();
  }

  async hasMiner(tenant: string, id: string): Promise<boolean> {
    return this.byTenant.get(tenant)?.has(id) ?? false;
  }

  async tenants(): Promise<string[]> {
    return [...this.byTenant.keys()].sort();
  }

  async sites(tenant: string): Promise<string[]> {
    const sites = new Set<string>();
    for (const id of this.byTenant.get(tenant) ?? []) sites.add(this.snaps.get(id)!.ref.site);
    return [...sites].sort();
  }

  async removeMiner(id: string): Promise<void> {
    this.removed.add(id);
    this.write(() => this.sql.deleteSnapshot.run(id));
    this.forget(id);
  }

  readmit(ids: Iterable<string>): void {
    if (this.removed.size === 0) return;
    for (const id of ids) this.removed.delete(id);
  }

  async putAggregates(collectorId: string, parts: readonly FleetAggregate[]): Promise<void> {
    if (parts.length === 0) return;
    this.write(() => {
      for (const a of parts) this.sql.putAggregate.run(a.tenant, scopeOf(a.site), collectorId, JSON.stringify(a));
    });
    for (const a of parts) this.partsOf(a.tenant, scopeOf(a.site)).set(collectorId, a);
  }

  async aggregate(tenant: string, site?: string): Promise<FleetAggregate | null> {
    return this.merged(tenant, scopeOf(site));
  }

  async siteAggregates(tenant: string, sites: readonly string[]): Promise<(FleetAggregate | null)[]> {
    return sites.map(s => this.merged(tenant, scopeOf(s)));
  }

  async putHeartbeat(atMs: number): Promise<void> {
    this.write(() => this.sql.putValue.run(HEARTBEAT, String(atMs)));
    this.heartbeatMs = atMs;
  }

  async heartbeat(): Promise<number | null> {
    return this.heartbeatMs;
  }

  async putWindowStats(batch: readonly WindowStatWrite[]): Promise<void> {
    if (batch.length === 0) return;
    this.write(() => {
      for (const e of batch) this.sql.putStat.run(e.tenant, e.res, e.startMs, e.field, e.value, e.expireAtMs);
    });
    this.sweep(false);
  }

  async windowBucket(tenant: string, b: WindowBucketRef): Promise<string[]> {
    const rows = this.read(() => this.sql.bucket.all(tenant, b.res, b.startMs, this.now()) as { field: string; value: string }[]);
    const flat = new Array<string>(rows.length * 2);
    rows.forEach((r, i) => {
      flat[2 * i] = r.field;
      flat[2 * i + 1] = r.value;
    });
    return flat;
  }

  async windowBucketSizes(tenant: string, buckets: readonly WindowBucketRef[]): Promise<number[]> {
    const now = this.now();
    return this.read(() => buckets.map(b => (this.sql.bucketSize.get(tenant, b.res, b.startMs, now) as { n: number }).n));
  }

  private remember(s: MinerSnapshot): void {
    const old = this.snaps.get(s.ref.id);
    if (old && old.ref.tenant !== s.ref.tenant) this.byTenant.get(old.ref.tenant)?.delete(s.ref.id);
    this.snaps.set(s.ref.id, s);
    let ids = this.byTenant.get(s.ref.tenant);
    if (!ids) this.byTenant.set(s.ref.tenant, (ids = new Set()));
    ids.add(s.ref.id);
  }

  private forget(id: string): void {
    const old = this.snaps.get(id);
    if (!old) return;
    this.snaps.delete(id);
    const ids = this.byTenant.get(old.ref.tenant);
    ids?.delete(id);
    if (ids?.size === 0) this.byTenant.delete(old.ref.tenant);
  }

  private partsOf(tenant: string, scope: string): Map<string, FleetAggregate> {
    const key = `${tenant}\u0000${scope}`;
    let parts = this.aggregates.get(key);
    if (!parts) this.aggregates.set(key, (parts = new Map()));
    return parts;
  }

  private merged(tenant: string, scope: string): FleetAggregate | null {
    const parts = this.aggregates.get(`${tenant}\u0000${scope}`);
    return parts ? mergeAggregates([...parts.values()], this.now() - this.aggregateMaxAgeMs) : null;
  }

  private sweep(force: boolean): void {
    const now = this.now();
    if (!force && now - this.sweptMs < this.sweepEveryMs) return;
    this.sweptMs = now;
    this.write(() => this.sql.sweep.run(now));
  }

  private write(fn: () => void): void {
    this.read(() => this.database.transaction(fn));
  }

  private read<T>(fn: () => T): T {
    if (!this.database.isOpen) throw new FleetError('unavailable', 'the embedded store is closed');
    try {
      return fn();
    } catch (err) {
      throw new FleetError('unavailable', `the embedded store could not be used: ${(err as Error).message}`, { cause: err });
    }
  }
}
