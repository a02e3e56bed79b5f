/**
 * The collector's InfluxDB write path at fleet scale, taken apart: what building line protocol
 * costs in JS, what InfluxDB itself takes per request (raw HTTP, first cycle = series creation,
 * then steady state, per batch size and per requests in flight, gzip or not), and what the
 * InfluxWriter delivers end to end per INFLUX_WRITE_CONCURRENCY. Points have the collector's real
 * shape (samplePoints: 1 miner + 3 hashboards + 4 fans + 2 pools = 10 lines per poll).
 *
 *   node bench/store/influx-write.ts [--miners 10000] [--url http://127.0.0.1:8086]
 *
 * Without --url a local influxd is started with the demo's settings (demo/local-services.ts).
 * Every write must answer 204 and every writer phase must deliver every point (checked with a
 * count query), or the figures are refused.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { parseArgs } from 'node:util';
import { BenchGuard } from '../lib/bench-guard.ts';
import { samplePoints } from '../../collector/points.ts';
import { createCollectorMetrics } from '../../collector/metrics.ts';
import type { MinerSample } from '../../core/samples.ts';
import { startLocalInflux, type LocalService } from '../../demo/local-services.ts';
import { InfluxClient, rowsOf, type InfluxSettings } from '../../store/influx-redis/influx-client.ts';
import { InfluxWriter } from '../../store/influx-redis/influx-writer.ts';
import { toLines } from '../../store/influx-redis/line-protocol.ts';

const { values } = parseArgs({
  options: {
    miners: { type: 'string', default: '10000' },
    url: { type: 'string' },
    db: { type: 'string', default: 'bench_write' },
  },
});
const N = Number(values.miners);
const guard = new BenchGuard(`influx-write (${N} miners)`);
let local: LocalService | undefined;
if (!values.url) local = await startLocalInflux();
const url = values.url ?? local!.url;

/** CPU seconds of the local influxd so far (found by its data folder in its command line), or null. */
const influxPid = local
  ? readdirSync('/proc').find(d => /^\d+$/.test(d) && (() => { try { return readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(local.dataDir); } catch { return false; } })())
  : undefined;
function influxCpuS(): number | null {
  if (!influxPid) return null;
  const f = readFileSync(`/proc/${influxPid}/stat`, 'utf8').slice(readFileSync(`/proc/${influxPid}/stat`, 'utf8').lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in clock ticks of 1/100 s
}
/** influxd's share of one core between two readings of (cpu s, wall ms). */
const cpuShare = (c0: number | null, t0: number): string => {
  const c1 = influxCpuS();
  return c0 === null || c1 === null ? '' : `; influxd ${(((c1 - c0) / ((performance.now() - t0) / 1000)) * 100).toFixed(0)} % of a core`;
};
const settings: InfluxSettings = { url, db: values.db!, auth: 'none', flavour: '1', timeoutMs: 120_000 };
const client = new InfluxClient(settings);
await client.query(`DROP DATABASE "${settings.db}"`).catch(() => undefined);
await client.ensureDatabase();

const CYCLE_MS = 10_000;
const base = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 6 * 3_600_000;
let cycleNo = 0;
const ids = Array.from({ length: N }, (_, i) => `m${String(i).padStart(5, '0')}`);

function sample(i: number, t: number): MinerSample {
  const board = (b: number) => ({ board: String(b), enabled: true, hashrate_ghs: 33_000 + (i % 7) * 10 + (t % 97), hashrate_nominal_ghs: 34_000, hashrate_error_mhs: 1.5, temp_chip_c: 70.25 + (i % 9), temp_board_c: 60.5, temp_inlet_c: 35.1, temp_outlet_c: 48.7, voltage_v: 13.2, frequency_mhz: 500, chips: 76 });
  return {
    time_ms: t, ref: { id: ids[i]!, tenant: 'acme', site: `site-${i % 4}`, address: '127.0.0.1:50051', credentials: 'default', labels: {} }, model: 'Antminer S19j Pro', hostname: ids[i]!, firmware: '2024-03-12-0-3a9fa2bf-24.03-plus',
    status: 'online', degraded_reasons: [], miner_status: 'normal', tuner_state: 'stable', hashrate_ghs: 100_000.5 + i, hashrate_5m_ghs: 100_010.25, hashrate_nominal_ghs: 104_000, hashrate_error_mhs: 2.5,
    power_w: 3_070.4, power_target_w: 3_100, efficiency_jth: 30.71, temp_chip_max_c: 75.5, temp_board_max_c: 62.25, fan_rpm_min: 4_000, fan_rpm_avg: 4_100.5, shares_accepted: 1_000 + t / CYCLE_MS, shares_rejected: 2, shares_stale: 1,
    uptime_s: 1_000, system_uptime_s: 2_000, boards_hashing: 3, boards_total: 3, hashboards: [board(1), board(2), board(3)],
    fans: [1, 2, 3, 4].map(f => ({ fan: String(f), rpm: 4_000 + f, pwm_ratio: 0.5 })),
    pools: [1, 2].map(p => ({ group: 'g', pool: `stratum+tcp://pool${p}.example.com:3333`, user: 'u', accepted: 1, rejected: 0, stale: 0, alive: true, active: p === 1, enabled: true })),
  };
}

/** One collection cycle of the whole fleet as lines, at a fresh timestamp. */
function cycleLines(): string[] {
  const t = base + cycleNo++ * CYCLE_MS;
  const out: string[] = [];
  for (let i = 0; i < N; i++) for (const l of toLines(samplePoints(sample(i, t)))) out.push(l);
  return out;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

// 1. JS: building the points and their line protocol (the collector's main thread does this).
{
  cycleLines(); // warm the JIT
  const runs: number[] = [];
  let lines = 0;
  for (let r = 0; r < 3; r++) {
    const t = performance.now();
    lines = cycleLines().length;
    runs.push(performance.now() - t);
  }
  const best = Math.min(...runs);
  console.log(`JS samplePoints + toLines, one cycle (${fmt(lines)} lines): ${runs.map(x => x.toFixed(0)).join(' / ')} ms = ${fmt(lines / (best / 1000))} lines/s of one core`);
  const one = cycleLines();
  const bytes = one.reduce((a, l) => a + l.length + 1, 0);
  const t = performance.now();
  const gz = gzipSync(one.slice(0, 5_000).join('\n'));
  console.log(`line size: ${(bytes / one.length).toFixed(0)} B avg; gzip of 5,000 lines: ${(performance.now() - t).toFixed(1)} ms (${fmt(gz.length)} B of ${fmt(one.slice(0, 5_000).join('\n').length)})`);
}

/** POST lines to /write in batches of `batch`, `inflight` requests at a time; points/s and request ms. */
async function rawWrite(lines: string[], batch: number, inflight: number, gzip: boolean): Promise<{ pps: number; reqMs: number[]; cpu: string }> {
  const batches: string[][] = [];
  for (let i = 0; i < lines.length; i += batch) batches.push(lines.slice(i, i + batch));
  const reqMs: number[] = [];
  let next = 0;
  const c0 = influxCpuS();
  const t0 = performance.now();
  const lane = async (): Promise<void> => {
    while (next < batches.length) {
      const b = batches[next++]!;
      const text = b.join('\n');
      const body = gzip ? gzipSync(text) : text;
      const t = performance.now();
      const res = await fetch(`${url}/write?db=${settings.db}&precision=ms`, {
        method: 'POST',
        body,
        headers: gzip ? { 'content-encoding': 'gzip' } : {},
      });
      reqMs.push(performance.now() - t);
      guard.check(res.status === 204, `raw write answered HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
    }
  };
  await Promise.all(Array.from({ length: inflight }, lane));
  return { pps: lines.length / ((performance.now() - t0) / 1000), reqMs, cpu: cpuShare(c0, t0) };
}

const stats = (ms: number[]): string => {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number): number => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return `request ms p50 ${q(0.5).toFixed(0)} p90 ${q(0.9).toFixed(0)} max ${s[s.length - 1]!.toFixed(0)}`;
};

// 2. InfluxDB's own time: raw HTTP, no client library.
{
  const first = await rawWrite(cycleLines(), 5_000, 1, true);
  console.log(`raw, cycle 1 (creates ${fmt(N * 10)} series), batch 5000, 1 in flight, gzip: ${fmt(first.pps)} points/s; ${stats(first.reqMs)}${first.cpu}`);
  for (const [batch, inflight, gzip] of [
    [5_000, 1, true], [5_000, 1, false], [1_000, 1, true], [20_000, 1, true],
    [5_000, 2, true], [5_000, 4, true], [1_000, 4, true], [10_000, 4, true],
  ] as const) {
    const r = await rawWrite(cycleLines(), batch, inflight, gzip);
    console.log(`raw, steady cycle, batch ${String(batch).padStart(5)}, ${inflight} in flight, ${gzip ? 'gzip' : 'plain'}: ${fmt(r.pps).padStart(7)} points/s; ${stats(r.reqMs)}${r.cpu}`);
  }
}

// 3. End to end through InfluxWriter (the collector's writer), per concurrency: two cycles each.
for (const concurrency of [1, 2, 4]) {
  const metrics = createCollectorMetrics(undefined, { processMetrics: false });
  const writer = new InfluxWriter({ settings, client, metrics, batchSize: 5_000, flushIntervalMs: 1_000, bufferMaxPoints: 1_000_000, maxRetryDelayMs: 30_000, concurrency });
  await writer.start();
  const from = base + cycleNo * CYCLE_MS;
  const cycles = [cycleLines(), cycleLines()];
  const to = base + cycleNo * CYCLE_MS;
  const total = cycles[0]!.length + cycles[1]!.length;
  const c0 = influxCpuS();
  const t0 = performance.now();
  for (const c of cycles) for (let i = 0; i < c.length; i += 1_000) writer.write(c.slice(i, i + 1_000));
  await writer.flush();
  const s = (performance.now() - t0) / 1000;
  const cpu = cpuShare(c0, t0);
  const { values: hist } = await metrics.storeWriteDuration.get();
  const sum = hist.find(v => v.metricName?.endsWith('_sum'))?.value ?? 0;
  const count = hist.find(v => v.metricName?.endsWith('_count'))?.value ?? 0;
  await writer.close();
  const stored = Number(rowsOf(await client.query(`SELECT count(rpm) FROM fan WHERE time >= ${from}ms AND time < ${to}ms`))[0]?.count ?? 0);
  guard.check(writer.written === total && writer.dropped === 0, `writer (concurrency ${concurrency}) wrote ${writer.written} of ${total}, dropped ${writer.dropped}`);
  guard.check(stored === 2 * 4 * N, `writer (concurrency ${concurrency}): ${stored} fan points stored, expected ${2 * 4 * N}`);
  console.log(`InfluxWriter, batch 5000, INFLUX_WRITE_CONCURRENCY=${concurrency}: ${fmt(total / s).padStart(7)} points/s (${fmt(total)} points in ${s.toFixed(1)} s); store_write_duration{kind="series"} mean ${((sum / Math.max(1, count)) * 1000).toFixed(0)} ms over ${count} requests${cpu}`);
}

await local?.destroy();
guard.finish();
