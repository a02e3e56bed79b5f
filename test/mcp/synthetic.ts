import { farmOf } from '../store/backends.ts';
import { influxRedisStoreOver } from '../../store/influx-redis/index.ts';
/**
 * An MCP server over a large stored fleet without simulated miners: `seedSynthetic` writes the
 * snapshots, aggregates, raw points, rollups and events of n miners into a fresh InfluxDB
 * database and Redis prefix, and the services MCP runs on are built over them (the same
 * createMcpInfra as the stdio server). Used by the size-bound test and bench/mcp/run.ts.
 */
import { randomUUID } from 'node:crypto';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { loadApiConfig } from '../../api/config.ts';
import type { Caller } from '../../services/context.ts';
import { createControlPlane, type ControlPlane } from '../../services/control/index.ts';
import { FleetQuery } from '../../services/query/fleet-query.ts';
import { InfluxClient } from '../../store/influx-redis/influx-client.ts';
import { silentLogger } from '../../runtime/logger.ts';
import { waitForRedis } from '../../store/influx-redis/redis-connection.ts';
import type { McpDeps } from '../../mcp/define-tool.ts';
import { createMcpInfra } from '../../mcp/runtime.ts';
import { buildMcpServer } from '../../mcp/server.ts';
import { seedSynthetic, syntheticFleet, type SeedOptions, type SyntheticMiner } from './seed.ts';

export interface SyntheticMcp {
  deps: McpDeps;
  plane: ControlPlane;
  miners: SyntheticMiner[];
  tenant: string;
  viewer: Caller;
  operator: Caller;
  lines: number;
  seedMs: number;
  connect(caller: Caller): Promise<Client>;
  close(): Promise<void>;
}

export async function startSyntheticMcp(o: {
  n: number;
  influxUrl: string;
  redisUrl: string;
  seed?: Partial<Omit<SeedOptions, 'redis' | 'keys' | 'influxUrl' | 'db' | 'miners' | 'nowMs'>>;
  /** the collector's poll interval the stored raw points correspond to */
  pollIntervalMs?: number;
  runWorker?: boolean;
}): Promise<SyntheticMcp> {
  const db = `mcpsyn_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const prefix = `test-mcpsyn-${randomUUID()}`;
  const config = loadApiConfig({
    INFLUX_URL: o.influxUrl,
    INFLUX_DB: db,
    REDIS_URL: o.redisUrl,
    REDIS_PREFIX: prefix,
    AUTH_MODE: 'none',
    MINER_RPC_TIMEOUT_MS: '500',
    JOBS_CONCURRENCY: '64',
    LOG_LEVEL: 'silent',
  });
  const log = silentLogger();
  const handle = createMcpInfra(config, log, 'bosfleet-mcp-synthetic');
  const { infra } = handle;
  if (!(await waitForRedis(farmOf(infra.store).redis, 10_000))) throw new Error('Redis is not reachable');
  const tenant = 'acme';
  const miners = syntheticFleet(o.n, tenant);
  const t0 = Date.now();
  const { lines } = await seedSynthetic({
    redis: farmOf(infra.store).redis,
    keys: farmOf(infra.store).keys,
    influxUrl: o.influxUrl,
    db,
    miners,
    nowMs: Date.now(),
    inventoryAt: { host: '127.0.0.1', port: 9 },
    ...o.seed,
  });
  const seedMs = Date.now() - t0;
  const fleetQuery = new FleetQuery({ store: influxRedisStoreOver({ redis: farmOf(infra.store).redis, keys: farmOf(infra.store).keys, influx: farmOf(infra.store).influx }), log },
    { pollIntervalMs: o.pollIntervalMs ?? 60_000 },
  );
  const plane = createControlPlane(infra, {
    audit: { record: async () => undefined },
    jobs: { runWorker: o.runWorker ?? false, progressIntervalMs: 50, commandPollMs: 100 },
    schedules: { enabled: false },
  });
  if (o.runWorker) await plane.start();
  const deps: McpDeps = { fleetQuery, plane, infra };
  const clients: Client[] = [];
  return {
    deps,
    plane,
    miners,
    tenant,
    viewer: { sub: 'vera', tenant, roles: ['viewer'] },
    operator: { sub: 'otto', tenant, roles: ['operator'] },
    lines,
    seedMs,
    async connect(caller) {
      const handler = createMcpHandler(() => buildMcpServer(deps, caller, { log }));
      const client = new Client({ name: 'synthetic', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
      await client.connect(
        new StreamableHTTPClientTransport(new URL('http://mcp.local/mcp'), { fetch: (url, init) => handler.fetch(new Request(url, init)) }),
      );
      clients.push(client);
      return client;
    },
    async close() {
      for (const c of clients) await c.close().catch(() => undefined);
      await plane.close({ force: true }).catch(() => undefined);
      const stale = await farmOf(infra.store).redis.keys(`${prefix}:*`).catch(() => [] as string[]);
      for (let i = 0; i < stale.length; i += 500) await farmOf(infra.store).redis.del(...stale.slice(i, i + 500)).catch(() => undefined);
      await new InfluxClient({ url: o.influxUrl, db, auth: 'none', flavour: '1' }).query(`DROP DATABASE "${db}"`).catch(() => undefined);
      await handle.close();
    },
  };
}

/** The default call of every read tool (the arguments a model would start with). */
export function defaultReadCalls(miners: readonly SyntheticMiner[], jobId: string | null): { name: string; args: Record<string, unknown> }[] {
  const someId = miners[Math.floor(miners.length / 2)]!.ref.id;
  return [
    { name: 'fleet_overview', args: {} },
    { name: 'list_miners', args: {} },
    { name: 'get_miner', args: { miner: someId } },
    { name: 'get_miner_config', args: { miner: someId } },
    { name: 'ping_miner', args: { miner: someId } },
    { name: 'get_miner_logs', args: { miner: someId } },
    { name: 'diagnose_miner', args: { miner: someId } },
    { name: 'query_telemetry', args: {} },
    { name: 'query_telemetry', args: { miners: [someId] } },
    { name: 'find_underperformers', args: {} },
    { name: 'find_hot_spots', args: {} },
    { name: 'efficiency_report', args: {} },
    { name: 'compare_periods', args: { a_from: 'now-48h', a_to: 'now-24h', b_from: 'now-24h', b_to: 'now' } },
    { name: 'availability_report', args: {} },
    { name: 'pool_health', args: {} },
    { name: 'get_events', args: {} },
    { name: 'list_jobs', args: {} },
    ...(jobId ? [{ name: 'get_job', args: { id: jobId } }] : []),
    { name: 'list_power_schedules', args: {} },
    { name: 'get_profitability', args: { hashprice_per_ths_day: 0.05, energy_price_per_mwh: 60 } },
    { name: 'find_losing_miners', args: { hashprice_per_ths_day: 0.05, energy_price_per_mwh: 60 } },
    { name: 'get_break_even', args: { hashprice_per_ths_day: 0.05 } },
    { name: 'list_curtailment_policies', args: {} },
    { name: 'plan_curtailment', args: { policy_id: SYNTHETIC_POLICY_ID } },
  ];
}

/** The curtailment policy the size test and bench/mcp create, so plan_curtailment has a whole site to plan. */
export const SYNTHETIC_POLICY_ID = 'evening-peak';

/** A disabled policy over one site with an evening peak every day (a tariff: no price feed needed). */
export async function createSyntheticPolicy(plane: ControlPlane, operator: Caller, site: string): Promise<void> {
  await plane.energy.putPolicy(operator, {
    id: SYNTHETIC_POLICY_ID,
    selector: { site },
    currency: 'USD',
    strike_price_per_mwh: 100,
    target: { kind: 'reduce_percent', percent: 30 },
    ramp_kw_per_min: 200,
    enabled: false,
    price_source: { kind: 'tariff', tariff: { currency: 'USD', default_price_per_mwh: 60, periods: [{ from_hour: 17, to_hour: 21, price_per_mwh: 150 }] } },
  });
}
