// Profitability at 10,000 miners: `days` of history written through the store's ports with the
// collector's own modules (bench/embedded/history.ts: window statistics, rollups), then
// ProfitabilityService answers timed as the API runs them (a FleetQuery over the same store):
// fleet and per-site margin over 24 h, every miner over 24 h, the losing miners of the last hour
// and break-even per model. First call (cold window statistics) and the median of the next runs.
//
//   node bench/energy/profitability.ts
//   node bench/energy/profitability.ts --miners 20000 --runs 9
//   INFLUX_URL=… REDIS_URL=… node bench/energy/profitability.ts --store influx-redis
import { mkdtempSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseConfig } from '../../runtime/config-loader.ts';
import type { Caller } from '../../services/context.ts';
import { profitabilityConfigSchema } from '../../services/energy/profitability-config.ts';
import { ProfitabilityService } from '../../services/energy/profitability-service.ts';
import { FleetQuery } from '../../services/query/fleet-query.ts';
import { openEmbeddedStore } from '../../store/embedded/index.ts';
import { openInfluxRedisStore } from '../../store/influx-redis/index.ts';
import type { Store } from '../../store/store.ts';
import type { HistoryMiner } from '../api/history.ts';
import { writeStoreHistory } from '../embedded/history.ts';
import { BenchGuard } from '../lib/bench-guard.ts';

const { values: args } = parseArgs({
  options: {
    miners: { type: 'string', default: '10000' },
    sites: { type: 'string', default: '10' },
    days: { type: 'string', default: '2' },
    runs: { type: 'string', default: '7' },
    store: { type: 'string', default: 'embedded' },
  },
});
const N = Number(args.miners);
const SITES = Number(args.sites);
const DAYS = Number(args.days);
const RUNS = Number(args.runs);
const BACKEND = args.store;
if (BACKEND !== 'embedded' && BACKEND !== 'influx-redis') throw new Error('--store: expected embedded or influx-redis');

const guard = new BenchGuard('energy profitability');
console.log(`# ${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}, node ${process.version}, ${N} miners, ${SITES} sites, ${DAYS} d history, ${BACKEND} store`);

const MODELS = [
  { model: 'Antminer S9', ghs: 14_000 },
  { model: 'Antminer S19j Pro', ghs: 104_000 },
  { model: 'Antminer S19 XP', ghs: 140_000 },
  { model: 'Antminer S21', ghs: 200_000 },
];
const TENANT = 'bench';
const miners: HistoryMiner[] = Array.from({ length: N }, (_, i) => {
  const m = MODELS[i % MODELS.length]!;
  return { ref: { id: `m-${String(i).padStart(6, '0')}`, tenant: TENANT, site: `site-${i % SITES}`, address: '', credentials: 'default', labels: {} }, model: m.model, nominalGhs: m.ghs };
});

const dir = mkdtempSync(join(tmpdir(), 'bosfleet-bench-profit-'));
const db = `bench_profit_${Date.now()}`;
const store: Store =
  BACKEND === 'embedded'
    ? openEmbeddedStore({ dataDir: dir })
    : openInfluxRedisStore({
        redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
        redisPrefix: db,
        influx: { url: process.env.INFLUX_URL ?? 'http://127.0.0.1:8086', db, auth: 'none', flavour: '1', timeoutMs: 60_000 },
      });

interface Timing {
  first: number;
  median: number;
  /** process CPU (user + system) of the median run: the figure to compare on a busy machine */
  cpuMedian: number;
}

const cpuMs = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000;

async function time<T>(f: () => Promise<T>): Promise<Timing & { answer: T }> {
  let t = performance.now();
  const answer = await f();
  const first = performance.now() - t;
  const runs: { wall: number; cpu: number }[] = [];
  for (let i = 0; i < RUNS; i++) {
    t = performance.now();
    const c = process.cpuUsage();
    await f();
    runs.push({ wall: performance.now() - t, cpu: cpuMs(process.cpuUsage(c)) });
  }
  const mid = <K extends 'wall' | 'cpu'>(k: K): number => runs.map(r => r[k]).sort((a, b) => a - b)[Math.floor(runs.length / 2)]!;
  return { first, median: mid('wall'), cpuMedian: mid('cpu'), answer };
}

try {
  const endMs = Date.now();
  const h = await writeStoreHistory(store, { miners, days: DAYS, endMs, collectorId: 'bench-profit' });
  console.log(`# history written in ${(h.ms / 1000).toFixed(1)} s (${h.windowFields.toLocaleString('en-US')} window fields)`);
  const fq = new FleetQuery({ store }, { pollIntervalMs: 10_000 });
  const config = parseConfig(profitabilityConfigSchema, {
    HASHPRICE_SOURCE: '{"kind":"fixed","value":0.05,"currency":"USD"}',
    ENERGY_PRICE_SOURCE: '{"kind":"fixed","price_per_mwh":60,"currency":"USD"}',
  });
  const svc = new ProfitabilityService({ fleetQuery: fq, config });
  const caller: Caller = { sub: 'bench', tenant: TENANT, roles: ['viewer'] };
  const rows: [string, Timing][] = [];

  const sites = await time(() => svc.profitability(caller, { from: 'now-24h' }));
  guard.check(sites.answer.fleet.miners === N, `profitability 24 h saw ${sites.answer.fleet.miners} miners, expected ${N}`);
  guard.check(sites.answer.groups.length === SITES, `profitability 24 h has ${sites.answer.groups.length} sites, expected ${SITES}`);
  guard.check(sites.answer.fleet.revenue > 0 && sites.answer.fleet.power_cost > 0, 'profitability 24 h: no revenue or no power cost');
  rows.push(['fleet + sites, 24 h', sites]);
  const means = await time(() => fq.minerMeans(caller, { from: 'now-24h' }));
  rows.push(['(of which: per-miner means, 24 h)', means]);
  const perMiner = await time(() => svc.profitability(caller, { from: 'now-24h', group_by: 'miner', limit: N }));
  guard.check(perMiner.answer.groups.length === N, `per-miner answer has ${perMiner.answer.groups.length} rows, expected ${N}`);
  rows.push([`every miner (${N} rows), 24 h`, perMiner]);
  const losing = await time(() => svc.losingMiners(caller, { limit: 100 }));
  guard.check(losing.answer.evaluated === N, `losing-miners evaluated ${losing.answer.evaluated}, expected ${N}`);
  guard.check(losing.answer.total > 0 && losing.answer.total < N, `losing-miners found ${losing.answer.total} of ${N} at 60 USD/MWh (expected the S9s only)`);
  rows.push(['losing miners, last 1 h', losing]);
  const be = await time(() => svc.breakEven(caller, {}));
  guard.check(be.answer.models.length === MODELS.length, `break-even has ${be.answer.models.length} models, expected ${MODELS.length}`);
  rows.push(['break-even per model, 24 h', be]);
  await fq.close();

  if (guard.finish()) {
    console.log(`| answer | first, wall (ms) | median of ${RUNS}, wall (ms) | median of ${RUNS}, process CPU (ms) |`);
    console.log('| --- | ---: | ---: | ---: |');
    for (const [label, t] of rows) console.log(`| ${label} | ${t.first.toFixed(0)} | ${t.median.toFixed(1)} | ${t.cpuMedian.toFixed(1)} |`);
    console.log(`# losing at 60 USD/MWh: ${losing.answer.total} of ${N}; fleet margin 24 h ${sites.answer.fleet.margin.toFixed(2)} USD`);
  }
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
