/**
 * Embedded series store at fleet scale: writes a fleet's history into a fresh data folder, then
 * times the reads the query service makes (through the series port, as FleetQuery builds them)
 * and one collection cycle's write transaction. Prints figures, the machine and its load.
 *
 *   node bench/store/series-embedded.ts [--miners 1000] [--keep]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { samplePoints } from '../../collector/points.ts';
import { MEASUREMENTS, type MinerSample } from '../../core/samples.ts';
import { openEmbeddedStore } from '../../store/embedded/index.ts';
import type { SeriesPoint, SeriesQuery } from '../../store/ports/series.ts';
import { statsQuery } from '../../services/query/stats.ts';
import { fleetRollupSeriesQuery, pickFleetSource } from '../../services/query/fleet-series.ts';
import { pickSource } from '../../services/query/influxql.ts';
import { BenchGuard } from '../lib/bench-guard.ts';

const { values } = parseArgs({ options: { miners: { type: 'string', default: '1000' }, keep: { type: 'boolean', default: false } } });
const N = Number(values.miners);
const guard = new BenchGuard('bench:store:series-embedded');
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const now = Math.floor(Date.now() / HOUR) * HOUR;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bosfleet-series-bench-'));
const store = openEmbeddedStore({ dataDir: dir, checkpointIntervalMs: 0, series: { retentionIntervalMs: 0 } });
const series = store.series;
const writer = await series.openWriter({ flushIntervalMs: 0, batchSize: Number.MAX_SAFE_INTEGER });
const tenant = 'acme';
const ids = Array.from({ length: N }, (_, i) => `m${String(i).padStart(5, '0')}`);
const site = (i: number): string => `site-${i % 4}`;

function sample(i: number, t: number): MinerSample {
  const board = (b: number) => ({ board: String(b), enabled: true, hashrate_ghs: 33_000 + (i % 7) * 10, hashrate_nominal_ghs: 34_000, hashrate_error_mhs: 1, temp_chip_c: 70 + (i % 9), temp_board_c: 60, temp_inlet_c: null, temp_outlet_c: null, voltage_v: 13.2, frequency_mhz: 500, chips: 76 });
  return {
    time_ms: t, ref: { id: ids[i]!, tenant, site: site(i), address: '127.0.0.1:50051', credentials: 'default', labels: {} }, model: 'Antminer S19j Pro', hostname: ids[i]!, firmware: '24.03',
    status: 'online', degraded_reasons: [], miner_status: 'normal', tuner_state: 'stable', hashrate_ghs: 100_000 + i, hashrate_5m_ghs: 100_000, hashrate_nominal_ghs: 104_000, hashrate_error_mhs: 2,
    power_w: 3_070, power_target_w: 3_100, efficiency_jth: 30.7, temp_chip_max_c: 75, temp_board_max_c: 62, fan_rpm_min: 4_000, fan_rpm_avg: 4_100, shares_accepted: 1_000, shares_rejected: 2, shares_stale: 1,
    uptime_s: 1_000, system_uptime_s: 2_000, boards_hashing: 3, boards_total: 3, hashboards: [board(1), board(2), board(3)],
    fans: [1, 2, 3, 4].map(f => ({ fan: String(f), rpm: 4_000, pwm_ratio: 0.5 })),
    pools: [1, 2].map(p => ({ group: 'g', pool: `stratum+tcp://pool${p}:3333`, user: 'u', accepted: 1, rejected: 0, stale: 0, alive: true, active: p === 1, enabled: true })),
  };
}

const rollup = (measurement: string, i: number, t: number): SeriesPoint => ({
  measurement,
  tags: { miner: ids[i]!, model: 'Antminer S19j Pro', site: site(i), tenant },
  fields: { hashrate_ghs: 100_000 + i, hashrate_nominal_ghs: 104_000, power_w: 3_070, efficiency_jth: 30.7, temp_chip_max_c: 75, temp_board_max_c: 62, fan_rpm_min: 4_000, shares_accepted: 1, shares_rejected: 0, shares_stale: 0, up: 1, samples: measurement === MEASUREMENTS.miner1m ? 6 : 360 },
  time_ms: t,
});

/** Wall time of each run, and the longest the event loop was held meanwhile (reads run on a worker thread). */
async function timed<T>(label: string, fn: () => Promise<T> | T, runs = 3): Promise<T> {
  let out!: T;
  const ms: number[] = [];
  const lag = monitorEventLoopDelay({ resolution: 5 });
  lag.enable();
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    out = await fn();
    ms.push(performance.now() - t);
  }
  lag.disable();
  ms.sort((a, b) => a - b);
  // every read here asks for data that was written: an empty answer is a failed input
  guard.check(!Array.isArray(out) || out.length > 0, `${label}: empty answer`);
  console.log(`${label.padEnd(66)} ${ms.map(x => x.toFixed(1)).join(' / ')} ms; event loop held ≤ ${(lag.max / 1e6).toFixed(0)} ms`);
  return out;
}

async function fill(label: string, make: (push: (p: SeriesPoint) => void) => void): Promise<void> {
  const t = performance.now();
  let n = 0;
  let batch: SeriesPoint[] = [];
  const push = (p: SeriesPoint): void => {
    batch.push(p);
    n++;
    if (batch.length >= 50_000) {
      writer.write(batch);
      batch = [];
      void writer.flush();
    }
  };
  make(push);
  writer.write(batch);
  await writer.flush();
  guard.check(writer.stats().dropped === 0, `${label}: ${writer.stats().dropped} points dropped so far`);
  console.log(`${label.padEnd(62)} ${n} points in ${((performance.now() - t) / 1000).toFixed(1)} s`);
}

console.log(`machine: ${os.cpus().length} x ${os.cpus()[0]?.model}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; load average ${os.loadavg().map(x => x.toFixed(2)).join(' ')}`);
console.log(`miners: ${N}, data folder ${dir}`);
await fill('miner_1h: 30 days', push => {
  for (let t = now - 30 * DAY; t < now; t += HOUR) for (let i = 0; i < N; i++) push(rollup(MEASUREMENTS.miner1h, i, t));
});
await fill('miner_1m: 24 h', push => {
  for (let t = now - DAY; t < now; t += MIN) for (let i = 0; i < N; i++) push(rollup(MEASUREMENTS.miner1m, i, t));
});
await fill('fleet_1m: 24 h (4 sites)', push => {
  for (let t = now - DAY; t < now; t += MIN)
    for (let s = 0; s < 4; s++) push({ measurement: MEASUREMENTS.fleet1m, tags: { collector: 'c1', model: 'Antminer S19j Pro', site: `site-${s}`, tenant }, fields: { miners: N / 4, online: N / 4, hashrate_ghs: 25e6, hashrate_nominal_ghs: 26e6, power_w: 767_500, temp_chip_max_c: 80, samples: (N / 4) * 6 }, time_ms: t });
});
await fill('miner (raw, miner points only): 1 h at 10 s', push => {
  for (let t = now - HOUR; t < now; t += 10_000) for (let i = 0; i < N; i++) push(samplePoints(sample(i, t))[0]!);
});

console.log('\nreads (3 runs, ms)');
const one = ids[Math.floor(N / 2)]!;
const telemetry = (fromMs: number, source: ReturnType<typeof pickSource>, stepMs: number): SeriesQuery => ({
  measurement: source.measurement, tenant, tags: [{ tag: 'miner', in: [one] }], fromMs, toMs: now, stepMs, fill: 'null',
  fields: ['hashrate_ghs', 'power_w', 'temp_chip_max_c'].map(field => ({ fn: 'mean' as const, field })),
});
const src30 = pickSource(30 * DAY, 'miner', 10_000);
await timed(`telemetry one miner 30 d (${src30.measurement}, step 6 h)`, () => series.reader.query(telemetry(now - 30 * DAY, src30, 6 * HOUR)));
await timed('telemetry one miner 1 h (miner raw, step 20 s)', () => series.reader.query(telemetry(now - HOUR, pickSource(HOUR, 'miner', 10_000), 20_000)));
const fleetSrc = pickFleetSource(DAY);
await timed(`fleet series 24 h hashrate (${fleetSrc.measurement}, step 15 min)`, () =>
  series.reader.query(fleetRollupSeriesQuery('hashrate_ths', fleetSrc, { tenant, fromMs: now - DAY, toMs: now, stepMs: 15 * MIN }).query));
const stats = (measurement: string, fromMs: number) =>
  statsQuery({ tenant, measurement, fromMs, toMs: now, specs: { h: { fn: 'mean', field: 'hashrate_ghs' }, n: { fn: 'mean', field: 'hashrate_nominal_ghs' }, up: { fn: 'mean', field: 'up' } }, groupBy: ['miner', 'site', 'model'] });
const src24 = pickSource(DAY, 'fleet', 10_000);
await timed(`underperformers 24 h, per-miner stats (${src24.measurement})`, () => series.reader.query(stats(src24.measurement, now - DAY)));
await timed('per-miner stats 12 h (miner_1m, the 1m tier at its longest)', () => series.reader.query(stats(MEASUREMENTS.miner1m, now - 12 * HOUR)));
await timed('per-miner stats 1 h (raw miner, the raw tier at its longest)', () => series.reader.query(stats(MEASUREMENTS.miner, now - HOUR)));

console.log('\nwrites');
const cycle = Array.from({ length: N }, (_, i) => samplePoints(sample(i, now + 10_000))).flat();
await timed(`one collection cycle: ${N} samples, ${cycle.length} points, one transaction`, async () => {
  writer.write(cycle);
  await writer.flush();
}, 1);
store.database.checkpoint();
console.log(`file ${(fs.statSync(store.location).size / 2 ** 20).toFixed(0)} MiB; load average after ${os.loadavg().map(x => x.toFixed(2)).join(' ')}`);
await writer.close();
await store.close();
if (!values.keep) fs.rmSync(dir, { recursive: true, force: true });
guard.finish();
