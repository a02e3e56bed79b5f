// bench/api: with a 10,000-miner fleet, the throughput and latency (p50/p95/p99) of summary,
// list (sorted, filtered) and one telemetry query under concurrent load, and the latency of
// 24 h and 30 day fleet-wide analytical queries.
//
//   npm run bench:api -- --miners 10000 --rate 1000 --seconds 15 --collect 45 --history-days 30
//
// Default (faithful) run: the simulator and the collector each run in their own process for
// --collect seconds so snapshots, aggregates and raw series are real. Older history is
// back-filled first with the collector's own modules (bench/api/history.ts): what a collector
// would have written over --history-days, i.e. fleet_1m for the 7 days the API reads it,
// fleet_1h, and the per-miner window statistics in Redis that the analytics read (about 75 s
// at 10,000 miners on 2 cores); --per-miner-history also writes 30 days of miner_1h and 2 h of
// miner_1m, the older read path, which takes InfluxDB minutes to ingest at 10,000 miners.
// Both are stopped before the load phase, so the API (own process) is measured alone;
// autocannon runs in its own process too (bench/api/load.ts), and the CPU of both is reported
// per query. Analytical queries: the first run after the API's 15 s window-statistics cache
// expired ("first ms"), then two more (the median is usually a cache hit). The API reads the
// last API_WINDOW_PRELOAD_HOURS of window statistics ahead at start (the first query comes 16 s
// after it is ready); --preload-hours 0 turns that off, so the first call reads Redis.
//
// --synthetic: no simulator or collector; a deterministic fleet is written with the collector's
// own modules (test/mcp/seed.ts: snapshots, indexes, aggregates, events; 1 h of raw points at
// 10 s for the miner whose telemetry is loaded). Seconds instead of minutes, for iterating on the API; not the figures to publish.
// --skip-analytics: only the load phase (and no history back-fill).
// --skip-load: only the analytical queries (after the back-fill).
// --cpu-prof DIR: run the API with --cpu-prof into DIR (one profile, written when it stops).
import { mkdtempSync, openSync, readFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import { parse } from 'yaml';
import { generateKeyFiles, mintToken, parsePrivateKey } from '../../api/auth/keys.ts';
import { InfluxClient } from '../../store/influx-redis/influx-client.ts';
import { collectorIdOf } from '../../collector/config.ts';
import { samplePoints } from '../../collector/points.ts';
import { toLines } from '../../store/influx-redis/line-protocol.ts';
import { createRedis, waitForRedis } from '../../store/influx-redis/redis-connection.ts';
import { redisKeys } from '../../store/influx-redis/redis-keys.ts';
import { freePort, startLocalInflux, startLocalRedis, type LocalService } from '../../demo/local-services.ts';
import { MODELS, isModelKey } from '../../simulator/models.ts';
import { sampleOf, seedSynthetic, syntheticFleet } from '../../test/mcp/seed.ts';
import { BenchGuard } from '../lib/bench-guard.ts';
import { spawnReady, stopChild } from '../lib/process-stats.ts';
import { writeHistory } from './history.ts';
import { runLoad } from './load.ts';

const { values } = parseArgs({
  options: {
    miners: { type: 'string', default: '10000' },
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '20' },
    collect: { type: 'string', default: '60' },
    'history-days': { type: 'string', default: '30' },
    connections: { type: 'string', default: '50' },
    synthetic: { type: 'boolean', default: false },
    'skip-analytics': { type: 'boolean', default: false },
    // API_WINDOW_PRELOAD_HOURS of the API (unset: the product default); 0 shows first calls that read Redis
    'preload-hours': { type: 'string' },
    'skip-load': { type: 'boolean', default: false },
    'per-miner-history': { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    // diagnostics: the API's Node flags (e.g. "--trace-gc") and a file for its standard output
    'api-node-flags': { type: 'string' },
    'api-stdout': { type: 'string' },
  },
});
const N = Number(values.miners);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
const WARM_S = 3;
const WINDOW_CACHE_MS = 16_000;
const HOUR_MS = 3_600_000;
const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms));
const load = (): string => loadavg().map(l => l.toFixed(2)).join(' ');

/** What the load phase needs to know about the fleet. */
interface BenchMiner {
  id: string;
  site: string;
  labels: Record<string, string>;
  model: string;
  nominalGhs: number;
}

const guard = new BenchGuard('bench:api');
const services: LocalService[] = [];
const influxUrl = process.env.INFLUX_URL ?? (services[services.push(await startLocalInflux()) - 1]!.url);
const redisUrl = process.env.REDIS_URL ?? (services[services.push(await startLocalRedis()) - 1]!.url);
const db = `bench_api_${Date.now()}`;
const dir = mkdtempSync(join(tmpdir(), 'bench-api-'));
const inventoryPath = join(dir, 'inventory.yaml');
const env = { ...process.env, LOG_LEVEL: 'warn', INFLUX_URL: influxUrl, INFLUX_DB: db, REDIS_URL: redisUrl, REDIS_PREFIX: db, MINER_PASSWORD: 'root' };
const children: ReturnType<typeof spawn>[] = [];

/**
 * --history-days of what the collector writes (bench/api/history.ts), ending now: fleet
 * rollups and per-miner rollups in InfluxDB, per-miner window statistics in Redis (the
 * database, prefix and tenant the API reads).
 */
async function backfillHistory(tenant: string, miners: readonly BenchMiner[], days: number): Promise<void> {
  const influx = new InfluxClient({ url: influxUrl, db, auth: 'none', flavour: '1' });
  await influx.ensureDatabase();
  const redis = createRedis(redisUrl, { name: 'bench-history' });
  try {
    if (!(await waitForRedis(redis, 10_000))) throw new Error(`Redis at ${redisUrl} is not reachable`);
    const r = await writeHistory({
      influxUrl,
      db,
      redis,
      keys: redisKeys(db),
      miners: miners.map(m => ({
        ref: { id: m.id, tenant, site: m.site, address: '', credentials: 'default', labels: {} },
        model: m.model,
        nominalGhs: m.nominalGhs,
      })),
      days,
      endMs: Date.now(),
      // the id the bench's collector gets (it inherits this environment): its first fleet_1h point replaces the partial last hour
      collectorId: collectorIdOf(process.env),
      perMinerRollups: values['per-miner-history'],
    });
    const n = (v: number): string => v.toLocaleString('en-US');
    const points = Object.entries(r.points).map(([k, v]) => `${k} ${n(v)}`).join(', ');
    const fields = Object.entries(r.fields).map(([k, v]) => `${k} ${n(v)}`).join(', ');
    const total = (o: Record<string, number>): number => Object.values(o).reduce((a, b) => a + b, 0);
    process.stdout.write(`history (${days} d, ${miners.length} miners): ${n(total(r.points))} InfluxDB points (${points}); ${n(total(r.fields))} Redis window-statistics fields (${fields}) in ${(r.ms / 1000).toFixed(1)} s; load average ${load()}\n`);
  } finally {
    redis.disconnect();
  }
}

/** Simulator + collector for --collect seconds (history back-filled first), both stopped afterwards. */
async function collectedFleet(): Promise<{ tenant: string; miners: BenchMiner[] }> {
  const sim = await spawnReady(['bin/bos-fleet.ts', 'simulator', '--miners', String(N), '--seed', '3', '--sites', '4', '--base-address', '127.31.0.1', '--inventory-out', inventoryPath, '--json']);
  children.push(sim.child);
  const inv = parse(readFileSync(inventoryPath, 'utf8')) as { miners: { id: string; tenant?: string; site?: string; labels?: Record<string, string> }[]; defaults?: { tenant?: string } };
  const tenant = inv.miners[0]!.tenant ?? inv.defaults?.tenant ?? 'default';
  const nominal = (key: string | undefined): number => (key && isModelKey(key) ? MODELS[key].stickerGhs : 104_000);
  const miners = inv.miners.map(m => ({ id: m.id, site: m.site ?? 'default', labels: m.labels ?? {}, model: m.labels?.model ?? 'unknown', nominalGhs: nominal(m.labels?.model_key) }));
  // History first (older than anything the collector writes), then let the collector run.
  if (!values['skip-analytics']) await backfillHistory(tenant, miners, Number(values['history-days']));
  const colPort = await freePort();
  const col = spawn(process.execPath, ['bin/bos-fleet.ts', 'collector'], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...env, COLLECTOR_INVENTORY_FILE: inventoryPath, COLLECTOR_HTTP_PORT: String(colPort) } });
  children.push(col);
  process.stdout.write(`collecting ${values.collect} s from ${N} simulated miners…\n`);
  await sleep(Number(values.collect) * 1000);
  // The API is measured alone: the collector and the simulator would take most of a core.
  await stopChild(col);
  await stopChild(sim.child);
  process.stdout.write(`collector and simulator stopped; load average ${load()}\n`);
  return { tenant, miners };
}

/** A deterministic fleet written with the collector's modules; seconds instead of minutes. */
async function syntheticBenchFleet(): Promise<{ tenant: string; miners: BenchMiner[] }> {
  const t0 = Date.now();
  const fleet = syntheticFleet(N);
  const redis = createRedis(redisUrl, { name: 'bench-seed' });
  try {
    if (!(await waitForRedis(redis, 10_000))) throw new Error(`Redis at ${redisUrl} is not reachable`);
    const nowMs = Date.now();
    const { lines } = await seedSynthetic({ redis, keys: redisKeys(db), influxUrl, db, miners: fleet, nowMs, rawMinutes: 0, rollup1mMinutes: 0, rollup1hHours: 0 });
    // Raw series only for the miner whose telemetry is loaded, at the collector's 10 s cadence.
    const m = fleet[Math.floor(N / 2)]!;
    const raw: string[] = [];
    for (let t = nowMs - HOUR_MS; t < nowMs; t += 10_000) raw.push(...toLines(samplePoints(sampleOf(m, t))));
    const res = await fetch(`${influxUrl}/write?db=${db}&precision=ms`, { method: 'POST', body: raw.join('\n') });
    if (res.status !== 204) throw new Error(`raw write failed: ${res.status} ${await res.text()}`);
    process.stdout.write(`synthetic fleet: ${N} snapshots, ${lines} lines in ${Math.round((Date.now() - t0) / 1000)} s\n`);
  } finally {
    redis.disconnect();
  }
  const tenant = fleet[0]!.ref.tenant;
  const miners = fleet.map(m => ({ id: m.ref.id, site: m.ref.site, labels: m.ref.labels ?? {}, model: m.model, nominalGhs: m.nominal_ghs }));
  if (!values['skip-analytics']) await backfillHistory(tenant, miners, Number(values['history-days']));
  return { tenant, miners };
}

try {
  const { tenant, miners } = values.synthetic ? await syntheticBenchFleet() : await collectedFleet();

  const keys = await generateKeyFiles(join(dir, 'keys'), 'ES256');
  const apiPort = await freePort();
  const prof = values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof']] : [];
  const nodeFlags = values['api-node-flags']?.split(/\s+/).filter(Boolean) ?? [];
  const apiOut = values['api-stdout'] ? openSync(values['api-stdout'], 'w') : 'ignore';
  const api = spawn(process.execPath, [...prof, ...nodeFlags, 'bin/bos-fleet.ts', 'api', '--port', String(apiPort)], {
    stdio: ['ignore', apiOut, 'inherit'],
    env: {
      ...env,
      AUTH_PUBLIC_KEY_FILE: keys.publicPath,
      // with --api-stdout, the API's info lines (when its read-ahead finished) are kept too
      ...(values['api-stdout'] ? { LOG_LEVEL: 'info' } : {}),
      RATE_LIMIT_MAX: '1000000',
      ...(values.synthetic ? {} : { COLLECTOR_INVENTORY_FILE: inventoryPath }),
      ...(values['preload-hours'] !== undefined ? { API_WINDOW_PRELOAD_HOURS: values['preload-hours'] } : {}),
    },
  });
  children.push(api);
  const base = `http://127.0.0.1:${apiPort}`;
  for (let i = 0; i < 200 && !(await fetch(`${base}/health/ready`).then(r => r.ok, () => false)); i++) await sleep(250);
  const token = await mintToken({ privateKey: parsePrivateKey(readFileSync(keys.privatePath, 'utf8'), 'bench'), sub: 'bench', tenant, roles: ['viewer'], ttlMs: 3_600_000, issuer: 'bos-fleet', audience: 'bos-fleet' });
  const headers = { authorization: `Bearer ${token}` };
  const get = async (path: string): Promise<{ ms: number; status: number; bytes: number; body: string }> => {
    const t = performance.now();
    const r = await fetch(`${base}${path}`, { headers });
    const body = await r.text();
    return { ms: performance.now() - t, status: r.status, bytes: body.length, body };
  };
  const someId = miners[Math.floor(miners.length / 2)]!.id;
  const someSite = miners[0]!.site;
  const queries = [
    ['summary', '/api/v1/fleet/summary'],
    ['list (50, by hashrate desc)', '/api/v1/miners?limit=50&sort=hashrate&order=desc'],
    ['list (50, one site, by temperature)', `/api/v1/miners?limit=50&site=${encodeURIComponent(someSite)}&sort=temperature&order=desc`],
    ['telemetry (1 miner, 1 h raw)', `/api/v1/miners/${someId}/telemetry?from=now-1h`],
  ] as const;
  // Every query must answer 200 before it is loaded.
  for (const [name, p] of queries) {
    const r = await get(p);
    if (r.status !== 200) throw new Error(`${name}: ${p} answered ${r.status}`);
  }

  const loads: Record<string, unknown>[] = [];
  for (const [name, path] of values['skip-load'] ? [] : queries) {
    const target = { pid: api.pid!, metricsUrl: `${base}/metrics` };
    const opts = { url: `${base}${path}`, headers, connections: CONNECTIONS, overallRate: RATE };
    // A steady service is warm: its code optimised, its caches filled at this rate.
    await runLoad(target, { ...opts, duration: WARM_S });
    const r = await runLoad(target, { ...opts, duration: SECONDS });
    guard.check(r.errors === 0, `${name}: ${r.errors} errors or non-2xx answers under load`);
    loads.push({ query: name, ...r });
    process.stdout.write(`${name}: ${r['req/s']} req/s, p99 ${r.p99_ms} ms per request (autocannon's corrected p99 ${r['autocannon p99_ms']} ms) (ended ${new Date().toISOString()})\n`);
  }
  const analytical: Record<string, unknown>[] = [];
  if (!values['skip-analytics']) {
    for (const [name, path] of [
      ['fleet hashrate series 24 h', '/api/v1/fleet/series?metric=hashrate_ths&from=now-24h'],
      ['fleet hashrate series 30 d', '/api/v1/fleet/series?metric=hashrate_ths&from=now-30d'],
      ['underperformers 24 h', '/api/v1/analytics/underperformers?window=24h'],
      ['underperformers 30 d', '/api/v1/analytics/underperformers?window=30d'],
      ['hot spots 24 h', '/api/v1/analytics/hot-spots?window=24h'],
      ['hot spots 30 d', '/api/v1/analytics/hot-spots?window=30d'],
      ['efficiency ranking 24 h', '/api/v1/analytics/efficiency?window=24h'],
      ['efficiency ranking 30 d', '/api/v1/analytics/efficiency?window=30d'],
      ['availability 24 h (by site)', '/api/v1/analytics/availability?from=now-24h&level=site'],
      ['availability 30 d (by site)', '/api/v1/analytics/availability?from=now-30d&level=site'],
      ['compare periods 24 h (vs the 24 h before)', '/api/v1/analytics/compare?a_from=now-48h&a_to=now-24h&b_from=now-24h&b_to=now'],
      ['compare periods 30 d (two 15 d halves)', '/api/v1/analytics/compare?a_from=now-30d&a_to=now-15d&b_from=now-15d&b_to=now'],
    ] as const) {
      // The API keeps a window's per-miner statistics 15 s (FleetQuery's window_stats cache, shared
      // by the analytics over the same window): wait it out, so the first run reads Redis.
      await sleep(WINDOW_CACHE_MS);
      const runs: number[] = [];
      let status = 0;
      let bytes = 0;
      let source = '?';
      for (let i = 0; i < 3; i++) {
        const r = await get(path);
        runs.push(r.ms);
        status = r.status;
        bytes = r.bytes;
        guard.check(r.status === 200, `${name}: ${path} answered ${r.status}`);
        if (i === 0 && r.status === 200) {
          const b = JSON.parse(r.body) as { source?: string; a?: { source: string }; b?: { source: string }; items?: unknown[]; series?: unknown[] };
          source = b.source ?? `${b.a?.source} / ${b.b?.source}`;
          guard.check(b.items?.length !== 0 && b.series?.length !== 0, `${name}: ${path} answered empty`);
        }
      }
      const first = runs[0]!;
      runs.sort((a, b) => a - b);
      analytical.push({ query: name, status, source, 'first ms': Math.round(first), 'median ms': Math.round(runs[1]!), 'max ms': Math.round(runs[2]!), bytes });
    }
  }
  process.stdout.write(`\nmachine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}, ${new Date().toISOString()}; ${N} miners${values.synthetic ? ' (synthetic)' : ''}; ${CONNECTIONS} connections, ${RATE} req/s offered, ${SECONDS} s per query after ${WARM_S} s of warm-up; window preload ${values['preload-hours'] ?? 'default'} h; load average ${load()}\n`);
  if (guard.ok && loads.length > 0) console.table(loads);
  if (guard.ok && analytical.length > 0) console.table(analytical);
} catch (err) {
  guard.fail(`run aborted: ${(err as Error).message}`);
} finally {
  for (const c of children.reverse()) await stopChild(c);
  for (const s of services) await s.destroy();
}
guard.finish();
