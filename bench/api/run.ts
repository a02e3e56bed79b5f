// bench/api: with a 10,000-miner simulated fleet collected for a while, the throughput and
// latency (p50/p95/p99) of summary, list and one telemetry query under concurrent load, and the
// latency of 24 h and 30 day fleet-wide analytical queries.
//
//   npm run bench:api -- --miners 10000 --rate 1000 --seconds 20
//
// The simulator, collector and API each run in their own process; autocannon drives the load
// from this one. Raw series come from the real collector; older history (30 days of 1h rollups,
// 24 h of 1m rollups for a sample of miners) is back-filled with the collector's own line
// builders so long-range queries have data. Loopback only; stops by itself.
import { mkdtempSync, readFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import autocannon from 'autocannon';
import { parse } from 'yaml';
import { generateKeyFiles, mintToken, parsePrivateKey } from '../../api/auth/keys.ts';
import { InfluxClient } from '../../collector/influx-client.ts';
import { line, minerTags, FieldSet } from '../../collector/points.ts';
import { freePort, startLocalInflux, startLocalRedis, type LocalService } from '../../demo/local-services.ts';
import { ProcSampler, spawnReady, stopChild } from '../lib/process-stats.ts';

const { values } = parseArgs({
  options: {
    miners: { type: 'string', default: '10000' },
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '20' },
    collect: { type: 'string', default: '60' },
    'history-days': { type: 'string', default: '30' },
  },
});
const N = Number(values.miners);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms));

const services: LocalService[] = [];
const influxUrl = process.env.INFLUX_URL ?? (services[services.push(await startLocalInflux()) - 1]!.url);
const redisUrl = process.env.REDIS_URL ?? (services[services.push(await startLocalRedis()) - 1]!.url);
const db = `bench_api_${Date.now()}`;
const dir = mkdtempSync(join(tmpdir(), 'bench-api-'));
const inventoryPath = join(dir, 'inventory.yaml');
const env = { ...process.env, LOG_LEVEL: 'warn', INFLUX_URL: influxUrl, INFLUX_DB: db, REDIS_URL: redisUrl, REDIS_PREFIX: db, MINER_PASSWORD: 'root' };
const children: ReturnType<typeof spawn>[] = [];

try {
  const sim = await spawnReady(['bin/bos-fleet.ts', 'simulator', '--miners', String(N), '--seed', '3', '--sites', '4', '--base-address', '127.31.0.1', '--inventory-out', inventoryPath, '--json']);
  children.push(sim.child);
  const inv = parse(readFileSync(inventoryPath, 'utf8')) as { miners: { id: string; tenant?: string; site?: string; labels?: Record<string, string> }[]; defaults?: { tenant?: string } };
  const tenant = inv.miners[0]!.tenant ?? inv.defaults?.tenant ?? 'default';

  // History first (older than anything the collector writes), then let the collector run.
  const influx = new InfluxClient({ url: influxUrl, db, auth: 'none', flavour: '1' });
  await influx.ensureDatabase();
  const now = Date.now();
  const days = Number(values['history-days']);
  const t0 = Date.now();
  let written = 0;
  const write = async (lines: string[]): Promise<void> => {
    const res = await fetch(`${influxUrl}/write?db=${db}&precision=ms`, { method: 'POST', body: lines.join('\n') });
    if (res.status !== 204) throw new Error(`backfill write failed: ${res.status} ${await res.text()}`);
    written += lines.length;
  };
  const rollupLine = (m: (typeof inv.miners)[number], measurement: string, t: number, i: number): string | null => {
    const nominal = m.labels?.model_key === 's21' ? 200_000 : m.labels?.model_key === 's9' ? 14_000 : 104_000;
    const h = nominal * (0.93 + 0.05 * Math.sin(i / 7 + t / 3.6e6));
    const f = new FieldSet().float('hashrate_ghs', h).float('hashrate_nominal_ghs', nominal).float('power_w', nominal * 0.0295).float('efficiency_jth', 29.5)
      .float('temp_chip_max_c', 70 + (i % 10)).float('temp_board_max_c', 60).int('fan_rpm_min', 4000).float('up', 1).int('samples', measurement === 'miner_1h' ? 360 : 6);
    return line(measurement, minerTags({ id: m.id, tenant, site: m.site ?? 'default', address: '', credentials: 'default', labels: {} }, m.labels?.model ?? 'unknown'), f, t);
  };
  let batch: string[] = [];
  const flushBatch = async (): Promise<void> => {
    if (batch.length) await write(batch);
    batch = [];
  };
  for (let h = days * 24; h >= 1; h--) {
    const t = Math.floor((now - h * 3.6e6) / 3.6e6) * 3.6e6;
    for (let i = 0; i < inv.miners.length; i++) {
      const l = rollupLine(inv.miners[i]!, 'miner_1h', t, i);
      if (l) batch.push(l);
      if (batch.length >= 50_000) await flushBatch();
    }
  }
  // 2 h of 1m rollups (fleet analytics read them for windows up to 12 h; 1h rollups beyond).
  for (let m = 2 * 60; m >= 1; m--) {
    const t = Math.floor((now - m * 60_000) / 60_000) * 60_000;
    for (let i = 0; i < inv.miners.length; i++) {
      const l = rollupLine(inv.miners[i]!, 'miner_1m', t, i);
      if (l) batch.push(l);
      if (batch.length >= 50_000) await flushBatch();
    }
  }
  await flushBatch();
  process.stdout.write(`history: ${written} rollup points in ${Math.round((Date.now() - t0) / 1000)} s\n`);

  const colPort = await freePort();
  const col = spawn(process.execPath, ['bin/bos-fleet.ts', 'collector'], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...env, COLLECTOR_INVENTORY_FILE: inventoryPath, COLLECTOR_HTTP_PORT: String(colPort) } });
  children.push(col);
  process.stdout.write(`collecting ${values.collect} s from ${N} simulated miners…\n`);
  await sleep(Number(values.collect) * 1000);

  const keys = await generateKeyFiles(join(dir, 'keys'), 'ES256');
  const apiPort = await freePort();
  const api = spawn(process.execPath, ['bin/bos-fleet.ts', 'api', '--port', String(apiPort)], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...env, AUTH_PUBLIC_KEY_FILE: keys.publicPath, RATE_LIMIT_MAX: '1000000', COLLECTOR_INVENTORY_FILE: inventoryPath },
  });
  children.push(api);
  const base = `http://127.0.0.1:${apiPort}`;
  for (let i = 0; i < 200 && !(await fetch(`${base}/health/ready`).then(r => r.ok, () => false)); i++) await sleep(250);
  const token = await mintToken({ privateKey: parsePrivateKey(readFileSync(keys.privatePath, 'utf8'), 'bench'), sub: 'bench', tenant, roles: ['viewer'], ttlMs: 3_600_000, issuer: 'bos-fleet', audience: 'bos-fleet' });
  const headers = { authorization: `Bearer ${token}` };
  const get = async (path: string): Promise<{ ms: number; status: number; bytes: number }> => {
    const t = performance.now();
    const r = await fetch(`${base}${path}`, { headers });
    const body = await r.text();
    return { ms: performance.now() - t, status: r.status, bytes: body.length };
  };
  const someId = inv.miners[Math.floor(inv.miners.length / 2)]!.id;
  // Warm caches the way a steady service would have them.
  for (const p of ['/api/v1/fleet/summary', '/api/v1/miners?limit=50', `/api/v1/miners/${someId}/telemetry?from=now-1h`]) await get(p);

  const apiStats = new ProcSampler(api.pid!);
  const loads: Record<string, unknown>[] = [];
  for (const [name, path] of [
    ['summary', '/api/v1/fleet/summary'],
    ['list (50, sorted by hashrate)', '/api/v1/miners?limit=50&sort=hashrate'],
    ['telemetry (1 miner, 1 h)', `/api/v1/miners/${someId}/telemetry?from=now-1h`],
  ] as const) {
    apiStats.begin();
    const r = await autocannon({ url: `${base}${path}`, headers, connections: 50, overallRate: RATE, duration: SECONDS });
    const use = apiStats.end();
    loads.push({ query: name, 'req/s': Math.round(r.requests.average), p50_ms: r.latency.p50, p95_ms: (r.latency as unknown as Record<string, number>).p95 ?? r.latency.p97_5, p99_ms: r.latency.p99, errors: r.errors + r.non2xx, 'api cpu%': Math.round(use.cpuPct) });
  }
  const analytical: Record<string, unknown>[] = [];
  for (const [name, path] of [
    ['fleet hashrate series 24 h', '/api/v1/fleet/series?metric=hashrate_ths&from=now-24h'],
    ['fleet hashrate series 30 d', '/api/v1/fleet/series?metric=hashrate_ths&from=now-30d'],
    ['underperformers 24 h', '/api/v1/analytics/underperformers?window=24h'],
    ['hot spots 24 h', '/api/v1/analytics/hot-spots?window=24h'],
    ['efficiency ranking 24 h', '/api/v1/analytics/efficiency?window=24h'],
    ['availability 24 h (by site)', '/api/v1/analytics/availability?from=now-24h&level=site'],
    ['availability 30 d (by site)', '/api/v1/analytics/availability?from=now-30d&level=site'],
    ['underperformers 30 d', '/api/v1/analytics/underperformers?window=30d'],
  ] as const) {
    const runs: number[] = [];
    let status = 0;
    let bytes = 0;
    for (let i = 0; i < 3; i++) {
      const r = await get(path);
      runs.push(r.ms);
      status = r.status;
      bytes = r.bytes;
    }
    runs.sort((a, b) => a - b);
    analytical.push({ query: name, status, 'median ms': Math.round(runs[1]!), 'max ms': Math.round(runs[2]!), bytes });
  }
  process.stdout.write(`\nmachine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}, ${new Date().toISOString()}; ${N} miners\n`);
  console.table(loads);
  console.table(analytical);
} finally {
  for (const c of children.reverse()) await stopChild(c);
  for (const s of services) await s.destroy();
}
