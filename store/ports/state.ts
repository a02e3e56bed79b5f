import type { FleetAggregate, HealthStatus, MinerSnapshot } from '../../core/samples.ts';
import type { WindowResolution } from '../../core/window-stats.ts';

/**
 * The fleet's latest state: one snapshot per miner with the indexes the services filter by
 * (tenants, a tenant's miners narrowed by site / status / model), the fleet aggregates each
 * collector writes its part of, the collector heartbeat, and the per-miner window statistics
 * (core/window-stats.ts) the collector writes per 5-minute, hour and day bucket.
 *
 * Writes are idempotent overwrites. The influx-redis adapter keeps today's Redis keys; the
 * embedded one answers from memory and persists to SQLite so a restart answers at once.
 * Every method throws FleetError('unavailable') when the backing store cannot be reached.
 */
export interface MinerFilter {
  tenant: string;
  site?: string | undefined;
  status?: HealthStatus | undefined;
  model?: string | undefined;
}

/** One miner's statistics of one bucket, as written by one collector run. */
export interface WindowStatWrite {
  tenant: string;
  res: WindowResolution;
  /** bucket start, epoch ms */
  startMs: number;
  /** `<miner id>|<collector run id>` (core/window-stats.ts FIELD_SEPARATOR) */
  field: string;
  /** encodeWindowStat's text */
  value: string;
  /** the bucket is deleted at this time (bucket end + the resolution's retention) */
  expireAtMs: number;
}

export interface WindowBucketRef {
  res: WindowResolution;
  startMs: number;
}

export interface StatePort {
  // ---- snapshots and their indexes --------------------------------------------------------
  /** Write the latest snapshots (a collector flush); miners removed and not readmitted are skipped. */
  putSnapshots(batch: readonly MinerSnapshot[]): Promise<void>;
  snapshot(id: string): Promise<MinerSnapshot | null>;
  /** in the order of `ids`, null where missing */
  snapshots(ids: readonly string[]): Promise<(MinerSnapshot | null)[]>;
  /** miner ids of a tenant, narrowed by site / status / model, sorted */
  minersOf(filter: MinerFilter): Promise<string[]>;
  /** is `id` one of the tenant's miners? */
  hasMiner(tenant: string, id: string): Promise<boolean>;
  /** tenants with miners, sorted */
  tenants(): Promise<string[]>;
  /** a tenant's sites, sorted */
  sites(tenant: string): Promise<string[]>;
  /** Delete a miner's snapshot and index entries (inventory removal); later writes of it are dropped until readmit. */
  removeMiner(id: string): Promise<void>;
  /** miners in the inventory (again): their snapshots are written again */
  readmit(ids: Iterable<string>): void;

  // ---- aggregates and heartbeat -----------------------------------------------------------
  /** this collector's part of each aggregate (the whole is the sum of every collector's fresh part) */
  putAggregates(collectorId: string, parts: readonly FleetAggregate[]): Promise<void>;
  /** a tenant's (or site's) aggregate, parts merged; null when none was written */
  aggregate(tenant: string, site?: string): Promise<FleetAggregate | null>;
  /** several sites of a tenant, in the order of `sites` */
  siteAggregates(tenant: string, sites: readonly string[]): Promise<(FleetAggregate | null)[]>;
  putHeartbeat(atMs: number): Promise<void>;
  /** the collector's last heartbeat (epoch ms), null when none */
  heartbeat(): Promise<number | null>;

  // ---- per-miner window statistics ---------------------------------------------------------
  /** one write of the collector's queue (it chunks); all or nothing per call where the backend allows */
  putWindowStats(batch: readonly WindowStatWrite[]): Promise<void>;
  /** a bucket's fields as a flat [field, value, field, value, ...]; [] when absent or expired */
  windowBucket(tenant: string, bucket: WindowBucketRef): Promise<string[]>;
  /** field counts of buckets (0 when absent, -1 when unknown), what readers check their decoded copies against */
  windowBucketSizes(tenant: string, buckets: readonly WindowBucketRef[]): Promise<number[]>;
}
