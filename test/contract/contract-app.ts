import { influxRedisStoreOver } from '../../store/influx-redis/index.ts';
/**
 * The whole API as a client meets it, for the contract suites (fuzz and cross-tenant): the
 * control harness's simulated fleet (real gRPC on loopback, real Redis and InfluxDB, real
 * control plane) split over two tenants, the real app (api/app.ts) with every control route
 * and MCP over Streamable HTTP at /mcp, listening on 127.0.0.1, real ES256 JWTs.
 *
 * Control routes act on simulated miners only: nothing a fuzzed call does can reach hardware.
 */
import type { FastifyInstance } from 'fastify';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { buildApp } from '../../api/app.ts';
import { controlRoutePlugins } from '../../services/control/index.ts';
import { FleetQuery } from '../../services/query/fleet-query.ts';
import { mcpRoutes } from '../../api/routes/mcp.ts';
import { testKeys, type TestKeys } from '../api/app/helpers.ts';
import { startHarness, type Harness } from '../services/control/harness.ts';
import { buildFirmwareImage } from '../../simulator/index.ts';

export type Role = 'viewer' | 'operator' | 'admin';

export interface ContractApp {
  h: Harness;
  app: FastifyInstance;
  base: string;
  keys: TestKeys;
  /** tenant-1 and tenant-2 of the simulated fleet, each with its miner ids */
  tenants: { name: string; miners: string[] }[];
  token(tenant: string, role: Role): Promise<string>;
  mcp(tenant: string, role: Role): Promise<Client>;
  /** a plain REST call as `tenant`/`role` (JSON body) */
  rest(tenant: string, role: Role, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }>;
  /** a job, a schedule, a firmware image and a named credential of `tenant`, made through the API */
  seedObjects(tenant: string): Promise<TenantObjects>;
  close(): Promise<void>;
}

export interface TenantObjects {
  miners: string[];
  jobId: string;
  /** a curtailment policy of the tenant, and an execution (a demand-response signal far in the future) */
  energyPolicyId: string;
  energyExecutionId: string;
  scheduleId: string;
  imageSha256: string;
  credentialName: string;
}

export async function startContractApp(o: { miners?: number } = {}): Promise<ContractApp> {
  const keys = await testKeys('ES256');
  const h = await startHarness({
    sim: { miners: o.miners ?? 8, sites: 2, rackSize: 2, tenants: 2, seed: 15 },
    env: {
      AUTH_MODE: 'jwt',
      AUTH_PUBLIC_KEY: keys.publicPem,
      // The suites make thousands of calls: limits must not be what answers them.
      RATE_LIMIT_MAX: '1000000',
      RATE_LIMIT_CONTROL_MAX: '1000000',
      RATE_LIMIT_AUTH_FAILURES_MAX: '1000000',
      MCP_ALLOWED_HOSTS: '127.0.0.1,localhost',
    },
  });
  const fleetQuery = new FleetQuery({ store: influxRedisStoreOver({ redis: h.redis, keys: h.keys, influx: h.influx }), log: h.infra.log });
  const app = await buildApp({
    infra: h.infra,
    fleetQuery,
    extraRoutes: controlRoutePlugins(h.plane, { sse: { pollMs: 50, heartbeatMs: 1_000 } }),
  });
  await app.register(mcpRoutes, { fleetQuery, plane: h.plane });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const byTenant = new Map<string, string[]>();
  for (const m of h.fleet.miners) byTenant.set(m.tenant, [...(byTenant.get(m.tenant) ?? []), m.id]);
  const tenants = [...byTenant.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, miners]) => ({ name, miners }));
  if (tenants.length < 2) throw new Error(`the contract fleet needs two tenants, got ${tenants.length}`);
  const clients: Client[] = [];
  const token = (tenant: string, role: Role): Promise<string> =>
    keys.token({ tenant, roles: [role] }, { sub: `${role}@${tenant}.example.com` });
  const rest: ContractApp['rest'] = async (tenant, role, method, path, body) => {
    const r = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${await token(tenant, role)}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(20_000),
    });
    const text = await r.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: r.status, json };
  };
  let imageCounter = 0;
  const seedObjects = async (tenant: string): Promise<TenantObjects> => {
    const must = (what: string, r: { status: number; json: unknown }, ok: number[]): Record<string, unknown> => {
      if (!ok.includes(r.status)) throw new Error(`seeding ${what} for ${tenant}: ${r.status} ${JSON.stringify(r.json)}`);
      return r.json as Record<string, unknown>;
    };
    const job = must('a job', await rest(tenant, 'operator', 'POST', '/api/v1/control/actions', { selector: { all: true }, action: 'locate_off' }), [202]);
    const schedule = must(
      'a schedule',
      await rest(tenant, 'operator', 'POST', '/api/v1/schedules', {
        name: `contract ${tenant}`,
        selector: { all: true },
        cron: '0 3 1 1 *',
        duration_ms: 60_000,
        action: { type: 'pause' },
      }),
      [200, 201],
    );
    imageCounter++;
    const version = `2026-0${imageCounter}-01-0-0000000${imageCounter}-26.0${imageCounter}-plus`;
    const up = await fetch(`${base}/api/v1/firmware/images?name=fw-${tenant}.img&version=${version}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await token(tenant, 'admin')}`, 'content-type': 'application/octet-stream' },
      body: buildFirmwareImage({ version }),
    });
    const image = must('a firmware image', { status: up.status, json: await up.json() }, [200, 201]);
    const energyPolicyId = `contract-${tenant}`;
    must('a curtailment policy', await rest(tenant, 'operator', 'PUT', `/api/v1/energy/policies/${energyPolicyId}`, {
      selector: {},
      currency: 'EUR',
      strike_price_per_mwh: 100,
      target: { kind: 'reduce_percent', percent: 10 },
      ramp_kw_per_min: 100,
      enabled: false,
    }), [200]);
    const signal = must('a demand-response execution', await rest(tenant, 'operator', 'POST', '/api/v1/energy/demand-response', {
      signal: { id: `contract-${tenant}`, site: 'site-1', reduce_percent: 10, duration_minutes: 30, start: '2099-01-01T00:00:00Z' },
      policy_id: energyPolicyId,
    }), [201]);
    const credentialName = `cred-${tenant}`;
    must('a credential', await rest(tenant, 'admin', 'PUT', `/api/v1/inventory/credentials/${credentialName}`, { username: 'root', password: 'root' }), [200, 201]);
    return {
      miners: byTenant.get(tenant) ?? [],
      jobId: String((job.job as { id: string }).id),
      energyPolicyId,
      energyExecutionId: String((signal.execution as { id: string }).id),
      scheduleId: String(schedule.id),
      imageSha256: String((image.image as { sha256: string }).sha256),
      credentialName,
    };
  };
  return {
    h,
    app,
    rest,
    seedObjects,
    base,
    keys,
    tenants,
    token,
    async mcp(tenant, role) {
      const jwt = await token(tenant, role);
      const client = new Client({ name: 'contract-test', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${base}/mcp`), {
          requestInit: { headers: { authorization: `Bearer ${jwt}` } },
        }),
      );
      clients.push(client);
      return client;
    },
    async close() {
      for (const c of clients) await c.close().catch(() => undefined);
      await app.close();
      await h.close();
    },
  };
}
