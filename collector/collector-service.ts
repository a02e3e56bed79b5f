import { CredentialStore } from './credentials.ts';
import { attributeRestart, detectEvents, isRestartEvent, type AuditedAction, type MinerObservation } from './event-detector.ts';
import { InfluxClient } from '../store/influx-redis/influx-client.ts';
import { CredentialPolicy } from './inventory/credential-policy.ts';
import { DeviceIdentity } from './inventory/device-identity.ts';
import { InventoryManager } from './inventory/inventory-manager.ts';
import type { Logger } from '../runtime/logger.ts';
import { createCollectorMetrics, type CollectorMetrics } from './metrics.ts';
import { MinerClientPool } from './miner-client-pool.ts';
import { applyMissed, applyPolled, applyPushedStatus } from './tracker-updates.ts';
import { createMinerPoller, type MinerPoller } from './poll-threads.ts';
import { offlinePoint, samplePoints } from './points.ts';
import type { MinerTracker, PollOutcome } from './poller.ts';
import { redisKeys } from '../store/influx-redis/redis-keys.ts';
import { createRedis, waitForRedis } from '../store/influx-redis/redis-connection.ts';
import { influxRedisStoreOver } from '../store/influx-redis/index.ts';
import type { Store } from '../store/store.ts';
import type { InfluxRedisStore } from '../store/influx-redis/index.ts';
import type { SeriesPoint, SeriesWriter } from '../store/ports/series.ts';
import { MinerRollups } from './rollups.ts';
import { FleetRollups } from './fleet-rollups.ts';
import { FleetParts } from './fleet-parts.ts';
import { WindowStatsWriter } from './window-stats-writer.ts';
import { WINDOW_RESOLUTIONS } from '../core/window-stats.ts';
import type { FleetEvent, MinerSnapshot } from '../core/samples.ts';
import type { CycleStats, PollSink } from './scheduler.ts';
import { SecretBox } from './secret-box.ts';
import { computeAggregates } from '../core/fleet-aggregates.ts';
import type { StatePort } from '../store/ports/state.ts';
import { collectorIdOf, influxSettingsFrom, parseShard, type CollectorConfig } from './config.ts';
import { inShard } from './inventory/shard.ts';
import type { InventoryMiner } from './inventory/schema.ts';
import { startLeases } from './leases/collector-leases.ts';
import { startHttpServer, type ReadinessCheck } from './http-server.ts';
import { listenError } from '../runtime/listen-error.ts';
import { registerStoreInfo } from '../store/open-store.ts';

export interface CollectorHandle {
  /** polls the owned miners: on this thread, or on COLLECTOR_POLL_THREADS worker threads */
  scheduler: MinerPoller;
  /** the series writer (points, rollups) */
  writer: SeriesWriter;
  /** the latest-state port the collector writes (snapshots, aggregates, heartbeat, window statistics) */
  state: StatePort;
  metrics: CollectorMetrics;
  inventory: InventoryManager;
  /** the store it writes through (the caller's, or the farm store it opened and closes) */
  store: Store;
  /** port of /metrics and /health, when served */
  httpPort: number | null;
  /** Write dirty snapshots and aggregates now (tests; otherwise every second / every cycle). */
  flushSnapshots(): Promise<void>;
  stop(): Promise<void>;
}

export interface CollectorDeps {
  log: Logger;
  /** serve /metrics and /health (default true) */
  http?: boolean;
  env?: NodeJS.ProcessEnv;
  /** what a user changes when the metrics port is taken (default: the configuration keys) */
  listenSettings?: string;
  /** the store to write through, owned by the caller (it opens and closes it); without it, the farm store of REDIS_URL/INFLUX_URL */
  store?: Store;
}

/**
 * The collector daemon: inventory -> scheduler -> (InfluxDB points + rollups, Redis
 * snapshots + aggregates, events). Keeps polling while InfluxDB or Redis is down.
 */
export async function startCollector(config: CollectorConfig, deps: CollectorDeps): Promise<CollectorHandle> {
  const { log } = deps;
  const metrics = createCollectorMetrics();
  registerStoreInfo(metrics.registry, deps.store ?? { backend: config.BOSFLEET_STORE });
  // Listen before connecting anything: a taken port is then one line and nothing to unwind.
  const readiness: ReadinessCheck[] = [];
  let httpPort: number | null = null;
  let closeHttp: (() => Promise<void>) | null = null;
  if (deps.http !== false) {
    const host = config.COLLECTOR_HTTP_HOST;
    const port = config.COLLECTOR_HTTP_PORT;
    try {
      const srv = await startHttpServer({ host, port, registry: metrics.registry, readiness });
      httpPort = srv.port;
      closeHttp = srv.close;
    } catch (err) {
      throw listenError(err, { what: 'the collector metrics server', host, port, settings: deps.listenSettings ?? 'COLLECTOR_HTTP_HOST / COLLECTOR_HTTP_PORT' });
    }
  }
  const collectorId = collectorIdOf(config);
  // Events share the series writer's batches; it is opened from the store, after the store.
  let writerRef: SeriesWriter | null = null;
  const farm = deps.store ? null : await openCollectorFarmStore(config, {
    log,
    metrics,
    collectorId,
    events: { write: points => writerRef?.write(points) },
  });
  const store: Store = deps.store ?? farm!.store;
  const writer = await store.series.openWriter({
    metrics,
    logger: log,
    batchSize: config.INFLUX_BATCH_SIZE,
    flushIntervalMs: config.INFLUX_FLUSH_INTERVAL_MS,
    bufferMaxPoints: config.INFLUX_BUFFER_MAX_POINTS,
    maxRetryDelayMs: config.INFLUX_MAX_RETRY_DELAY_MS,
    concurrency: config.INFLUX_WRITE_CONCURRENCY,
  });
  writerRef = writer;
  // Every closed per-miner window also feeds the fleet rollups (series) and the per-miner
  // window statistics (state) that fleet-wide queries read instead of 10,000 series.
  const fleetRollups = new FleetRollups(writer, { collector: collectorId, graceMs: 2 * config.COLLECTOR_POLL_INTERVAL_MS });
  const state = store.state;
  const windowStats = new WindowStatsWriter(state, { runId: `${collectorId}.${Date.now().toString(36)}`, metrics, logger: log });
  const rollups = new MinerRollups(writer, {
    onWindow: w => {
      fleetRollups.add(w);
      windowStats.add(w);
    },
  });
  const eventLog = store.events;
  const credentials = new CredentialStore({
    env: deps.env ?? process.env,
    defaultUsername: config.MINER_DEFAULT_USERNAME,
    ...(config.MINER_DEFAULT_PASSWORD ? { defaultPassword: config.MINER_DEFAULT_PASSWORD } : {}),
    inventory: store.inventory,
    ...(config.BOSFLEET_SECRET_KEY ? { box: new SecretBox(config.BOSFLEET_SECRET_KEY) } : {}),
  });
  const pool = new MinerClientPool(credentials, { timeoutMs: config.COLLECTOR_RPC_TIMEOUT_MS });

  const fleetParts = new FleetParts();
  const dirty = new Map<string, MinerSnapshot>();
  const observations = new Map<string, MinerObservation>();
  const issueLog = new Map<string, string>();
  const authWarned = new Set<string>();

  const snapshotOf = (t: MinerTracker): MinerSnapshot => ({
    ref: t.ref,
    last_seen_ms: t.lastSeenMs,
    last_poll_ms: t.lastPollMs,
    consecutive_failures: t.failures,
    last_error: t.lastError,
    status: t.status,
    sample: t.lastSample,
    details: t.details,
  });

  const emit = (events: FleetEvent[]): void => {
    if (events.length === 0) return;
    void explainRestarts(events).then(all => eventLog.record(all)).catch(err => log.warn({ err: (err as Error).message, events: events.length }, 'events not stored in Redis; they are in InfluxDB'));
  };

  // A restart right after an audited control action of the product is planned, not a fault.
  const explainRestarts = async (events: FleetEvent[]): Promise<FleetEvent[]> => {
    if (!events.some(isRestartEvent)) return events;
    const e0 = events.find(isRestartEvent)!;
    let actions: AuditedAction[] = [];
    try {
      const recent = await eventLog.recent(e0.tenant, { miner: e0.miner, kind: 'control_action', sinceMs: e0.time_ms - 60 * 60_000, limit: 20 });
      actions = recent
        .filter(a => a.result === undefined || a.result === 'ok')
        .map(a => ({ time_ms: a.time_ms, action: String(a.data?.action ?? a.data?.request ?? 'control'), actor: a.actor ?? null }));
    } catch (err) {
      log.warn({ err: (err as Error).message, miner: e0.miner }, 'control actions not readable (Redis down); the restart is recorded unexplained');
    }
    return events.map(e => attributeRestart(e, actions));
  };

  const observe = (t: MinerTracker, timeMs: number): void => {
    const next: MinerObservation = { status: t.status, sample: t.lastSample, firmware: t.details?.firmware ?? null, uptimeS: t.lastSample?.uptime_s ?? null, systemUptimeS: t.lastSample?.system_uptime_s ?? null };
    const prev = observations.get(t.ref.id) ?? null;
    // Only a fresh sample can tell reboots and board changes apart from old data.
    emit(detectEvents(t.ref, prev, next, timeMs));
    observations.set(t.ref.id, next);
    dirty.set(t.ref.id, snapshotOf(t));
  };

  const sink: PollSink = {
    polled(t, outcome: Extract<PollOutcome, { ok: true }>) {
      const { sample, issues } = outcome.result;
      if (issues.length > 0) {
        const key = issues.join('; ');
        if (issueLog.get(t.ref.id) !== key) log.warn({ miner: t.ref.id, issues }, 'miner reported out-of-range values; rejected or clamped');
        issueLog.set(t.ref.id, key);
      }
      authWarned.delete(t.ref.id);
      applyPolled(t, sample);
      writer.write(samplePoints(sample));
      rollups.addSample(sample);
      observe(t, sample.time_ms);
    },
    missed(t, outcome, timeMs) {
      if (outcome && t.failures === 1) log.debug({ miner: t.ref.id, reason: outcome.reason }, 'poll failed');
      // A wrong password does not fix itself: say so once, until the miner accepts us again.
      if (outcome?.reason === 'auth_rejected' && !authWarned.has(t.ref.id)) {
        authWarned.add(t.ref.id);
        log.warn({ miner: t.ref.id, address: t.ref.address, reason: 'auth_rejected' }, `miner ${t.ref.id} rejected the login (auth_rejected): check the password of credentials "${t.ref.credentials}"`);
      }
      applyMissed(t, scheduler.offlineAfterMisses);
      writer.write([offlinePoint(t.ref, t.lastSample?.model ?? t.details?.model ?? t.ref.labels.model ?? null, timeMs)]);
      rollups.addOffline(t.ref, t.lastSample?.model ?? t.details?.model ?? t.ref.labels.model ?? null, timeMs);
      observe(t, timeMs);
    },
    statusPushed(t, minerStatus) {
      if (!applyPushedStatus(t, minerStatus)) return;
      observe(t, Date.now());
    },
    cycle(trackers: Iterable<MinerTracker>, stats: CycleStats) {
      rollups.flushDue(stats.endedMs, config.COLLECTOR_POLL_INTERVAL_MS);
      fleetRollups.flushDue(stats.endedMs);
      windowStats.prune(stats.endedMs);
      // the open 5-minute windows so far, so windows ending now need no raw per-miner points
      for (const w of rollups.openWindows(WINDOW_RESOLUTIONS['5m'].ms)) windowStats.addOpen(w);
      void windowStats.flush().catch(() => undefined); // logged and re-queued by the writer
      const all = [...trackers].map(snapshotOf);
      const aggregates = fleetParts.complete(computeAggregates(all, stats.endedMs), stats.endedMs);
      for (const a of aggregates) {
        if (a.site === null) continue;
        const l = { tenant: a.tenant, site: a.site };
        for (const st of ['online', 'degraded', 'offline', 'paused', 'stopped'] as const) metrics.fleetMiners.set({ ...l, status: st }, a.by_status[st]);
        metrics.fleetOverheating.set(l, a.overheating);
        metrics.fleetHashrate.set(l, a.hashrate_ghs);
        metrics.fleetHashrateNominal.set(l, a.hashrate_nominal_ghs);
        metrics.fleetPower.set(l, a.power_w);
        metrics.fleetBoardsHashing.set(l, a.boards_hashing);
        metrics.fleetBoardsTotal.set(l, a.boards_total);
      }
      const deadBySite = new Map<string, number>();
      for (const a of aggregates) if (a.site !== null) deadBySite.set(`${a.tenant}\u0000${a.site}`, 0);
      for (const s of all) {
        const key = `${s.ref.tenant}\u0000${s.ref.site}`;
        deadBySite.set(key, (deadBySite.get(key) ?? 0) + (s.sample?.degraded_reasons.includes('pool_dead') && s.status !== 'offline' ? 1 : 0));
      }
      for (const [key, n] of deadBySite) {
        const [tenant, site] = key.split('\u0000') as [string, string];
        metrics.fleetPoolsDead.set({ tenant, site }, n);
      }
      // Every poll (or missed poll) marks its miner dirty, so each snapshot is rewritten once per
      // interval and comes back by itself after a Redis outage; only the aggregates are added here.
      void flushSnapshots(aggregates).catch(() => undefined);
    },
  };

  let flushing: Promise<void> | null = null;
  async function flushSnapshots(aggregates?: ReturnType<typeof computeAggregates>): Promise<void> {
    if (flushing) await flushing;
    const batch = [...dirty.values()];
    dirty.clear();
    flushing = (async () => {
      const t0 = performance.now();
      try {
        if (batch.length > 0) await state.putSnapshots(batch);
        if (aggregates) await state.putAggregates(collectorId, aggregates);
        await state.putHeartbeat(Date.now());
        metrics.storeWriteDuration.observe({ kind: 'state' }, (performance.now() - t0) / 1000);
      } catch (err) {
        // The state port counted the failure (Redis). Put them back unless a newer snapshot of the same miner is already waiting.
        for (const s of batch) if (!dirty.has(s.ref.id)) dirty.set(s.ref.id, s);
        throw err;
      }
    })().finally(() => {
      flushing = null;
    });
    await flushing;
  }

  // Set once the inventory exists; polls start after that.
  let identity: DeviceIdentity | null = null;
  const scheduler = createMinerPoller(config.COLLECTOR_POLL_THREADS, {
    intervalMs: config.COLLECTOR_POLL_INTERVAL_MS,
    concurrency: config.COLLECTOR_CONCURRENCY,
    offlineAfterMisses: config.COLLECTOR_OFFLINE_AFTER_MISSES,
    backoffMaxMs: config.COLLECTOR_BACKOFF_MAX_MS,
    statusStream: config.COLLECTOR_STATUS_STREAM,
    poll: { detailsIntervalMs: config.COLLECTOR_DETAILS_INTERVAL_MS, fallbackHotTempC: config.COLLECTOR_HOT_TEMP_C, lowHashratePct: config.COLLECTOR_LOW_HASHRATE_PCT },
    pool,
    sink,
    admit: t => (identity && t.details ? identity.admit(t.inv, t.details) : Promise.resolve(true)),
    // A lease that ran out while this process stalled: no poll until it is renewed (timers may run late).
    mayPoll: id => leases?.owns(id) ?? true,
    pollableUntilMs: () => leases?.pollableUntilMs() ?? Infinity,
    metrics,
    log,
  }, { credentials, rpcTimeoutMs: config.COLLECTOR_RPC_TIMEOUT_MS });

  const inventory = new InventoryManager({
    ...(config.COLLECTOR_INVENTORY_FILE ? { filePath: config.COLLECTOR_INVENTORY_FILE } : {}),
    store,
    credentials,
    log,
    metrics,
    scanConcurrency: config.COLLECTOR_SCAN_CONCURRENCY,
    scanTimeoutMs: config.COLLECTOR_SCAN_TIMEOUT_MS,
    defaults: { tenant: 'default', site: 'default', credentials: 'default', port: 50_051 },
    policy: new CredentialPolicy(config.MINER_SHARED_CREDENTIALS),
  });
  identity = new DeviceIdentity({ store: store.inventory, inventory, log });
  // Which miners this process polls: a static COLLECTOR_SHARD, else its leased share (collector/leases/).
  const shard = parseShard(config.COLLECTOR_SHARD);
  let inventoried: InventoryMiner[] = [];
  const applyInventory = (): void => {
    const all = inventoried;
    const miners = shard.count > 1 ? all.filter(m => inShard(m.id, shard)) : leases ? all.filter(m => leases.holds(m.id)) : all;
    const before = new Set(scheduler.trackers.keys());
    scheduler.setInventory(miners);
    const ids = new Set(miners.map(m => m.id));
    state.readmit(ids);
    const listed = new Set(all.map(m => m.id));
    for (const id of before) {
      if (!ids.has(id)) {
        identity?.forget(id);
        rollups.forget(id);
        observations.delete(id);
        // A miner handed to another collector keeps its snapshot: that collector writes it now.
        if (!listed.has(id)) void state.removeMiner(id).catch(() => undefined);
      }
    }
  };
  const leases = shard.count > 1 ? null : startLeases(config, { store, log, metrics, collectorId, inventory: () => inventoried, onChange: () => applyInventory() });
  await leases?.start();
  inventory.onChange(all => {
    inventoried = all;
    leases?.setMiners(all.map(m => m.id));
    applyInventory();
  });
  await inventory.start();

  const snapshotTimer = setInterval(() => void flushSnapshots().catch(() => undefined), 1_000);
  scheduler.start();

  async function stop(): Promise<void> {
    clearInterval(snapshotTimer);
    await inventory.close();
    await scheduler.stop();
    await leases?.stop();
    rollups.flushAll();
    fleetRollups.flushAll();
    await windowStats.flush().catch(() => undefined);
    await flushSnapshots(fleetParts.complete(computeAggregates([...scheduler.trackers.values()].map(snapshotOf), Date.now()), Date.now())).catch(err =>
      log.warn({ err: (err as Error).message }, 'final snapshot flush failed (Redis down); snapshots are rebuilt on the next start'),
    );
    await writer.close({ timeoutMs: 30_000 });
    pool.closeAll();
    await closeHttp?.();
    await farm?.store.close();
    log.info('collector stopped');
  }

  readiness.push(
    { name: 'store', check: async () => (await store.ping(1_500)).every(p => p.status !== 'down') },
    { name: 'inventory', check: async () => inventory.loaded },
  );
  log.info({ miners: scheduler.trackers.size, intervalMs: config.COLLECTOR_POLL_INTERVAL_MS, concurrency: config.COLLECTOR_CONCURRENCY, metricsPort: httpPort }, 'collector started');

  return {
    scheduler,
    writer,
    state,
    metrics,
    inventory,
    store,
    httpPort,
    flushSnapshots: () => flushSnapshots(fleetParts.complete(computeAggregates([...scheduler.trackers.values()].map(snapshotOf), Date.now()), Date.now())),
    stop,
  };
}

/**
 * The farm store a standalone `bos-fleet collector` writes through: its own Redis connection
 * (polling goes on while Redis is down; snapshots are rebuilt once it is back), the state port
 * counting into the collector's metrics, events batched with the collector's series writer.
 */
async function openCollectorFarmStore(
  config: CollectorConfig,
  o: { log: Logger; metrics: CollectorMetrics; collectorId: string; events: { write(points: readonly SeriesPoint[]): void } },
): Promise<{ store: InfluxRedisStore }> {
  const keys = redisKeys(config.REDIS_PREFIX);
  const redis = createRedis(config.REDIS_URL, { logger: o.log, name: 'bosfleet-collector' });
  if (!(await waitForRedis(redis, 5_000))) o.log.warn('Redis not reachable at start; continuing, snapshots will be written once it is back');
  const store = influxRedisStoreOver({
    redis,
    keys,
    influx: new InfluxClient(influxSettingsFrom(config)),
    log: o.log,
    state: { metrics: o.metrics, logger: o.log, collectorId: o.collectorId },
    events: { writer: o.events, maxLen: config.COLLECTOR_EVENTS_MAXLEN, metrics: o.metrics },
  });
  return { store };
}
