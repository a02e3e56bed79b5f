// bench/embedded: the whole product in one process (`bos-fleet start`) on the embedded store,
// beside the same command on InfluxDB + Redis, on the same simulated fleet in the same run.
//
//   npm run bench:embedded -- --miners 500,1000,2000 --warmup 40 --duration 120 --history-days 30
//
// Per fleet size: the simulator runs in its own process (--inventory-out); then, per backend,
// 30 days of history are written through the store's ports (bench/embedded/history.ts: fleet
// rollups, window statistics, per-miner miner_1h), `bos-fleet start --store <backend>` is started
// on a fresh data folder (embedded) or a fresh InfluxDB database and Redis prefix, and after
// --warmup seconds it is measured for --duration seconds:
//  - keeps the cycle: completed polls/s against miners/10 s, the largest bosfleet_cycle_lag_seconds
//    seen (scraped every 2 s), polls skipped; the same rule as bench/collector;
//  - write cost: bosfleet_store_write_duration_seconds (kind=series: one series flush, one
//    transaction on the embedded store; kind=state: one flush of snapshots + aggregates);
//  - disk: the data folder (embedded: every file, WAL included; influx-redis: InfluxDB's data,
//    WAL and meta folders, plus Redis used_memory) after the history (store closed) and after a
//    clean stop of `start`, the difference divided by the time between, times 86,400 s, per miner
//    (what a day of collection adds while every tier is still within its retention);
//  - REST latency with the process still collecting: fleet series 24 h, underperformers 24 h,
//    efficiency ranking 24 h and one miner's 30-day telemetry (first call, then the median and
//    largest of 5 more); an answer that is not 200 or carries no data is reported as FAILED,
//    not as a latency;
//  - CPU and RSS of the `start` process (peak over the measured window).
// InfluxDB and Redis are started here from demo/local-services.ts unless INFLUX_URL/REDIS_URL
// are set. Everything is on loopback and stops by itself.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { collectorIdOf } from '../../collector/config.ts';
import { freePort, startLocalInflux, startLocalRedis, type LocalService } from '../../demo/local-services.ts';
import { MODELS, isModelKey } from '../../simulator/models.ts';
import { openEmbeddedStore } from '../../store/embedded/index.ts';
import { openInfluxRedisStore } from '../../store/influx-redis/index.ts';
import { createRedis, waitForRedis } from '../../store/influx-redis/redis-connection.ts';
import type { Store } from '../../store/store.ts';
import { BenchGuard } from '../lib/bench-guard.ts';
import { ProcSampler, spawnReady, stopChild } from '../lib/process-stats.ts';
import type { HistoryMiner } from '../api/history.ts';
import { writeStoreHistory } from './history.ts';

const { values } = parseArgs({
  options: {
    miners: { type: 'string', default: '1000' },
    backends: { type: 'string', default: 'embedded,influx-redis' },
    warmup: { type: 'string', default: '40' },
    duration: { type: 'string', default: '120' },
    'history-days': { type: 'string', default: '30' },
    interval: { type: 'string', default: '10000' },
  },
});
const SIZES = String(values.miners).split(',').map(Number);
const BACKENDS = String(values.backends).split(',') as ('embedded' | 'influx-redis')[];
const WARMUP_MS = Number(values.warmup) * 1000;
const DURATION_MS = Number(values.duration) * 1000;
const DAYS = Number(values['history-days']);
const INTERVAL_MS = Number(values.interval);
const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms));
const load = (): string => loadavg().map(l => l.toFixed(2)).join(' ');
const say = (s: string): boolean => process.stdout.write(`[${new Date().toISOString().slice(11, 19)} load ${load()}] ${s}\n`);

function metric(text: string, name: string, labels = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if ((line.startsWith(`${name}{`) || line.startsWith(`${name} `)) && (!labels || line.includes(labels))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** The bucket bound under which a share p of the observations (between two scrapes) fell; '>2.5 s' past the last bucket. */
function histogramQuantile(before: string, after: string, name: string, labels: string, p: number): string {
  const buckets: [number, number][] = [];
  for (const line of after.split('\n')) {
    const m = new RegExp(`^${name}_bucket\\{(.*)le="([^"]+)"`).exec(line);
    if (!m || !line.includes(labels)) continue;
    const le = m[2]!;
    const sel = `le="${le}"`;
    const prev = before.split('\n').find(l => l.startsWith(`${name}_bucket{`) && l.includes(labels) && l.includes(sel));
    const n = Number(line.slice(line.lastIndexOf(' ') + 1)) - (prev ? Number(prev.slice(prev.lastIndexOf(' ') + 1)) : 0);
    buckets.push([le === '+Inf' ? Infinity : Number(le), n]);
  }
  const total = buckets.find(b => b[0] === Infinity)?.[1] ?? 0;
  if (total === 0) return 'n/a';
  const bound = buckets.find(b => b[1] >= p * total)![0];
  return bound === Infinity ? '> 2.5 s' : `≤ ${bound * 1000} ms`;
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n += dirBytes(p);
    else if (e.isFile()) n += statSync(p).size;
  }
  return n;
}

/** Whether an answer carries data: some array in it holds at least one number or object. */
function hasData(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(x => typeof x === 'number' || (typeof x === 'object' && x !== null && Object.keys(x).length > 0) || hasData(x));
  if (typeof v === 'object' && v !== null) return Object.values(v).some(hasData);
  return false;
}

interface Timing {
  first: number;
  median: number;
  max: number;
  bytes: number;
  error?: string;
}

async function timeQuery(apiUrl: string, token: string, path: string): Promise<Timing> {
  const ms: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 6; i++) {
    const t = performance.now();
    let res: Response;
    let text: string;
    try {
      res = await fetch(`${apiUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
      text = await res.text();
    } catch (err) {
      return { first: 0, median: 0, max: 0, bytes, error: `request failed: ${(err as Error).message}` };
    }
    ms.push(performance.now() - t);
    bytes = text.length;
    if (res.status !== 200) return { first: 0, median: 0, max: 0, bytes, error: `HTTP ${res.status}: ${text.slice(0, 160)}` };
    if (!hasData(JSON.parse(text))) return { first: 0, median: 0, max: 0, bytes, error: `empty answer: ${text.slice(0, 160)}` };
  }
  const rest = ms.slice(1).sort((a, b) => a - b);
  return { first: ms[0]!, median: rest[Math.floor(rest.length / 2)]!, max: rest[rest.length - 1]!, bytes };
}

const guard = new BenchGuard('bench:embedded');
const services: LocalService[] = [];
const rows: Record<string, string | number | boolean>[] = [];
const queryRows: Record<string, string>[] = [];
say(`machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${new Date().toISOString()}`);
try {
  const needsFarm = BACKENDS.includes('influx-redis');
  const influx = needsFarm ? (process.env.INFLUX_URL ? null : await startLocalInflux()) : null;
  const redis = needsFarm ? (process.env.REDIS_URL ? null : await startLocalRedis()) : null;
  if (influx) services.push(influx);
  if (redis) services.push(redis);
  const influxUrl = process.env.INFLUX_URL ?? influx?.url ?? '';
  const redisUrl = process.env.REDIS_URL ?? redis?.url ?? '';

  for (const n of SIZES) {
    const work = mkdtempSync(join(tmpdir(), 'bosfleet-bench-embedded-'));
    const inventory = join(work, 'inventory.yaml');
    const sim = await spawnReady(['bin/bos-fleet.ts', 'simulator', '--miners', String(n), '--seed', '5', '--sites', '4', '--base-address', '127.32.0.1', '--inventory-out', inventory, '--json']);
    try {
      const inv = parse(readFileSync(inventory, 'utf8')) as { miners: { id: string; tenant?: string; site?: string; labels?: Record<string, string> }[]; defaults?: { tenant?: string } };
      const tenant = inv.miners[0]!.tenant ?? inv.defaults?.tenant ?? 'default';
      const nominal = (key: string | undefined): number => (key && isModelKey(key) ? MODELS[key].stickerGhs : 104_000);
      const miners: HistoryMiner[] = inv.miners.map(m => ({
        ref: { id: m.id, tenant, site: m.site ?? 'default', address: '', credentials: 'default', labels: {} },
        model: m.labels?.model ?? 'unknown',
        nominalGhs: nominal(m.labels?.model_key),
      }));
      const someId = miners[Math.floor(n / 2)]!.ref.id;
      say(`simulator: ${n} miners, tenant ${tenant}`);

      for (const backend of BACKENDS) {
        const dataDir = join(work, `data-${backend}`);
        const db = `bench_embedded_${n}_${Date.now()}`;
        const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn', MINER_PASSWORD: 'root', BOSFLEET_STORE: backend };
        delete env.INFLUX_URL;
        delete env.REDIS_URL;
        if (backend === 'influx-redis') Object.assign(env, { INFLUX_URL: influxUrl, INFLUX_DB: db, REDIS_URL: redisUrl, REDIS_PREFIX: db });
        const collectorId = collectorIdOf(env);

        // 1) history through the ports
        const store: Store =
          backend === 'embedded'
            ? openEmbeddedStore({ dataDir })
            : openInfluxRedisStore({ redisUrl, redisPrefix: db, influx: { url: influxUrl, db, auth: 'none', flavour: '1', timeoutMs: 60_000 } });
        let h;
        try {
          h = await writeStoreHistory(store, { miners, days: DAYS, endMs: Date.now(), collectorId });
        } finally {
          await store.close();
        }
        const pts = Object.entries(h.points).map(([k, v]) => `${k} ${v.toLocaleString('en-US')}`).join(', ');
        say(`${backend}: history ${DAYS} d written through the ports in ${(h.ms / 1000).toFixed(1)} s (${pts}; ${h.windowFields.toLocaleString('en-US')} window fields)`);

        // 2) the one process
        const diskNow = async (): Promise<number> => {
          if (backend === 'embedded') return dirBytes(dataDir);
          if (!influx) return NaN; // an INFLUX_URL of someone else: its folder is not ours to measure
          const r = createRedis(redisUrl, { name: 'bench-embedded' });
          try {
            if (!(await waitForRedis(r, 10_000))) throw new Error(`Redis at ${redisUrl} is not reachable`);
            const info = await r.info('memory');
            return dirBytes(influx.dataDir) + Number(/used_memory:(\d+)/.exec(info)?.[1] ?? NaN);
          } finally {
            r.disconnect();
          }
        };
        // Disk from the closed store after the history to the closed store after a clean stop: both
        // checkpointed, so the WAL's size at one scrape does not count as growth.
        const disk0 = await diskNow();
        const diskT0 = Date.now();
        const metricsPort = await freePort();
        const started = await spawnReady(
          ['bin/bos-fleet.ts', 'start', '--json', '--store', backend, '--data-dir', dataDir, '--inventory', inventory, '--port', '0', '--metrics-port', String(metricsPort), '--tenant', tenant, '--interval', String(INTERVAL_MS)],
          env,
        );
        const proc = started.child;
        const apiUrl = String(started.ready.api);
        const token = String(started.ready.token);
        const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
        // A loaded machine can reset a reused keep-alive connection; a scrape is retried, not fatal.
        const scrape = async (): Promise<string> => {
          for (let attempt = 1; ; attempt++) {
            try {
              return await (await fetch(metricsUrl)).text();
            } catch (err) {
              if (attempt >= 3) throw err;
              await sleep(200);
            }
          }
        };
        let row: Record<string, string | number | boolean>;
        try {
          await sleep(Math.max(WARMUP_MS, INTERVAL_MS + 2_000));
          const sampler = new ProcSampler(proc.pid!);
          const before = await scrape();
          sampler.begin();
          let maxLag = 0;
          const t0 = Date.now();
          while (Date.now() - t0 < DURATION_MS) {
            await sleep(2_000);
            maxLag = Math.max(maxLag, metric(await scrape(), 'bosfleet_cycle_lag_seconds'));
          }
          const after = await scrape();
          const wallS = (Date.now() - t0) / 1000;
          // 3) REST latency while the process keeps collecting
          const routes: [string, string][] = [
            ['fleet hashrate series 24 h', '/api/v1/fleet/series?metric=hashrate_ths&from=now-24h'],
            ['underperformers 24 h', '/api/v1/analytics/underperformers?window=24h'],
            ['efficiency ranking 24 h', '/api/v1/analytics/efficiency?window=24h'],
            ['one miner telemetry 30 d', `/api/v1/miners/${encodeURIComponent(someId)}/telemetry?from=now-30d`],
          ];
          for (const [label, path] of routes) {
            const t = await timeQuery(apiUrl, token, path);
            queryRows.push({
              miners: String(n),
              backend,
              query: label,
              ...(t.error ? { first_ms: 'FAILED', median_ms: 'FAILED', max_ms: 'FAILED', bytes: t.error } : { first_ms: t.first.toFixed(0), median_ms: t.median.toFixed(0), max_ms: t.max.toFixed(0), bytes: String(t.bytes) }),
            });
            guard.check(!t.error, `${backend} ${n} ${label}: ${t.error}`);
            say(`${backend} ${n}: ${label}: ${t.error ?? `first ${t.first.toFixed(0)} ms, median ${t.median.toFixed(0)} ms, max ${t.max.toFixed(0)} ms, ${t.bytes} bytes`}`);
          }
          const use = sampler.end();
          const d = (name: string, labels = ''): number => metric(after, name, labels) - metric(before, name, labels);
          const ok = d('bosfleet_polls_total', 'result="ok"');
          const errors = d('bosfleet_polls_total', 'result="error"');
          const skipped = d('bosfleet_polls_skipped_total');
          // the simulated miners answer every poll: an error is a failed input, not a figure
          guard.check(ok > 0 && errors === 0, `${backend} ${n}: ${ok} polls ok, ${errors} failed`);
          const pollsPerS = ok / wallS;
          const target = n / (INTERVAL_MS / 1000);
          const flushes = d('bosfleet_store_write_duration_seconds_count', 'kind="series"');
          const flushS = d('bosfleet_store_write_duration_seconds_sum', 'kind="series"');
          const stateN = d('bosfleet_store_write_duration_seconds_count', 'kind="state"');
          const stateS = d('bosfleet_store_write_duration_seconds_sum', 'kind="state"');
          const cycles = wallS / (INTERVAL_MS / 1000);
          await stopChild(proc);
          const disk1 = await diskNow();
          const perMinerDay = ((disk1 - disk0) / ((Date.now() - diskT0) / 1000)) * 86_400 / n;
          row = {
            miners: n,
            backend,
            'polls/s': Math.round(pollsPerS * 10) / 10,
            target,
            errors,
            skipped,
            'max lag s': Math.round(maxLag * 100) / 100,
            keeps_10s: ok > 0 && pollsPerS >= target * 0.97 && maxLag < INTERVAL_MS / 1000 && skipped === 0,
            'series flushes/cycle': flushes > 0 ? Math.round((flushes / cycles) * 10) / 10 : 'FAILED (no flush observed)',
            'series ms/flush': flushes > 0 ? Math.round((flushS / flushes) * 1000 * 10) / 10 : 'FAILED',
            'series ms/cycle': flushes > 0 ? Math.round((flushS / cycles) * 1000) : 'FAILED',
            'series p99 flush': histogramQuantile(before, after, 'bosfleet_store_write_duration_seconds', 'kind="series"', 0.99),
            'state ms/cycle': stateN > 0 ? Math.round((stateS / cycles) * 1000) : 'FAILED',
            'disk kB/miner/day': Number.isFinite(perMinerDay) && disk1 > disk0 ? Math.round(perMinerDay / 1024) : 'FAILED',
            'cpu %': Math.round(use.cpuPct),
            'peak RSS MB': Math.round(use.peakRssMb),
          };
        } finally {
          await stopChild(proc);
        }
        rows.push(row);
        say(JSON.stringify(row));
      }
    } finally {
      await stopChild(sim.child);
      rmSync(work, { recursive: true, force: true });
    }
  }
} catch (err) {
  guard.fail(`run aborted: ${(err as Error).message}`);
} finally {
  for (const s of services) await s.destroy();
}
say('done');
if (guard.finish()) {
  console.table(rows);
  console.table(queryRows);
}
