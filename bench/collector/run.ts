// bench/collector: the largest fleet one collector process keeps on a 10 s cycle on this
// machine, its CPU and memory per 1,000 miners and points/s into InfluxDB, compared in the
// same run with a bare grpc-js loop making the same RPCs to the same simulator (the ceiling).
//
//   npm run bench:collector -- --miners 5000,10000 --duration 60
//   npm run bench:collector -- --miners 7500 --shards 2     # two collector processes sharing the fleet through leases
//   npm run bench:collector -- --miners 7500 --shards 2 --assign shard   # … through COLLECTOR_SHARD 0/2 and 1/2
//   npm run bench:collector -- --miners 10000 --poll-threads 2   # COLLECTOR_POLL_THREADS
//
// The simulated fleet runs in ceil(miners / 4,000) simulator processes (bench/simulator/fleet-processes.ts):
// one process needs two descriptors per miner and the hard limit here is 20,000.
//
// Everything runs on loopback and stops by itself; InfluxDB and Redis are INFLUX_URL/REDIS_URL
// or local Debian binaries started for the run.
import { mkdtempSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, startLocalInflux, startLocalRedis, type LocalService } from '../../demo/local-services.ts';
import { machineBusyS, ProcSampler, stopChild } from '../lib/process-stats.ts';
import { BenchGuard } from '../lib/bench-guard.ts';
import { startSimulatedFleet } from '../simulator/fleet-processes.ts';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const { values } = parseArgs({
  options: {
    miners: { type: 'string', default: '5000,10000' },
    duration: { type: 'string', default: '60' },
    interval: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '256' },
    // seconds the collector runs before measuring: logins, details and status streams of the first cycle
    warmup: { type: 'string', default: '30' },
    // collector processes sharing the fleet, to use more than one core
    shards: { type: 'string', default: '1' },
    // how they share it: leases in Redis (each its own COLLECTOR_ID) or static COLLECTOR_SHARD i/n
    assign: { type: 'string', default: 'lease' },
    // COLLECTOR_POLL_THREADS of each collector process (default: the collector's own default)
    'poll-threads': { type: 'string' },
    // skip the bare loop (profiling runs)
    'no-bare': { type: 'boolean', default: false },
    // V8 flags of the collector process (as NODE_OPTIONS would set them in production; docs/operations.md).
    'node-flags': { type: 'string', default: '--max-semi-space-size=16' },
  },
});
const sizes = String(values.miners).split(',').map(Number);
const durationMs = Number(values.duration) * 1000;
const intervalMs = Number(values.interval);
const concurrency = Number(values.concurrency);
const shards = Number(values.shards);
const assign = String(values.assign);
if (assign !== 'lease' && assign !== 'shard') throw new Error(`--assign ${assign}: expected lease or shard`);
const pollThreads = values['poll-threads'];
// a collector process holds a socket per miner and the descriptor limit here is 20,000
for (const n of sizes)
  if (Math.ceil(n / shards) > 18_000) throw new Error(`--miners ${n} with --shards ${shards}: over 18,000 miners per collector process does not fit the descriptor limit; use --shards ${Math.ceil(n / 18_000)}`);
const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms));

function metric(text: string, name: string, labels = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) {
      if (labels && !line.includes(labels)) continue;
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return sum;
}

const guard = new BenchGuard('bench/collector');
/** a quantile of bosfleet_poll_duration_seconds between two scrapes of every process (bucket upper bound) */
function histQuantile(after: string[], before: string[], q: number): number {
  const buckets = new Map<number, number>();
  const add = (texts: string[], sign: number): void => {
    for (const t of texts)
      for (const m of t.matchAll(/^bosfleet_poll_duration_seconds_bucket\{le="([^"]+)"\} (\S+)$/gm)) {
        const le = m[1] === '+Inf' ? Infinity : Number(m[1]);
        buckets.set(le, (buckets.get(le) ?? 0) + sign * Number(m[2]));
      }
  };
  add(after, 1);
  add(before, -1);
  const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  for (const [le, n] of sorted) if (n >= q * total) return le;
  return Infinity;
}

const services: LocalService[] = [];
const influxUrl = process.env.INFLUX_URL ?? (services[services.push(await startLocalInflux()) - 1]!.url);
const redisUrl = process.env.REDIS_URL ?? (services[services.push(await startLocalRedis()) - 1]!.url);
const results: Record<string, unknown>[] = [];

try {
  for (const n of sizes) {
    const dir = mkdtempSync(join(tmpdir(), 'bench-collector-'));
    const sim = await startSimulatedFleet(n, dir);
    const inventory = sim.inventoryPath;
    // CPU of all simulator processes together (% of one core)
    const simSamplers = sim.children.map(c => new ProcSampler(c.pid!));
    const simStats = {
      begin: () => simSamplers.forEach(s => s.begin()),
      end: () => simSamplers.map(s => s.end()).reduce((a, u) => ({ cpuPct: a.cpuPct + u.cpuPct, waitPct: a.waitPct + u.waitPct }), { cpuPct: 0, waitPct: 0 }),
    };
    try {
      // 1) the ceiling
      let bareResult: Record<string, number> = { polls_per_s: NaN, p50_ms: NaN, p99_ms: NaN, errors: 0, logins_failed: 0 };
      let bareUse = { cpuPct: NaN, peakRssMb: NaN };
      let simDuringBare = { cpuPct: NaN, waitPct: NaN };
      if (!values['no-bare']) {
        // one bare-loop process per 10,000 miners (a socket per miner; the descriptor limit is 20,000)
        const procs = Math.ceil(n / 10_000);
        const bares = Array.from({ length: procs }, (_, k) =>
          spawn(process.execPath, ['bench/collector/bare-loop.ts', inventory, String(durationMs), String(intervalMs), String(Math.ceil(concurrency / procs)), `${k}/${procs}`], { stdio: ['ignore', 'pipe', 'inherit'] }),
        );
        const bareStats = bares.map(b => new ProcSampler(b.pid!));
        bareStats.forEach(b => b.begin());
        simStats.begin();
        const parts = await Promise.all(
          bares.map(
            bare =>
              new Promise<Record<string, number>>((resolve, reject) => {
                createInterface({ input: bare.stdout! }).on('line', l => {
                  const m = JSON.parse(l) as Record<string, number> & { event: string };
                  if (m.event === 'result') resolve(m);
                });
                // after the result line this rejects nothing
                bare.once('exit', c => reject(new Error(`bare loop exited (${c}) without a result`)));
              }),
          ),
        );
        const sum = (k: string): number => parts.reduce((a, r) => a + r[k]!, 0);
        // counts add up; of the latencies the worst process's is kept
        bareResult = { polls_per_s: sum('polls_per_s'), errors: sum('errors'), logins_failed: sum('logins_failed'), p50_ms: Math.max(...parts.map(r => r.p50_ms!)), p99_ms: Math.max(...parts.map(r => r.p99_ms!)) };
        const uses = bareStats.map(b => b.end());
        bareUse = { cpuPct: uses.reduce((a, u) => a + u.cpuPct, 0), peakRssMb: uses.reduce((a, u) => a + u.peakRssMb, 0) };
        simDuringBare = simStats.end();
        await Promise.all(bares.map(b => (b.exitCode !== null ? undefined : new Promise(r => b.once('exit', r)))));
        guard.check(bareResult.logins_failed === 0, `${n} miners: ${bareResult.logins_failed} bare-loop logins failed`);
        guard.check(bareResult.errors === 0, `${n} miners: ${bareResult.errors} bare-loop polls failed`);
      }

      // 2) the collector: one process, or --shards processes (leases, or COLLECTOR_SHARD i/n), real InfluxDB and Redis
      const db = `bench_${n}_${Date.now()}`;
      const nodeFlags = String(values['node-flags']).split(' ').filter(Boolean);
      const cols: { child: ReturnType<typeof spawn>; port: number }[] = [];
      for (let i = 0; i < shards; i++) {
        const port = await freePort();
        const child = spawn(process.execPath, [...nodeFlags, 'bin/bos-fleet.ts', 'collector'], {
          stdio: ['ignore', 'ignore', 'inherit'],
          env: { ...process.env, LOG_LEVEL: 'warn', INFLUX_URL: influxUrl, INFLUX_DB: db, REDIS_URL: redisUrl, REDIS_PREFIX: db, COLLECTOR_INVENTORY_FILE: inventory, COLLECTOR_HTTP_PORT: String(port), COLLECTOR_POLL_INTERVAL_MS: String(intervalMs), COLLECTOR_CONCURRENCY: String(concurrency), MINER_PASSWORD: 'root', COLLECTOR_ID: `bench-${i}`, ...(assign === 'shard' ? { COLLECTOR_SHARD: `${i}/${shards}` } : {}), ...(pollThreads ? { COLLECTOR_POLL_THREADS: pollThreads } : {}) },
        });
        cols.push({ child, port });
      }
      const scrapeAll = async (): Promise<string[]> => Promise.all(cols.map(async c => (await fetch(`http://127.0.0.1:${c.port}/metrics`)).text()));
      const total = (texts: string[], name: string, labels = ''): number => texts.reduce((a, t) => a + metric(t, name, labels), 0);
      for (const c of cols) {
        for (let i = 0; i < 100; i++) {
          if (await fetch(`http://127.0.0.1:${c.port}/health/live`).then(r => r.ok, () => false)) break;
          await sleep(200);
        }
      }
      await sleep(Math.max(intervalMs + 2_000, Number(values.warmup) * 1000)); // first cycles: logins, details, streams
      const colStats = cols.map(c => new ProcSampler(c.child.pid!));
      // InfluxDB and Redis started for this run (not INFLUX_URL/REDIS_URL ones): their CPU per poll
      const storeStats = services.flatMap(s => (s.pid ? [{ name: s.name, sampler: new ProcSampler(s.pid) }] : []));
      const before = await scrapeAll();
      for (const st of colStats) st.begin();
      for (const st of storeStats) st.sampler.begin();
      simStats.begin();
      const machine0 = machineBusyS();
      let maxLag = 0;
      const t0 = Date.now();
      // Scraped every 5 s (for the worst lag): each scrape costs the collector the default process
      // metrics over 10,000 sockets (a readdir of /proc/self/fd, the active handles), which at a
      // 2 s cadence was ~8 % of its main thread at 10,000 miners; Prometheus scrapes every 15 s.
      while (Date.now() - t0 < durationMs) {
        await sleep(5_000);
        for (const t of await scrapeAll()) maxLag = Math.max(maxLag, metric(t, 'bosfleet_cycle_lag_seconds'));
      }
      const after = await scrapeAll();
      if (process.env.BENCH_DEBUG) for (const t of after) process.stderr.write(t.split('\n').filter(l => /eventloop_lag_p99|eventloop_lag_max|poll_duration_seconds_bucket\{le="(0.1|0.5|1|2.5)"/.test(l)).join('\n') + '\n');
      const uses = colStats.map(st => st.end());
      const storeUse = Object.fromEntries(storeStats.map(st => [`${st.name}_cpu_pct`, Math.round(st.sampler.end().cpuPct)]));
      const machinePct = ((machineBusyS() - machine0) / ((Date.now() - t0) / 1000)) * 100;
      // Several shards: CPU adds up; peak RSS is the sum of each process's peak (an upper bound).
      const colUse = { cpuPct: uses.reduce((a, u) => a + u.cpuPct, 0), peakRssMb: uses.reduce((a, u) => a + u.peakRssMb, 0) };
      const simDuringCol = simStats.end();
      const wallS = (Date.now() - t0) / 1000;
      const ok = total(after, 'bosfleet_polls_total', 'result="ok"') - total(before, 'bosfleet_polls_total', 'result="ok"');
      const errors = total(after, 'bosfleet_polls_total', 'result="error"') - total(before, 'bosfleet_polls_total', 'result="error"');
      const skipped = total(after, 'bosfleet_polls_skipped_total') - total(before, 'bosfleet_polls_skipped_total');
      const points = total(after, 'bosfleet_influx_points_written_total') - total(before, 'bosfleet_influx_points_written_total');
      const dropped = total(after, 'bosfleet_influx_points_dropped_total');
      const perProcess = cols.map((_, i) => ({
        polls_per_s: Math.round(((metric(after[i]!, 'bosfleet_polls_total', 'result="ok"') - metric(before[i]!, 'bosfleet_polls_total', 'result="ok"')) / wallS) * 10) / 10,
        cpu_pct: Math.round(uses[i]!.cpuPct),
        lease_miners_owned: metric(after[i]!, 'bosfleet_lease_miners_owned'),
        wait_for_cpu_pct: Math.round(uses[i]!.waitPct),
      }));
      if (shards > 1 && assign === 'lease') guard.check(total(after, 'bosfleet_lease_miners_owned') === n, `${n} miners: the leases of ${shards} collectors cover ${total(after, 'bosfleet_lease_miners_owned')} miners`);
      if (!values['no-bare']) guard.check(bareResult.polls_per_s! > 0, `${n} miners: the bare loop made no successful poll`);
      // A write backlog held in memory shows as a buffer that grows over the window.
      const backlogGrowth = total(after, 'bosfleet_influx_buffer_points') - total(before, 'bosfleet_influx_buffer_points');
      const loginErrors = total(after, 'bosfleet_polls_total', 'reason="auth_rejected"');
      guard.check(loginErrors === 0, `${n} miners: ${loginErrors} collector logins refused`);
      guard.check(errors === 0, `${n} miners: ${errors} collector polls failed`);
      guard.check(ok > 0, `${n} miners: the collector made no poll`);
      guard.check(dropped === 0, `${n} miners: ${dropped} points dropped`);
      guard.check(backlogGrowth <= Math.max(10_000, points * 0.02), `${n} miners: the write buffer grew by ${backlogGrowth} points (points not written)`);
      for (const c of cols) await stopChild(c.child);
      const pollsPerS = ok / wallS;
      const target = n / (intervalMs / 1000);
      const row = {
        miners: n,
        collector_processes: shards,
        assign: shards > 1 ? assign : 'one',
        poll_threads: pollThreads ?? 'default',
        simulator_processes: sim.children.length,
        target_polls_per_s: target,
        collector_polls_per_s: Math.round(pollsPerS * 10) / 10,
        collector_errors: errors,
        collector_skipped: skipped,
        max_cycle_lag_s: Math.round(maxLag * 100) / 100,
        keeps_cycle: pollsPerS >= target * 0.97 && maxLag < intervalMs / 1000 && skipped === 0,
        points_per_s: Math.round(points / wallS),
        points_per_poll: Math.round((points / Math.max(1, ok)) * 10) / 10,
        write_backlog_growth: backlogGrowth,
        points_dropped: dropped,
        collector_cpu_pct: Math.round(colUse.cpuPct),
        collector_rss_mb: Math.round(colUse.peakRssMb),
        collector_rss_mb_per_1000: Math.round((colUse.peakRssMb / n) * 1000 * 10) / 10,
        collector_cpu_pct_per_1000: Math.round((colUse.cpuPct / n) * 1000 * 10) / 10,
        bare_polls_per_s: Math.round(bareResult.polls_per_s! * 10) / 10,
        bare_poll_p50_ms: Math.round(bareResult.p50_ms!),
        bare_poll_p99_ms: Math.round(bareResult.p99_ms!),
        bare_errors: bareResult.errors,
        bare_cpu_pct: Math.round(bareUse.cpuPct),
        bare_rss_mb: Math.round(bareUse.peakRssMb),
        ratio_to_bare: Math.round((pollsPerS / bareResult.polls_per_s!) * 1000) / 1000,
        simulator_cpu_pct_bare: Math.round(simDuringBare.cpuPct),
        simulator_cpu_pct_collector: Math.round(simDuringCol.cpuPct),
        // time the simulator was runnable but had no core (% of wall): CPU oversubscription
        simulator_wait_for_cpu_pct_bare: Math.round(simDuringBare.waitPct),
        simulator_wait_for_cpu_pct_collector: Math.round(simDuringCol.waitPct),
        collector_poll_p50_ms: Math.round(histQuantile(after, before, 0.5) * 1000),
        collector_poll_p99_ms: Math.round(histQuantile(after, before, 0.99) * 1000),
        // the whole machine (all cores, 100 % = one core busy) while the collector ran: the rest is InfluxDB, Redis and other work
        machine_busy_pct: Math.round(machinePct),
        ...storeUse,
        // CPU of every process per poll (ms): collector, simulator, and InfluxDB + Redis when started here
        cpu_ms_per_poll: {
          collector: Math.round((colUse.cpuPct * 10_000) / Math.max(1, pollsPerS)) / 1000,
          simulator: Math.round((simDuringCol.cpuPct * 10_000) / Math.max(1, pollsPerS)) / 1000,
          ...Object.fromEntries(Object.entries(storeUse).map(([k, v]) => [k.replace('_cpu_pct', ''), Math.round((v * 10_000) / Math.max(1, pollsPerS)) / 1000])),
          bare_loop: Math.round((bareUse.cpuPct * 10_000) / bareResult.polls_per_s!) / 1000,
          simulator_with_bare_loop: Math.round((simDuringBare.cpuPct * 10_000) / bareResult.polls_per_s!) / 1000,
        },
        per_process: perProcess,
      };
      results.push(row);
      process.stderr.write(`# measured (not yet checked): ${JSON.stringify(row)}\n`);
    } finally {
      await sim.stop();
    }
  }
} catch (err) {
  guard.fail((err as Error).message);
} finally {
  for (const s of services) await s.destroy();
}
const reportable = guard.finish();
process.stdout.write(`\nmachine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}, ${new Date().toISOString()}\n`);
if (reportable) for (const r of results) process.stdout.write(JSON.stringify(r) + '\n');
if (reportable) console.table(results.map(r => ({ miners: r.miners, procs: r.collector_processes, threads: r.poll_threads, 'polls/s': r.collector_polls_per_s, target: r.target_polls_per_s, keeps: r.keeps_cycle, lag_s: r.max_cycle_lag_s, 'points/s': r.points_per_s, 'cpu%': r.collector_cpu_pct, 'MB/1k': r.collector_rss_mb_per_1000, 'bare/s': r.bare_polls_per_s, ratio: r.ratio_to_bare })));
