import { farmOf } from '../../test/store/backends.ts';
// bench/mcp: latency (cold, p50, p95) and default answer size of every read MCP tool at N
// miners, through an in-process MCP client (the SDK's Client over createMcpHandler's fetch: no
// network, real protocol, real stores).
//
//   node bench/mcp/run.ts --miners 1000,10000 --calls 20
//
// For each N a fresh InfluxDB database and Redis prefix get, written with the collector's own
// modules (test/mcp/seed.ts): every miner's snapshot (SnapshotStore: snapshots, indexes,
// aggregates), raw `miner` points for the last hour at 1-minute spacing (the fleet as a
// collector polling every 60 s would store it; FleetQuery runs with that poll interval),
// 24 h of 1-minute rollups (every minute at <= 2,000 miners; every --rollup-every minutes
// above, 15 by default, to keep seeding reasonable), 26 h of 1-hour rollups and 300 events.
// One miner (the one the per-miner tools ask about) is a simulated Braiins OS miner on loopback,
// so get_miner_config, ping_miner, get_miner_logs and diagnose_miner make real gRPC calls.
// Uses INFLUX_URL / REDIS_URL when set, else starts influxd and redis-server on loopback.
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { startLocalInflux, startLocalRedis, type LocalService } from '../../demo/local-services.ts';
import { answerBytes } from '../../mcp/size-budget.ts';
import { startSimulator } from '../../simulator/index.ts';
import { defaultReadCalls, startSyntheticMcp } from '../../test/mcp/synthetic.ts';

const { values } = parseArgs({
  options: {
    miners: { type: 'string', default: '1000,10000' },
    calls: { type: 'string', default: '20' },
    'rollup-every': { type: 'string', default: '15' },
  },
});
const SIZES = String(values.miners).split(',').map(Number);
const K = Number(values.calls);

interface Row {
  tool: string;
  cold_ms: number;
  p50_ms: number;
  p95_ms: number;
  bytes: number;
  note: string;
}

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const r1 = (v: number): number => Math.round(v * 10) / 10;

const services: LocalService[] = [];
const influxUrl = process.env.INFLUX_URL ?? services[services.push(await startLocalInflux()) - 1]!.url;
const redisUrl = process.env.REDIS_URL ?? services[services.push(await startLocalRedis()) - 1]!.url;
const sim = await startSimulator({ miners: 1, seed: 4, baseAddress: '127.44.0.1' });
const results: Record<number, Row[]> = {};
const seeding: string[] = [];

try {
  for (const n of SIZES) {
    const every = n <= 2_000 ? 1 : Number(values['rollup-every']);
    process.stdout.write(`seeding ${n} miners (1m rollups every ${every} min)…\n`);
    const f = await startSyntheticMcp({
      n,
      influxUrl,
      redisUrl,
      pollIntervalMs: 60_000,
      seed: { rawMinutes: 60, rawEveryMin: 1, rollup1mMinutes: 24 * 60, rollup1mEveryMin: every, rollup1hHours: 26 },
      runWorker: true,
    });
    seeding.push(`${n} miners: ${f.lines.toLocaleString('en')} lines in ${Math.round(f.seedMs / 1000)} s (1m rollups every ${every} min)`);
    try {
      // The miner the per-miner tools ask about answers for real (a simulated miner).
      const someId = f.miners[Math.floor(n / 2)]!.ref;
      const m = sim.miners[0]!;
      await farmOf(f.deps.infra.store).redis.hset(
        farmOf(f.deps.infra.store).keys.resolvedInventory(),
        someId.id,
        JSON.stringify({ id: someId.id, host: m.host, port: m.port, tenant: someId.tenant, site: someId.site, credentials: 'default', labels: {}, source: 'file' }),
      );
      // A finished job over one site (500 miners, all unreachable) for get_job.
      const job = await f.plane.control.execute(f.operator, { selector: { site: f.miners[0]!.ref.site } }, { kind: 'action', action: 'locate_on' });
      await f.plane.jobs.waitUntilFinished(f.operator, job.job!.id, 300_000);
      const client = await f.connect(f.viewer);
      await client.listTools();
      const rows: Row[] = [];
      for (const { name, args } of defaultReadCalls(f.miners, job.job!.id)) {
        const times: number[] = [];
        let bytes = 0;
        let note = '';
        for (let i = 0; i <= K; i++) {
          const t = performance.now();
          const r = (await client.callTool({ name, arguments: args })) as { isError?: boolean; content: { text?: string }[]; structuredContent?: unknown };
          const ms = performance.now() - t;
          if (i === 0) {
            bytes = answerBytes(r.content.map(c => c.text ?? '').join(''), r.structuredContent);
            if (r.isError) note = `error: ${(r.content[0]?.text ?? '').slice(0, 60)}`;
          }
          times.push(ms);
        }
        const cold = times.shift()!;
        times.sort((a, b) => a - b);
        const label = name === 'query_telemetry' ? `${name} (${'miners' in args ? '1 miner' : 'fleet'})` : name;
        rows.push({ tool: label, cold_ms: r1(cold), p50_ms: r1(pct(times, 50)), p95_ms: r1(pct(times, 95)), bytes, note });
        process.stdout.write(`  ${n} ${label}: p50 ${r1(pct(times, 50))} ms, ${bytes} B\n`);
      }
      results[n] = rows;
    } finally {
      await f.close();
    }
  }
  process.stdout.write(
    `\nmachine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}, ${new Date().toISOString()}\n`,
  );
  for (const s of seeding) process.stdout.write(`seeded ${s}\n`);
  const tools = results[SIZES[0]!]!.map(r => r.tool);
  const head = ['tool', ...SIZES.flatMap(n => [`${n}: cold ms`, `${n}: p50 ms`, `${n}: p95 ms`, `${n}: bytes`])];
  process.stdout.write(`\n| ${head.join(' | ')} |\n|${head.map(() => '---').join('|')}|\n`);
  for (const t of tools) {
    const cells = SIZES.flatMap(n => {
      const r = results[n]!.find(x => x.tool === t)!;
      return [r.cold_ms, r.p50_ms, r.p95_ms, r.bytes];
    });
    process.stdout.write(`| ${t} | ${cells.join(' | ')} |\n`);
  }
} finally {
  await sim.stop();
  for (const s of services) await s.destroy();
}
