// Curtailment plan computation: 10,000 miners (10 sites, mixed models) against a 48 h price curve
// at 5-minute resolution with several expensive stretches. Pure computation, no I/O: prints the
// machine, the date, the load average before and after, and the plan time (target < 1 s).
//
//   npm run bench:energy
//   npm run bench:energy -- --miners 20000 --runs 9
import os from 'node:os';
import { parseArgs } from 'node:util';
import type { EnergyMiner } from '../../services/energy/energy-miner.ts';
import { planCurtailment } from '../../services/energy/planner.ts';
import { parseCurtailmentPolicy } from '../../services/energy/policy.ts';
import { makePriceCurve } from '../../services/energy/price-curve.ts';

const { values: args } = parseArgs({
  options: {
    miners: { type: 'string', default: '10000' },
    sites: { type: 'string', default: '10' },
    hours: { type: 'string', default: '48' },
    runs: { type: 'string', default: '7' },
  },
});
const N = Number(args.miners);
const SITES = Number(args.sites);
const HOURS = Number(args.hours);
const RUNS = Number(args.runs);

// deterministic pseudo-random numbers (mulberry32), so every run plans the same fleet
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(18);

const MODELS = [
  { model: 'S9', power_w: 1400, ths: 14, min_w: null },
  { model: 'S19', power_w: 3250, ths: 95, min_w: 2200 },
  { model: 'S19 XP', power_w: 3010, ths: 140, min_w: 2000 },
  { model: 'S21', power_w: 3500, ths: 200, min_w: 2200 },
] as const;

const T0 = Date.UTC(2026, 11, 7, 0, 0, 0);
const miners: EnergyMiner[] = Array.from({ length: N }, (_, i) => {
  const m = MODELS[Math.floor(rand() * MODELS.length)]!;
  const jitter = 0.9 + rand() * 0.2;
  return {
    id: `m-${String(i).padStart(6, '0')}`,
    tenant: 't1',
    site: `site-${i % SITES}`,
    model: m.model,
    labels: rand() < 0.02 ? { role: 'critical' } : ({} as Record<string, string>),
    power_w: Math.round(m.power_w * jitter),
    hashrate_ghs: m.ths * 1000 * (0.95 + rand() * 0.1),
    efficiency_jth: null,
    temp_chip_max_c: 60 + rand() * 30,
    power_target_min_w: m.min_w,
    power_target_max_w: m.min_w === null ? null : m.power_w * 1.2,
    state: rand() < 0.03 ? 'paused' : 'running',
    state_since_ms: T0 - Math.floor(rand() * 4 * 3_600_000),
  };
});

// 48 h at 5 minutes: a daily shape (cheap night, morning and evening peaks) with noise
const STEP = 5 * 60_000;
const intervals = [];
for (let t = T0; t < T0 + HOURS * 3_600_000; t += STEP) {
  const hour = ((t - T0) / 3_600_000) % 24;
  const peak = (hour >= 7 && hour < 10) || (hour >= 17 && hour < 21) ? 90 : 0;
  intervals.push({ start_ms: t, end_ms: t + STEP, price_per_mwh: 60 + peak + (rand() - 0.5) * 30 });
}
const curve = makePriceCurve(intervals, { currency: 'EUR', source: 'bench', fetched_at_ms: T0 });

const policy = parseCurtailmentPolicy({
  id: 'bench',
  selector: { tenant: 't1' },
  currency: 'EUR',
  strike_price_per_mwh: 120,
  target: { kind: 'reduce_percent', percent: 60 },
  method: { default: 'pause', by_model: { S21: 'power_target', 'S19 XP': 'power_target' } },
  ramp_kw_per_min: 400,
  min_on_minutes: 15,
  min_off_minutes: 10,
  exempt_labels: { role: 'critical' },
  max_price_age_minutes: 24 * 60,
  fallback: 'hold',
});

const load = () => os.loadavg().map(x => x.toFixed(2)).join(' ');
const cpus = os.cpus();
console.log(`machine: ${cpus.length} × ${cpus[0]?.model ?? 'unknown cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}`);
console.log(`date: ${new Date().toISOString()}`);
console.log(`load average at start (1/5/15 min): ${load()}`);
console.log(`input: ${N} miners on ${SITES} sites, ${intervals.length} price intervals (${HOURS} h at 5 min)`);

const times: number[] = [];
const cpuTimes: number[] = [];
let plan = null as ReturnType<typeof planCurtailment> | null;
for (let r = 0; r < RUNS; r++) {
  const t = performance.now();
  const cpu = process.cpuUsage();
  plan = planCurtailment({ miners, policy, curve, hashprice_per_ths_day: 0.05, now_ms: T0 });
  const used = process.cpuUsage(cpu);
  times.push(performance.now() - t);
  // CPU time of this process (all its threads, GC included): less at the mercy of other jobs
  cpuTimes.push((used.user + used.system) / 1000);
}
const sorted = [...times].sort((a, b) => a - b);
const p = plan!;
console.log(
  `plan: ${p.windows.length} windows, ${p.steps.length} steps, ${p.steps.reduce((a, s) => a + s.miners.length, 0)} miner actions, ` +
    `${p.totals.energy_avoided_mwh.toFixed(1)} MWh avoided, saved ${p.totals.cost_saved.toFixed(0)} EUR, forgone ${p.totals.revenue_forgone?.toFixed(0)} EUR`,
);
console.log(`plan time over ${RUNS} runs: first ${times[0]!.toFixed(0)} ms, median ${sorted[Math.floor(RUNS / 2)]!.toFixed(0)} ms, min ${sorted[0]!.toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms (target < 1000 ms)`);
const cpuSorted = [...cpuTimes].sort((a, b) => a - b);
console.log(`CPU time per plan: first ${cpuTimes[0]!.toFixed(0)} ms, median ${cpuSorted[Math.floor(RUNS / 2)]!.toFixed(0)} ms, min ${cpuSorted[0]!.toFixed(0)} ms`);
console.log(`load average at end (1/5/15 min): ${load()}`);
