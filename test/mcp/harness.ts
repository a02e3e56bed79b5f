/**
 * A realistic MCP test bed on real services: a simulated fleet (real gRPC on loopback), the
 * real collector polling it every second into a fresh store of the backend asked for (embedded
 * SQLite in a temp folder, or the test InfluxDB and Redis under a fresh prefix and database), a
 * few hours of extra history written through the store's series writer, and the services MCP
 * runs on (FleetQuery + control plane with jobs, over api/infra.ts's createInfra on that store,
 * as the one-process runtime builds them).
 *
 * `connect(caller)` returns a real MCP Client talking to buildMcpServer in-process through
 * createMcpHandler's web-standard fetch (no port, no mock transport).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { inject } from 'vitest';
import { loadApiConfig, type ApiConfig } from '../../api/config.ts';
import type { Caller } from '../../services/context.ts';
import { createControlPlane, type ControlPlane } from '../../services/control/index.ts';
import { FleetQuery } from '../../services/query/fleet-query.ts';
import { startCollector, type CollectorHandle } from '../../collector/collector-service.ts';
import { parseConfig } from '../../runtime/config-loader.ts';
import { collectorConfigSchema } from '../../collector/config.ts';
import { silentLogger } from '../../runtime/logger.ts';
import { MEASUREMENTS } from '../../core/samples.ts';
import type { McpDeps } from '../../mcp/define-tool.ts';
import { createInfra } from '../../api/infra.ts';
import type { StoreBackend } from '../../store/store.ts';
import type { SeriesPoint } from '../../store/ports/series.ts';
import { farmOf, openTestStore, type TestStore } from '../store/backends.ts';
import { buildMcpServer, type BuildOptions } from '../../mcp/server.ts';
import { startSimulator, type SimulatedFleet, type SimulatorOptions } from '../../simulator/index.ts';
import { waitForFirstPolls } from '../collector/first-polls.ts';
import { rollupPoint } from './seed.ts';

export interface McpHarness {
  fleet: SimulatedFleet;
  collector: CollectorHandle;
  deps: McpDeps;
  plane: ControlPlane;
  config: ApiConfig;
  backend: StoreBackend;
  /** the store the collector writes and the services read; pass it to startApiServer as `store` */
  store: TestStore;
  tenant: string;
  viewer: Caller;
  operator: Caller;
  admin: Caller;
  /** env for a `bos-fleet mcp` child process on the same stores (farm only: an embedded data folder has one process) */
  env: Record<string, string>;
  /** A client of the 2026-07-28 era (per-request streams, cancellation by aborting them); `legacy: true` for a 2025-era client. */
  connect(caller: Caller, options?: BuildOptions & { legacy?: boolean }): Promise<Client>;
  close(): Promise<void>;
}

export const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms));

let block = 0;
function baseAddress(): string {
  block++;
  return `127.${60 + ((process.pid + block) % 40)}.${Math.floor(Math.random() * 250)}.1`;
}

export async function startMcpHarness(
  o: { backend?: StoreBackend; sim?: SimulatorOptions; collectSeconds?: number } = {},
): Promise<McpHarness> {
  const backend = o.backend ?? 'influx-redis';
  const store = await openTestStore(backend);
  const fleet = await startSimulator({
    miners: 10,
    seed: 21,
    tenants: 1,
    sites: 2,
    models: 's19jpro:50,s21:50',
    faults: 'unreachable:1,hashboard_failure:1',
    rebootMs: 700,
    warmupMs: 200,
    retuneMs: 200,
    thermalTauMs: 500,
    cacheMs: 0,
    baseAddress: baseAddress(),
    ...o.sim,
  });
  const dir = mkdtempSync(join(tmpdir(), 'mcp-it-'));
  const inventoryFile = join(dir, 'inventory.yaml');
  await fleet.writeInventory(inventoryFile);
  const influxUrl = inject('influxUrl');
  const redisUrl = inject('redisUrl');
  const farm = backend === 'influx-redis' ? farmOf(store) : null;
  const secret = randomBytes(32).toString('base64');

  const collector = await startCollector(
    parseConfig(collectorConfigSchema, {
      INFLUX_URL: influxUrl,
      REDIS_URL: redisUrl,
      COLLECTOR_INVENTORY_FILE: inventoryFile,
      COLLECTOR_POLL_INTERVAL_MS: '1000',
      COLLECTOR_RPC_TIMEOUT_MS: '800',
      COLLECTOR_OFFLINE_AFTER_MISSES: '2',
      COLLECTOR_HTTP_PORT: '0',
      INFLUX_FLUSH_INTERVAL_MS: '200',
      BOSFLEET_SECRET_KEY: secret,
    }),
    { store, log: silentLogger(), http: false, env: { ...process.env, MINER_PASSWORD: 'root' } },
  );
  await sleep((o.collectSeconds ?? 4) * 1_000);
  await waitForFirstPolls(collector);
  await collector.flushSnapshots();
  await collector.writer.flush();

  // History beyond what the collector wrote: 3 h of 1m rollups, 48 h of 1h rollups, from each
  // miner's ground truth, ending 2 minutes ago (the collector owns the current minute).
  const now = Date.now();
  const seed: SeriesPoint[] = [];
  for (const m of fleet.miners) {
    const t = fleet.truth(m.id);
    const ref = { id: m.id, tenant: m.tenant, site: m.site, address: m.address, credentials: 'default', labels: {} };
    const v = {
      hashrate_ghs: t.reachable ? t.hashrate_ghs : 0,
      hashrate_nominal_ghs: t.hashrate_nominal_ghs,
      power_w: t.power_w,
      temp_chip_max_c: t.temp_chip_max_c,
      up: t.reachable ? 1 : 0,
    };
    for (let k = 180; k >= 2; k--)
      seed.push(rollupPoint(MEASUREMENTS.miner1m, ref, t.model, Math.floor((now - k * 60_000) / 60_000) * 60_000, v, 60));
    for (let h = 48; h >= 1; h--)
      seed.push(rollupPoint(MEASUREMENTS.miner1h, ref, t.model, Math.floor((now - h * 3_600_000) / 3_600_000) * 3_600_000, v, 3_600));
  }
  const w = await store.series.openWriter({ batchSize: 5_000, flushIntervalMs: 100 });
  w.write(seed);
  await w.flush();
  await w.close();

  const env: Record<string, string> = {
    INFLUX_URL: influxUrl,
    REDIS_URL: redisUrl,
    ...(farm
      ? { BOSFLEET_STORE: 'influx-redis', INFLUX_DB: farm.influx.settings.db, REDIS_PREFIX: farm.keys.prefix }
      : { BOSFLEET_STORE: 'embedded', BOSFLEET_DATA_DIR: dirname(store.location) }),
    COLLECTOR_POLL_INTERVAL_MS: '1000',
    MINER_RPC_TIMEOUT_MS: '1500',
    MINER_DEFAULT_PASSWORD: 'root',
    BOSFLEET_SECRET_KEY: secret,
    JOBS_CONCURRENCY: '8',
    FIRMWARE_DIR: join(dir, 'firmware'),
    FIRMWARE_MINER_TIMEOUT_MS: '15000',
    LOG_LEVEL: 'silent',
  };
  const config = loadApiConfig({ ...env, AUTH_MODE: 'none' });
  const log = silentLogger();
  const handle = createInfra(config, log, 'bosfleet-mcp-test', { store });
  const { infra } = handle;
  const fleetQuery = new FleetQuery({ store, log }, { pollIntervalMs: 1_000 });
  const plane = createControlPlane(infra, {
    jobs: { lockDurationMs: 2_000, stalledIntervalMs: 1_000, commandPollMs: 100, progressIntervalMs: 50 },
    schedules: { tickMs: 200, reloadMs: 1_000 },
  });
  await plane.start();
  const deps: McpDeps = { fleetQuery, plane, infra };
  const tenant = fleet.miners[0]!.tenant;
  const clients: Client[] = [];

  return {
    fleet,
    collector,
    deps,
    plane,
    config,
    backend,
    store,
    tenant,
    viewer: { sub: 'vera@example.com', tenant, roles: ['viewer'] },
    operator: { sub: 'otto@example.com', tenant, roles: ['operator'] },
    admin: { sub: 'ada@example.com', tenant, roles: ['admin'] },
    env,
    async connect(caller, options = {}) {
      const { legacy, ...build } = options;
      const handler = createMcpHandler(() => buildMcpServer(deps, caller, { log, ...build }));
      const client = new Client(
        { name: 'bos-fleet-test', version: '1.0.0' },
        legacy ? {} : { versionNegotiation: { mode: 'auto' } },
      );
      const transport = new StreamableHTTPClientTransport(new URL('http://mcp.test/mcp'), {
        fetch: (url, init) => handler.fetch(new Request(url, init)),
      });
      await client.connect(transport);
      clients.push(client);
      return client;
    },
    async close() {
      for (const c of clients) await c.close().catch(() => undefined);
      await plane.close({ force: true }).catch(() => undefined);
      await collector.stop().catch(() => undefined);
      await fleet.stop();
      await fleetQuery.close();
      await handle.close();
      await store.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
