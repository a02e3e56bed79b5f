import { influxRedisStoreOver } from '../../../store/influx-redis/index.ts';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { inject } from 'vitest';
import { CredentialStore } from '../../../collector/credentials.ts';
import { InfluxRedisEvents } from '../../../store/influx-redis/events.ts';
import { InfluxClient } from '../../../store/influx-redis/influx-client.ts';
import { InfluxWriter } from '../../../store/influx-redis/influx-writer.ts';
import { influxSeriesWriter } from '../../../store/influx-redis/series.ts';
import type { InventoryMiner } from '../../../collector/inventory/schema.ts';
import { silentLogger } from '../../../runtime/logger.ts';
import { createCollectorMetrics } from '../../../collector/metrics.ts';
import { MinerClientPool } from '../../../collector/miner-client-pool.ts';
import { MinerTracker, pollMiner } from '../../../collector/poller.ts';
import { redisKeys, type RedisKeys } from '../../../store/influx-redis/redis-keys.ts';
import type { MinerSnapshot } from '../../../core/samples.ts';
import { SecretBox } from '../../../collector/secret-box.ts';
import { SnapshotStore } from '../../../store/influx-redis/snapshot-store.ts';
import { loadApiConfig } from '../../../api/config.ts';
import type { ApiInfra, Caller } from '../../../services/context.ts';
import {
  createControlPlane,
  type ControlPlane,
  type ControlPlaneOptions,
} from '../../../services/control/index.ts';
import { startSimulator, type SimulatedFleet, type SimulatorOptions } from '../../../simulator/index.ts';

/**
 * Real pieces for control-half integration tests: a simulated fleet (real gRPC on loopback),
 * the test Redis (random key prefix) and InfluxDB (fresh database), the real credential store,
 * miner client pool and InfluxRedisEvents, and the control plane (jobs, schedules, rollouts, inventory).
 *
 * The collector is not running: the harness writes what the collector would have written — the
 * resolved inventory of the simulated miners and one real poll of each (collector/poller.ts)
 * as their snapshots.
 */
export interface Harness {
  fleet: SimulatedFleet;
  infra: ApiInfra;
  keys: RedisKeys;
  redis: Redis;
  influx: InfluxClient;
  writer: InfluxWriter;
  events: InfluxRedisEvents;
  plane: ControlPlane;
  tenant: string;
  operator: Caller;
  admin: Caller;
  viewer: Caller;
  firmwareDir: string;
  /**
   * a fresh control plane on the same Redis and fleet (another replica, or the API after a
   * restart); `over` replaces parts of its infrastructure (a store port that fails on purpose)
   */
  newPlane(o?: Partial<ControlPlaneOptions>, over?: Partial<ApiInfra>): ControlPlane;
  /** poll every simulated miner once and store the snapshots */
  refreshSnapshots(): Promise<void>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  sim?: SimulatorOptions;
  plane?: Partial<ControlPlaneOptions>;
  env?: Record<string, string>;
}

let block = 0;

/** A loopback /16 of our own per harness, so parallel test processes do not collide on addresses. */
function baseAddress(): string {
  block++;
  return `127.${100 + ((process.pid + block) % 100)}.${Math.floor(Math.random() * 250)}.1`;
}

export async function startHarness(o: HarnessOptions = {}): Promise<Harness> {
  const fleet = await startSimulator({
    seed: 5,
    rebootMs: 600,
    warmupMs: 200,
    retuneMs: 200,
    cacheMs: 0,
    baseAddress: baseAddress(),
    ...o.sim,
  });
  const prefix = `test:${randomUUID()}`;
  const keys = redisKeys(prefix);
  const redisUrl = inject('redisUrl');
  const influxUrl = inject('influxUrl');
  const db = `t_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const firmwareDir = mkdtempSync(join(tmpdir(), 'bosfleet-fw-'));
  const config = loadApiConfig({
    REDIS_URL: redisUrl,
    INFLUX_URL: influxUrl,
    INFLUX_DB: db,
    FIRMWARE_DIR: firmwareDir,
    JOBS_CONCURRENCY: '8',
    MINER_RPC_TIMEOUT_MS: '1500',
    FIRMWARE_MINER_TIMEOUT_MS: '15000',
    BOSFLEET_SECRET_KEY: randomBytes(32).toString('base64'),
    AUTH_MODE: 'none',
    LOG_LEVEL: 'silent',
    ...o.env,
  });
  const log = silentLogger();
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  const influx = new InfluxClient({ url: influxUrl, db, auth: 'none', flavour: '1' });
  await influx.ensureDatabase();
  const writer = new InfluxWriter({
    settings: { url: influxUrl, db, auth: 'none', flavour: '1' },
    metrics: createCollectorMetrics(new Registry()),
    batchSize: 1_000,
    flushIntervalMs: 100,
    bufferMaxPoints: 100_000,
    maxRetryDelayMs: 1_000,
  });
  await writer.start();
  const events = new InfluxRedisEvents({ writer: influxSeriesWriter(writer), redis, keys, maxLen: 100_000 });
  const store = influxRedisStoreOver({ redis, keys, influx, firmwareDir });
  const credentials = new CredentialStore({
    inventory: store.inventory,
    box: new SecretBox(config.BOSFLEET_SECRET_KEY!),
    defaultUsername: 'root',
    defaultPassword: 'root',
  });
  const minerPool = new MinerClientPool(credentials, { timeoutMs: config.MINER_RPC_TIMEOUT_MS });
  const infra: ApiInfra = { config, log, store, minerPool, credentials };

  const inventory: InventoryMiner[] = fleet.miners.map(m => ({
    id: m.id,
    host: m.host,
    port: m.port,
    tenant: m.tenant,
    site: m.site,
    credentials: 'default',
    labels: { rack: m.rack, model_key: m.model },
    source: 'file',
  }));
  await redis.hset(
    keys.resolvedInventory(),
    Object.fromEntries(inventory.map(m => [m.id, JSON.stringify(m)])),
  );

  const snapshots = new SnapshotStore(redis, keys);
  const trackers = new Map(inventory.map(m => [m.id, new MinerTracker(m)]));
  const refreshSnapshots = async (): Promise<void> => {
    const out: MinerSnapshot[] = [];
    await Promise.all(
      inventory.map(async m => {
        const t = trackers.get(m.id)!;
        t.needDetails = true;
        const client = minerPool.get({ id: m.id, host: m.host, port: m.port, credentials: m.credentials });
        const r = await pollMiner(t, client, {
          detailsIntervalMs: 0,
          fallbackHotTempC: 90,
          lowHashratePct: 90,
          streamActive: false,
        });
        const now = Date.now();
        out.push(
          r.ok
            ? {
                ref: t.ref,
                last_seen_ms: now,
                last_poll_ms: now,
                consecutive_failures: 0,
                last_error: null,
                status: r.result.sample.status,
                sample: r.result.sample,
                details: t.details,
              }
            : {
                ref: t.ref,
                last_seen_ms: null,
                last_poll_ms: now,
                consecutive_failures: 1,
                last_error: r.reason,
                status: 'offline',
                sample: null,
                details: t.details,
              },
        );
      }),
    );
    await snapshots.writeSnapshots(out);
  };
  await refreshSnapshots();

  const planOptions = (extra: Partial<ControlPlaneOptions> = {}): ControlPlaneOptions => ({
    audit: events,
    ...o.plane,
    ...extra,
    jobs: {
      lockDurationMs: 2_000,
      stalledIntervalMs: 1_000,
      commandPollMs: 100,
      progressIntervalMs: 50,
      ...o.plane?.jobs,
      ...extra.jobs,
    },
    schedules: { tickMs: 200, reloadMs: 1_000, ...o.plane?.schedules, ...extra.schedules },
  });
  const planes: ControlPlane[] = [];
  const newPlane = (extra?: Partial<ControlPlaneOptions>, over?: Partial<ApiInfra>): ControlPlane => {
    const p = createControlPlane({ ...infra, ...over }, planOptions(extra));
    planes.push(p);
    return p;
  };
  const plane = newPlane();
  await plane.start();
  const tenant = fleet.miners[0]!.tenant;
  return {
    fleet,
    infra,
    keys,
    redis,
    influx,
    writer,
    events,
    plane,
    tenant,
    operator: { sub: 'alice@example.com', tenant, roles: ['operator'] },
    admin: { sub: 'root@example.com', tenant, roles: ['admin'] },
    viewer: { sub: 'bob@example.com', tenant, roles: ['viewer'] },
    firmwareDir,
    newPlane,
    refreshSnapshots,
    async close() {
      for (const p of planes) await p.close({ force: true }).catch(() => undefined);
      await writer.close({ timeoutMs: 2_000 }).catch(() => undefined);
      minerPool.closeAll();
      await fleet.stop();
      const stale = await redis.keys(`${prefix}:*`).catch(() => [] as string[]);
      for (let i = 0; i < stale.length; i += 500)
        await redis.del(...stale.slice(i, i + 500)).catch(() => undefined);
      await influx.query(`DROP DATABASE "${db}"`).catch(() => undefined);
      redis.disconnect();
      rmSync(firmwareDir, { recursive: true, force: true });
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms));

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes (then throws with `what`). */
export async function waitFor<T>(
  what: string,
  fn: () => T | Promise<T>,
  timeoutMs = 20_000,
  everyMs = 100,
): Promise<Exclude<T, null | undefined | false | 0 | ''>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as Exclude<T, null | undefined | false | 0 | ''>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}
