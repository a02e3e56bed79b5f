// bench/mcp: latency (cold, p50, p95) and default answer size of every read MCP tool at N
// miners, through an in-process MCP client (the SDK's Client over createMcpHandler's fetch: no
// network, real protocol, real stores), on either storage backend.
//
//   node bench/mcp/run.ts --store embedded,influx-redis --miners 1000,10000 --calls 20
//
// For each backend and N a fresh store is seeded through its ports by the collector's own
// writers (bench/mcp/seed-fleet.ts: raw points, miner and fleet rollups, per-miner window
// statistics, snapshots, aggregates, inventory, events), so every tool reads what production
// reads. One miner (the one the per-miner tools ask about) is a simulated Braiins OS miner on
// loopback, so get_miner_config, ping_miner, get_miner_logs and diagnose_miner make real gRPC
// calls. Every answer is checked against the seeded fleet (bench/mcp/answer-checks.ts); a tool
// that errors or answers wrong makes BenchGuard refuse the figures.
// influx-redis uses INFLUX_URL / REDIS_URL when set, else starts influxd and redis-server on loopback.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { loadApiConfig } from '../../api/config.ts';
import { createInfra } from '../../api/infra.ts';
import { startLocalInflux, startLocalRedis, type LocalService } from '../../demo/local-services.ts';
import { answerBytes } from '../../mcp/size-budget.ts';
import { buildMcpServer } from '../../mcp/server.ts';
import type { McpDeps } from '../../mcp/define-tool.ts';
import { silentLogger } from '../../runtime/logger.ts';
import type { Caller } from '../../services/context.ts';
import { createControlPlane } from '../../services/control/index.ts';
import { FleetQuery } from '../../services/query/fleet-query.ts';
import { startSimulator } from '../../simulator/index.ts';
import { openEmbeddedStore } from '../../store/embedded/index.ts';
import { openInfluxRedisStore } from '../../store/influx-redis/index.ts';
import { waitForRedis } from '../../store/influx-redis/redis-connection.ts';
import type { Store, StoreBackend } from '../../store/store.ts';
import { createSyntheticPolicy, defaultReadCalls, SYNTHETIC_POLICY_ID } from '../../test/mcp/synthetic.ts';
import { BenchGuard, formatLoad } from '../lib/bench-guard.ts';
import { checkAnswer, fleetTruth } from './answer-checks.ts';
import { OFFLINE_FOR_MS, seedBenchFleet } from './seed-fleet.ts';

const { values } = parseArgs({
  options: {
    store: { type: 'string', default: 'embedded,influx-redis' },
    miners: { type: 'string', default: '1000,10000' },
    calls: { type: 'string', default: '20' },
    'target-ms': { type: 'string', default: '300' },
    /** loopback address of the one simulated miner (another run on the machine may hold the default) */
    'sim-address': { type: 'string', default: '127.44.0.1' },
  },
});
const BACKENDS = String(values.store).split(',') as StoreBackend[];
for (const b of BACKENDS) if (b !== 'embedded' && b !== 'influx-redis') throw new Error(`--store: expected embedded and/or influx-redis, got '${b}'`);
const SIZES = String(values.miners).split(',').map(Number);
if (SIZES.some(n => !Number.isInteger(n) || n < 500)) throw new Error('--miners: expected whole numbers of at least 500 (one site)');
const K = Number(values.calls);
const TARGET_MS = Number(values['target-ms']);
const CALL_TIMEOUT_MS = 600_000;

interface Row {
  tool: string;
  cold_ms: number;
  p50_ms: number;
  p95_ms: number;
  bytes: number;
}

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const r1 = (v: number): number => Math.round(v * 10) / 10;

const guard = new BenchGuard('bench:mcp');
const log = silentLogger();
const services: LocalService[] = [];
let farm: { influxUrl: string; redisUrl: string } | null = null;
const sim = await startSimulator({ miners: 1, seed: 4, baseAddress: String(values['sim-address']) });
const results = new Map<string, Row[]>();
const seeding: string[] = [];

async function openStore(backend: StoreBackend): Promise<{ store: Store; redisUrl?: string; destroy(): Promise<void> }> {
  if (backend === 'embedded') {
    const dir = mkdtempSync(join(tmpdir(), 'bosfleet-bench-mcp-'));
    const store = openEmbeddedStore({ dataDir: dir, log });
    return { store, destroy: async () => (await store.close(), rmSync(dir, { recursive: true, force: true })) };
  }
  if (!farm) {
    const influxUrl = process.env.INFLUX_URL ?? services[services.push(await startLocalInflux()) - 1]!.url;
    const redisUrl = process.env.REDIS_URL ?? services[services.push(await startLocalRedis()) - 1]!.url;
    farm = { influxUrl, redisUrl };
  }
  const scope = `benchmcp${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const store = openInfluxRedisStore({
    redisUrl: farm.redisUrl,
    redisPrefix: scope,
    influx: { url: farm.influxUrl, db: scope, flavour: '1', auth: 'none', timeoutMs: 60_000 },
    name: scope,
    log,
  });
  if (!(await waitForRedis(store.redis, 10_000))) throw new Error(`Redis ${farm.redisUrl} not reachable`);
  await store.influx.ensureDatabase();
  return {
    store,
    redisUrl: farm.redisUrl,
    async destroy() {
      for (let cursor = '0'; ; ) {
        const [next, keys] = await store.redis.scan(cursor, 'MATCH', `${scope}:*`, 'COUNT', 1_000);
        if (keys.length > 0) await store.redis.del(...keys);
        if ((cursor = next) === '0') break;
      }
      await store.influx.query(`DROP DATABASE "${scope}"`);
      await store.close();
    },
  };
}

async function benchOne(backend: StoreBackend, n: number): Promise<Row[]> {
  const opened = await openStore(backend);
  const { store } = opened;
  const real = sim.miners[0]!;
  const middle = Math.floor(n / 2);
  const fleet = await seedBenchFleet(store, {
    n,
    nowMs: Date.now(),
    addressOf: m => (m.index === middle ? { host: real.host, port: real.port } : { host: '127.0.0.1', port: 9 }),
  });
  seeding.push(`${backend}, ${n} miners: ${fleet.points.toLocaleString('en')} points in ${Math.round(fleet.seedMs / 1000)} s`);
  process.stdout.write(`${backend} ${n}: seeded ${fleet.points.toLocaleString('en')} points in ${Math.round(fleet.seedMs / 1000)} s (load ${formatLoad()})\n`);
  const config = loadApiConfig({
    BOSFLEET_STORE: backend,
    AUTH_MODE: 'none',
    MINER_RPC_TIMEOUT_MS: '500',
    JOBS_CONCURRENCY: '64',
    LOG_LEVEL: 'silent',
  });
  const handle = createInfra(config, log, 'bosfleet-bench-mcp', { store });
  const fleetQuery = new FleetQuery({ store, log, redisUrl: opened.redisUrl }, { pollIntervalMs: fleet.pollMs });
  const plane = createControlPlane(handle.infra, {
    audit: { record: async () => undefined },
    jobs: { runWorker: true, progressIntervalMs: 50, commandPollMs: 100 },
    schedules: { enabled: false },
  });
  const clients: Client[] = [];
  try {
    await plane.start();
    const operator: Caller = { sub: 'otto', tenant: fleet.tenant, roles: ['operator'] };
    const viewer: Caller = { sub: 'vera', tenant: fleet.tenant, roles: ['viewer'] };
    // A finished job over one site (500 miners, all unreachable) for get_job; a schedule for list_power_schedules.
    const job = await plane.control.execute(operator, { selector: { site: fleet.miners[0]!.ref.site } }, { kind: 'action', action: 'locate_on' });
    await plane.jobs.waitUntilFinished(operator, job.job!.id, 300_000);
    await plane.schedules.create(operator, {
      name: 'peak-tariff',
      selector: { site: fleet.miners[0]!.ref.site },
      cron: '0 17 * * 1-5',
      timezone: 'UTC',
      duration_ms: 3 * 3_600_000,
      action: { type: 'pause' },
    });
    // a curtailment policy over one site, for list_curtailment_policies and plan_curtailment
    await createSyntheticPolicy(plane, operator, fleet.miners[0]!.ref.site);
    const deps: McpDeps = { fleetQuery, plane, infra: handle.infra };
    const handler = createMcpHandler(() => buildMcpServer(deps, viewer, { log }));
    const client = new Client({ name: 'bench-mcp', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
    await client.connect(new StreamableHTTPClientTransport(new URL('http://mcp.local/mcp'), { fetch: (url, init) => handler.fetch(new Request(url, init)) }));
    clients.push(client);
    await client.listTools();
    const truth = fleetTruth(fleet, job.job!.id, OFFLINE_FOR_MS, SYNTHETIC_POLICY_ID);
    const rows: Row[] = [];
    for (const { name, args } of defaultReadCalls(fleet.miners, job.job!.id)) {
      const label = name === 'query_telemetry' ? `${name} (${'miners' in args ? '1 miner' : 'fleet'})` : name;
      const times: number[] = [];
      let bytes = 0;
      let verdict = 'answers checked';
      for (let i = 0; i <= K; i++) {
        const t = performance.now();
        // a slow tool is measured, not cut off at the SDK's 60 s default; one that fails is recorded and the run goes on
        const r = (await client.callTool({ name, arguments: args }, { timeout: CALL_TIMEOUT_MS }).catch((err: unknown) => ({
          isError: true,
          content: [{ text: `call failed: ${(err as Error).message}` }],
        }))) as { isError?: boolean; content: { text?: string }[]; structuredContent?: unknown };
        times.push(performance.now() - t);
        if (i === 0) bytes = answerBytes(r.content.map(c => c.text ?? '').join(''), r.structuredContent);
        // the first and the last answer are checked: a cached answer must be right too
        if (i === 0 || i === K) {
          const problem = r.isError ? `error: ${(r.content[0]?.text ?? '').slice(0, 200)}` : checkAnswer(name, args, r.structuredContent, truth);
          if (!guard.check(problem === null, `${backend} ${n} ${label}: ${problem}`)) verdict = `CHECK FAILED: ${problem}`;
        }
      }
      const cold = times.shift()!;
      times.sort((a, b) => a - b);
      rows.push({ tool: label, cold_ms: r1(cold), p50_ms: r1(pct(times, 50)), p95_ms: r1(pct(times, 95)), bytes });
      process.stdout.write(`  ${backend} ${n} ${label}: cold ${r1(cold)} ms, p50 ${r1(pct(times, 50))} ms, p95 ${r1(pct(times, 95))} ms, ${bytes} B; ${verdict}\n`);
    }
    return rows;
  } finally {
    for (const c of clients) await c.close().catch(() => undefined);
    await plane.close({ force: true });
    await fleetQuery.close();
    await handle.close();
    await opened.destroy();
  }
}

try {
  for (const backend of BACKENDS) for (const n of SIZES) results.set(`${backend} ${n}`, await benchOne(backend, n));
} catch (err) {
  guard.fail(`run aborted: ${(err as Error).stack ?? String(err)}`);
} finally {
  await sim.stop();
  for (const s of services) await s.destroy();
}

if (guard.finish()) {
  process.stdout.write(
    `\nmachine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}, ${new Date().toISOString()}\n`,
  );
  for (const s of seeding) process.stdout.write(`seeded ${s}\n`);
  const cols = [...results.keys()];
  const head = ['tool', ...cols.flatMap(c => [`${c}: cold ms`, `${c}: p50 ms`, `${c}: p95 ms`, `${c}: bytes`])];
  process.stdout.write(`\n| ${head.join(' | ')} |\n|${head.map(() => '---').join('|')}|\n`);
  for (const t of results.get(cols[0]!)!.map(r => r.tool)) {
    const cells = cols.flatMap(c => {
      const r = results.get(c)!.find(x => x.tool === t)!;
      return [r.cold_ms, r.p50_ms, r.p95_ms, r.bytes];
    });
    process.stdout.write(`| ${t} | ${cells.join(' | ')} |\n`);
  }
  const over = cols.flatMap(c => results.get(c)!.filter(r => r.p95_ms >= TARGET_MS).map(r => `${c} ${r.tool} ${r.p95_ms} ms`));
  process.stdout.write(over.length === 0 ? `\nevery tool's p95 < ${TARGET_MS} ms\n` : `\np95 at or over ${TARGET_MS} ms: ${over.join('; ')}\n`);
}
