import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The collector's self-metrics and fleet-health gauges. Label values are bounded
 * (result, reason, rpc name, tenant, site); per-miner series belong in InfluxDB.
 * Metric names are a contract with dashboards/prometheus/alerts.yml.
 */
export interface CollectorMetrics {
  registry: Registry;
  polls: Counter<'result' | 'reason'>;
  pollDuration: Histogram<never>;
  pollsSkipped: Counter<never>;
  cycleDuration: Histogram<never>;
  cycleLag: Gauge<never>;
  queueDepth: Gauge<never>;
  rpcErrors: Counter<'rpc' | 'reason'>;
  pointsWritten: Counter<never>;
  pointsDropped: Counter<'reason'>;
  writeRetries: Counter<never>;
  writeFailures: Counter<never>;
  bufferFill: Gauge<never>;
  bufferCapacity: Gauge<never>;
  snapshotsWritten: Counter<never>;
  redisErrors: Counter<never>;
  inventoryMiners: Gauge<'source'>;
  inventoryErrors: Counter<'source'>;
  events: Counter<'kind'>;
  fleetMiners: Gauge<'tenant' | 'site' | 'status'>;
  fleetOverheating: Gauge<'tenant' | 'site'>;
  fleetHashrate: Gauge<'tenant' | 'site'>;
  fleetHashrateNominal: Gauge<'tenant' | 'site'>;
  fleetPower: Gauge<'tenant' | 'site'>;
  fleetBoardsHashing: Gauge<'tenant' | 'site'>;
  fleetBoardsTotal: Gauge<'tenant' | 'site'>;
  fleetPoolsDead: Gauge<'tenant' | 'site'>;
  lastCycleTimestamp: Gauge<never>;
  storeWriteDuration: Histogram<'kind'>;
  leaseMinersOwned: Gauge<never>;
  leaseMembers: Gauge<never>;
}

export function createCollectorMetrics(registry = new Registry(), opts: { processMetrics?: boolean } = {}): CollectorMetrics {
  if (opts.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'bosfleet_collector_process_' });
  const r = [registry];
  return {
    registry,
    polls: new Counter({ name: 'bosfleet_polls_total', help: 'Miner polls by result (ok|error) and bounded failure reason.', labelNames: ['result', 'reason'], registers: r }),
    pollDuration: new Histogram({ name: 'bosfleet_poll_duration_seconds', help: 'Wall time of one miner poll (all RPCs).', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: r }),
    pollsSkipped: new Counter({ name: 'bosfleet_polls_skipped_total', help: 'Polls skipped because the previous poll of the same miner was still running.', registers: r }),
    cycleDuration: new Histogram({ name: 'bosfleet_cycle_duration_seconds', help: 'Time from the first to the last poll of one fleet-wide cycle.', buckets: [1, 2, 5, 8, 10, 12, 15, 20, 30, 60], registers: r }),
    cycleLag: new Gauge({ name: 'bosfleet_cycle_lag_seconds', help: 'How far the last cycle finished behind its interval (0 when on time).', registers: r }),
    queueDepth: new Gauge({ name: 'bosfleet_poll_queue_depth', help: 'Polls waiting for a concurrency slot.', registers: r }),
    rpcErrors: new Counter({ name: 'bosfleet_rpc_errors_total', help: 'Failed miner RPCs by method and bounded reason.', labelNames: ['rpc', 'reason'], registers: r }),
    pointsWritten: new Counter({ name: 'bosfleet_influx_points_written_total', help: 'Points acknowledged by InfluxDB.', registers: r }),
    pointsDropped: new Counter({ name: 'bosfleet_influx_points_dropped_total', help: 'Points dropped (buffer full, rejected by InfluxDB).', labelNames: ['reason'], registers: r }),
    writeRetries: new Counter({ name: 'bosfleet_influx_write_retries_total', help: 'InfluxDB write attempts that failed and will be retried.', registers: r }),
    writeFailures: new Counter({ name: 'bosfleet_influx_write_failures_total', help: 'InfluxDB write attempts that failed.', registers: r }),
    bufferFill: new Gauge({ name: 'bosfleet_influx_buffer_points', help: 'Points waiting in the write buffer.', registers: r }),
    bufferCapacity: new Gauge({ name: 'bosfleet_influx_buffer_capacity_points', help: 'Write buffer capacity in points.', registers: r }),
    snapshotsWritten: new Counter({ name: 'bosfleet_redis_snapshots_written_total', help: 'Miner snapshots written to Redis.', registers: r }),
    redisErrors: new Counter({ name: 'bosfleet_redis_errors_total', help: 'Failed Redis writes.', registers: r }),
    inventoryMiners: new Gauge({ name: 'bosfleet_inventory_miners', help: 'Miners in the inventory by source.', labelNames: ['source'], registers: r }),
    inventoryErrors: new Counter({ name: 'bosfleet_inventory_errors_total', help: 'Inventory entries rejected by source.', labelNames: ['source'], registers: r }),
    events: new Counter({ name: 'bosfleet_events_total', help: 'Fleet events emitted by kind.', labelNames: ['kind'], registers: r }),
    fleetMiners: new Gauge({ name: 'bosfleet_fleet_miners', help: 'Miners per tenant, site and health status.', labelNames: ['tenant', 'site', 'status'], registers: r }),
    fleetOverheating: new Gauge({ name: 'bosfleet_fleet_miners_overheating', help: 'Miners above their hot temperature.', labelNames: ['tenant', 'site'], registers: r }),
    fleetHashrate: new Gauge({ name: 'bosfleet_fleet_hashrate_ghs', help: 'Real hashrate (GH/s) per tenant and site.', labelNames: ['tenant', 'site'], registers: r }),
    fleetHashrateNominal: new Gauge({ name: 'bosfleet_fleet_hashrate_nominal_ghs', help: 'Nominal hashrate (GH/s) per tenant and site.', labelNames: ['tenant', 'site'], registers: r }),
    fleetPower: new Gauge({ name: 'bosfleet_fleet_power_w', help: 'Power draw (W) per tenant and site.', labelNames: ['tenant', 'site'], registers: r }),
    fleetBoardsHashing: new Gauge({ name: 'bosfleet_fleet_hashboards_hashing', help: 'Hashboards hashing per tenant and site.', labelNames: ['tenant', 'site'], registers: r }),
    fleetBoardsTotal: new Gauge({ name: 'bosfleet_fleet_hashboards_total', help: 'Hashboards present per tenant and site.', labelNames: ['tenant', 'site'], registers: r }),
    fleetPoolsDead: new Gauge({ name: 'bosfleet_fleet_miners_pool_dead', help: 'Miners whose active pool group has no alive pool.', labelNames: ['tenant', 'site'], registers: r }),
    lastCycleTimestamp: new Gauge({ name: 'bosfleet_last_cycle_timestamp_seconds', help: 'Unix time the last fleet cycle completed.', registers: r }),
    // The embedded store commits on the event loop, so this is also time the collector is held.
    storeWriteDuration: new Histogram({ name: 'bosfleet_store_write_duration_seconds', help: 'Wall time of one store write: kind=series is one series flush (embedded: one transaction; influx-redis: one write request), kind=state one flush of snapshots, aggregates and heartbeat.', labelNames: ['kind'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: r }),
    leaseMinersOwned: new Gauge({ name: 'bosfleet_lease_miners_owned', help: 'Miners this collector process polls under its lease (0 with COLLECTOR_SHARD).', registers: r }),
    leaseMembers: new Gauge({ name: 'bosfleet_lease_members', help: 'Collector processes with a live lease, as this process last read them.', registers: r }),
  };
}
