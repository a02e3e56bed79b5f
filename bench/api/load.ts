import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import type autocannon from 'autocannon';
import { machineBusyS, ProcSampler } from '../lib/process-stats.ts';

export interface LoadFigures {
  'req/s': number;
  /** per-request latency percentiles (one sample per response) */
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  max_ms: number;
  /** autocannon's own p99, "corrected" with a 1 ms interval (see load-child.ts); kept for comparison with earlier figures */
  'autocannon p99_ms': number;
  errors: number;
  'api cpu%': number;
  'autocannon cpu%': number;
  /** the whole machine, every process (% of one core; 200 = both cores of a 2-core machine) */
  'machine cpu%': number;
  /** the API's event-loop delay during the run (prom-client's monitor, reset by the scrape before it) */
  'loop p99_ms': number;
  'loop max_ms': number;
  /** the API's garbage-collection time during the run */
  gc_ms: number;
  /** miner-table loads during the run and their mean time (in the API's loader thread) */
  table_loads: number;
  table_load_ms: number;
  /** 1-minute load average when the run ended */
  load1: number;
}

/**
 * Drive `url` with autocannon in a child process (bench/api/load-child.ts) and report
 * throughput, latency percentiles, and the CPU of the API process, of autocannon and of the whole
 * machine during the run (% of one core): on a small machine the load generator's own CPU decides whether a
 * latency figure is the API's or the generator's.
 */
export async function runLoad(api: { pid: number; metricsUrl: string }, opts: autocannon.Options): Promise<LoadFigures> {
  const before = await scrape(api.metricsUrl);
  const child = spawn(process.execPath, [new URL('./load-child.ts', import.meta.url).pathname, JSON.stringify(opts)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const apiCpu = new ProcSampler(api.pid);
  const gen = new ProcSampler(child.pid!);
  apiCpu.begin();
  gen.begin();
  const machine0 = { busyS: machineBusyS(), t: Date.now() };
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  let genUse = { cpuPct: 0 };
  // Sample autocannon just before it exits: once its result is printed, the process is done.
  const code = await new Promise<number | null>(resolve => {
    child.stdout!.on('data', () => {
      if (out.endsWith('\n')) genUse = gen.end();
    });
    child.once('exit', resolve);
  });
  const apiUse = apiCpu.end();
  const after = await scrape(api.metricsUrl);
  const machinePct = ((machineBusyS() - machine0.busyS) / ((Date.now() - machine0.t) / 1_000)) * 100;
  if (code !== 0 || !out.trim()) throw new Error(`autocannon child exited with ${code}`);
  const r = JSON.parse(out) as autocannon.Result & { perRequest: { count: number; p50: number | null; p95: number | null; p99: number | null; max: number | null } };
  const lat = r.latency as unknown as Record<string, number>;
  const ms = (v: number | null): number => (v === null ? NaN : Math.round(v * 10) / 10);
  return {
    'req/s': Math.round(r.requests.average),
    p50_ms: ms(r.perRequest.p50),
    p95_ms: ms(r.perRequest.p95),
    p99_ms: ms(r.perRequest.p99),
    max_ms: ms(r.perRequest.max),
    'autocannon p99_ms': lat.p99!,
    errors: r.errors + r.non2xx,
    'api cpu%': Math.round(apiUse.cpuPct),
    'autocannon cpu%': Math.round(genUse.cpuPct),
    'machine cpu%': Math.round(machinePct),
    'loop p99_ms': Math.round(after('eventloop_lag_p99_seconds') * 1_000),
    'loop max_ms': Math.round(after('eventloop_lag_max_seconds') * 1_000),
    gc_ms: Math.round((after('gc_duration_seconds_sum') - before('gc_duration_seconds_sum')) * 1_000),
    ...tableLoads(before, after),
    load1: Math.round(loadavg()[0]! * 100) / 100,
  };
}

function tableLoads(
  before: (suffix: string) => number,
  after: (suffix: string) => number,
): { table_loads: number; table_load_ms: number } {
  const n = after('miner_table_load_seconds_count') - before('miner_table_load_seconds_count');
  const s = after('miner_table_load_seconds_sum') - before('miner_table_load_seconds_sum');
  return { table_loads: n, table_load_ms: n > 0 ? Math.round((s / n) * 1_000) : 0 };
}

/** The API's /metrics as a lookup: the sum of every sample whose name ends with `suffix`. */
async function scrape(url: string): Promise<(suffix: string) => number> {
  const text = await (await fetch(url)).text();
  const samples = text.split('\n').filter(l => l && !l.startsWith('#'));
  return suffix =>
    samples
      .filter(l => l.split(/[{ ]/, 1)[0]!.endsWith(suffix))
      .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}
