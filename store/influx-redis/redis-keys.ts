import type { HealthStatus } from '../../core/samples.ts';

/**
 * The only module that composes Redis key strings. Every key starts with `prefix`
 * (default `bosfleet`), so tests isolate themselves with a random prefix.
 */
export interface RedisKeys {
  readonly prefix: string;
  /** STRING (JSON MinerSnapshot) */
  snapshot(minerId: string): string;
  /** SET of all miner ids (any tenant) */
  allMiners(): string;
  /** SET of miner ids of a tenant */
  tenantMiners(tenant: string): string;
  /** SET of miner ids of a tenant's site */
  siteMiners(tenant: string, site: string): string;
  /** SET of miner ids with a health status, per tenant */
  statusMiners(tenant: string, status: HealthStatus): string;
  /** SET of miner ids of a model, per tenant */
  modelMiners(tenant: string, model: string): string;
  /** SET of site names of a tenant */
  tenantSites(tenant: string): string;
  /** SET of tenants */
  tenants(): string;
  /** HASH collector id -> JSON FleetAggregate (that collector's part) for a tenant, or a tenant's site when site is given */
  aggregate(tenant: string, site?: string): string;
  /** STREAM of FleetEvent (capped) per tenant */
  events(tenant: string): string;
  /** HASH miner id -> JSON inventory entry added through the API (InventoryMinerEntry) */
  inventory(): string;
  /** HASH miner id -> JSON InventoryMiner: the collector's merged, resolved inventory (file + scans + API) */
  resolvedInventory(): string;
  /** HASH scope -> encrypted credential */
  credentials(): string;
  /** PUB/SUB channel announcing inventory changes */
  inventoryChannel(): string;
  /** STRING: collector heartbeat (epoch ms), for readiness and staleness checks */
  collectorHeartbeat(): string;
  /**
   * HASH `<miner id>|<collector run id>` -> encoded per-miner statistics of one bucket
   * (collector/window-stats.ts), per tenant, resolution (`5m`, `1h`, `1d`) and bucket start (epoch ms)
   */
  windowStats(tenant: string, resolution: string, startMs: number): string;
  /** Anything else namespaced under the prefix (jobs, schedules, locks, rate limits). */
  custom(...parts: string[]): string;
}

const enc = (s: string): string => s.replaceAll(':', '%3A');

export function redisKeys(prefix = 'bosfleet'): RedisKeys {
  const k = (...parts: string[]): string => [prefix, ...parts.map(enc)].join(':');
  return {
    prefix,
    snapshot: id => k('miner', id),
    allMiners: () => k('idx', 'all'),
    tenantMiners: t => k('idx', 'tenant', t),
    siteMiners: (t, s) => k('idx', 'site', t, s),
    statusMiners: (t, st) => k('idx', 'status', t, st),
    modelMiners: (t, m) => k('idx', 'model', t, m),
    tenantSites: t => k('idx', 'sites', t),
    tenants: () => k('idx', 'tenants'),
    // 'aggs', not the former 'agg' STRING keys, so an upgraded deployment never hits WRONGTYPE.
    aggregate: (t, s) => (s === undefined ? k('aggs', t) : k('aggs', t, 'site', s)),
    events: t => k('events', t),
    inventory: () => k('inventory'),
    resolvedInventory: () => k('inventory', 'resolved'),
    credentials: () => k('credentials'),
    inventoryChannel: () => k('inventory', 'changed'),
    collectorHeartbeat: () => k('collector', 'heartbeat'),
    windowStats: (t, res, start) => k('wstats', t, res, String(start)),
    custom: (...parts) => k(...parts),
  };
}
