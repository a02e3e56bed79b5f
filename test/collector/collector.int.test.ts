import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startCollector, type CollectorHandle } from '../../collector/collector-service.ts';
import { parseConfig } from '../../runtime/config-loader.ts';
import { collectorConfigSchema } from '../../collector/config.ts';
import { BACKENDS, openTestStore, type TestStore } from '../store/backends.ts';
import type { SeriesGroup } from '../../store/ports/series.ts';
import { silentLogger } from '../../runtime/logger.ts';
import { MinerClient } from '../../collector/miner-client.ts';
import type { FleetEvent, MinerSnapshot } from '../../core/samples.ts';
import { waitForFirstPolls } from './first-polls.ts';
import { startSimulator, type SimulatedFleet } from '../../simulator/index.ts';
import type { MinerTruth } from '../../simulator/truth.ts';

// The collector over a simulated fleet of 200 miners (real gRPC on loopback), writing through
// each store backend (embedded SQLite; the real test InfluxDB and Redis) and read back through
// the store's ports. Stored values are compared with the simulator's own state.
const MINERS = 200;

const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms));

describe.each(BACKENDS)('collector over a simulated fleet (%s store)', backend => {
let fleet: SimulatedFleet;
let collector: CollectorHandle;
let store: TestStore;

beforeAll(async () => {
  store = await openTestStore(backend);
  fleet = await startSimulator({
    miners: MINERS,
    seed: 11,
    // a random /24 of 127.11: runs of this file in other worktrees or backends must not collide
    baseAddress: `127.11.${Math.floor(Math.random() * 250)}.1`,
    sites: 3,
    tenants: 2,
    models: 's19jpro:50,s21:30,s9:20',
    faults: 'unreachable:3,hashboard_failure:3,low_hashrate:2',
    rebootMs: 1_500,
    thermalTauMs: 1_000,
    warmupMs: 300,
  });
  const dir = mkdtempSync(join(tmpdir(), 'collector-it-'));
  const inventoryFile = join(dir, 'inventory.yaml');
  await fleet.writeInventory(inventoryFile);
  const config = parseConfig(collectorConfigSchema, {
    INFLUX_URL: inject('influxUrl'),
    REDIS_URL: inject('redisUrl'),
    COLLECTOR_INVENTORY_FILE: inventoryFile,
    COLLECTOR_POLL_INTERVAL_MS: '1000',
    // room for a loaded CI machine (800 ms took healthy miners offline); unreachable miners
    // refuse at once, so this does not slow their going offline
    COLLECTOR_RPC_TIMEOUT_MS: '2000',
    COLLECTOR_CONCURRENCY: '64',
    COLLECTOR_OFFLINE_AFTER_MISSES: '2',
    COLLECTOR_HTTP_PORT: '0',
    INFLUX_FLUSH_INTERVAL_MS: '200',
    MINER_PASSWORD: 'root',
  });
  collector = await startCollector(config, {
    store,
    log: silentLogger(),
    env: { ...process.env, MINER_PASSWORD: 'root' },
  });
  await sleep(4_500);
  // 200 miners polled by a collector sharing this process with the simulator: on a loaded CI
  // machine the first round can take well over the 15 s default.
  await waitForFirstPolls(collector, 60_000);
  await collector.flushSnapshots();
  await collector.writer.flush();
}, 180_000);

afterAll(async () => {
  if (!collector) return;
  await collector.stop();
  await fleet?.stop();
  await store?.destroy();
});

const tenants = (): string[] => [...new Set(fleet.miners.map(m => m.tenant))];
const HOUR_MS = 3_600_000;
/** one group's single row (a query without a step answers one row per group) */
const only = (g: SeriesGroup): Record<string, unknown> => ({ ...g.tags, ...g.rows[0] });

/** Expected hashrate counting every board: a board without chips or nominal counts at the median of its hashing siblings. */
function expectedEveryBoardGhs(t: MinerTruth): number {
  const live = t.boards
    .filter(b => b.enabled && b.chips > 0 && b.hashrate_nominal_ghs > 0)
    .map(b => b.hashrate_nominal_ghs)
    .sort((a, b) => a - b);
  const m = live.length >> 1;
  const median = live.length === 0 ? 0 : live.length % 2 ? live[m]! : (live[m - 1]! + live[m]!) / 2;
  const counted = (b: MinerTruth['boards'][number]): boolean =>
    !b.enabled || (b.chips > 0 && b.hashrate_nominal_ghs > 0);
  return t.boards.reduce((a, b) => a + (counted(b) ? b.hashrate_nominal_ghs : median), 0);
}

const hashingGhs = (t: MinerTruth): number =>
  t.boards.filter(b => b.hashing && b.chips > 0).reduce((a, b) => a + b.hashrate_ghs, 0);

const faulty = (kind: string): string[] =>
  fleet.miners.filter(m => fleet.faults(m.id).some(f => f.kind === kind)).map(m => m.id);

  it('writes every reachable miner with values and units matching the simulator', async () => {
    // The simulator's hashrate windows are time-averages since bosminer started, so right after
    // start a miner's 1-minute figure still climbs: compare each stored value with the truth
    // read just before and just after the poll that stored it, not with a truth read later.
    const reachable = fleet.miners.filter(m => !faulty('unreachable').includes(m.id));
    const before = new Map(reachable.map(m => [m.id, fleet.truth(m.id)]));
    const sinceMs = Date.now();
    // Each miner's first point with up = 1 since then (points come newest first).
    const firstPollsSince = async (): Promise<Record<string, unknown>[]> => {
      await collector.writer.flush();
      const first = new Map<string, Record<string, unknown>>();
      for (const tenant of tenants()) {
        const points = await store.series.reader.points({
          measurement: 'miner',
          tenant,
          fromMs: sinceMs + 1,
          toMs: Date.now() + HOUR_MS,
          limit: 200_000,
        });
        for (const p of points) if (Number(p.up) === 1) first.set(String(p.miner), p);
      }
      return [...first.values()].map(p => ({
        ...p,
        temp_c: p.temp_chip_max_c,
        boards: p.boards_total,
        nominal: p.hashrate_nominal_ghs,
        nominal_reported: p.hashrate_nominal_reported_ghs,
      }));
    };
    // A poll can miss on a loaded machine; every reachable miner answers one within the deadline.
    await expect
      .poll(async () => (await firstPollsSince()).length, { timeout: 60_000, interval: 500 })
      .toBe(reachable.length);
    const rows = await firstPollsSince();
    const after = new Map(reachable.map(m => [m.id, fleet.truth(m.id)]));
    const between = (v: number, a: number, b: number, rel: number, abs: number): void => {
      expect(v).toBeGreaterThan(Math.min(a, b) * (1 - rel) - abs);
      expect(v).toBeLessThan(Math.max(a, b) * (1 + rel) + abs);
    };
    for (const r of rows) {
      const t0 = before.get(String(r.miner))!;
      const t1 = after.get(String(r.miner))!;
      expect(r.tenant).toBe(t0.tenant);
      expect(r.site).toBe(t0.site);
      expect(r.model).toBe(t0.model);
      expect(Number(r.boards)).toBe(t0.boards_total);
      // GH/s on both sides: a TH/s or MH/s mix-up would be off by 1000x. A dead board's share of
      // the lagging 1-minute window is not output any more (docs/data-model.md), so the truth is
      // the window of the boards still hashing.
      between(Number(r.hashrate_ghs), hashingGhs(t0), hashingGhs(t1), 0.1, 500);
      // The miner's own nominal drops with a dead board; the stored expectation counts every
      // board, a dead one at its hashing siblings' median (docs/data-model.md).
      expect(Number(r.nominal_reported)).toBeCloseTo(t0.hashrate_nominal_ghs, -3);
      expect(Number(r.nominal)).toBeCloseTo(expectedEveryBoardGhs(t0), -3);
      between(Number(r.power_w), t0.power_w, t1.power_w, 0.1, 50);
      between(Number(r.temp_c), t0.temp_chip_max_c, t1.temp_chip_max_c, 0, 8);
    }
  });

  it('writes per-board, fan and pool series', async () => {
    const id = fleet.miners.find(m => !faulty('unreachable').includes(m.id))!.id;
    const t = fleet.truth(id);
    const last = async (measurement: string, field: string, by: string): Promise<Record<string, unknown>[]> =>
      (
        await store.series.reader.query({
          measurement,
          tenant: t.tenant,
          tags: [{ tag: 'miner', in: [id] }],
          fromMs: Date.now() - HOUR_MS,
          toMs: Date.now() + HOUR_MS,
          fields: [{ fn: 'last', field, as: 'v' }],
          groupBy: [by],
        })
      ).map(only);
    const boards = await last('hashboard', 'frequency_mhz', 'board');
    expect(boards).toHaveLength(t.boards_total);
    for (const b of boards) expect(Number(b.v)).toBeGreaterThan(100); // MHz, converted from Hz
    const fans = await last('fan', 'rpm', 'fan');
    expect(fans).toHaveLength(t.fans.length);
    const pools = await last('pool', 'accepted', 'pool');
    expect(pools.length).toBe(t.pools.length);
    expect(pools.every(p => !String(p.pool).includes('@'))).toBe(true);
  });

  it('keeps snapshots, indexes and fleet aggregates in the state store', async () => {
    let total = 0;
    for (const tenant of tenants()) {
      const ids = await collector.state.minersOf({ tenant });
      const expected = fleet.miners
        .filter(m => m.tenant === tenant)
        .map(m => m.id)
        .sort();
      expect(ids.sort()).toEqual(expected);
      const snaps = (await collector.state.snapshots(ids)).filter(
        (s): s is MinerSnapshot => s !== null,
      );
      const agg = await collector.state.aggregate(tenant);
      expect(agg!.miners_total).toBe(expected.length);
      for (const st of ['online', 'degraded', 'offline'] as const)
        expect(agg!.by_status[st]).toBe(snaps.filter(s => s.status === st).length);
      const hashrate = snaps
        .filter(s => s.status !== 'offline')
        .reduce((a, s) => a + (s.sample?.hashrate_ghs ?? 0), 0);
      // Aggregates and snapshots are written on their own timers; allow one poll of drift.
      expect(Math.abs(agg!.hashrate_ghs - hashrate)).toBeLessThan(hashrate * 0.02);
      total += ids.length;
    }
    expect(total).toBe(MINERS);
  });

  it('derives offline, degraded hashboard and low hashrate from the faults', async () => {
    for (const id of faulty('unreachable')) {
      const s = await collector.state.snapshot(id);
      expect(s!.status).toBe('offline');
      expect(s!.last_error).toBe('unreachable');
    }
    for (const id of faulty('hashboard_failure')) {
      const s = await collector.state.snapshot(id);
      expect(s!.status).toBe('degraded');
      expect(s!.sample!.degraded_reasons).toContain('hashboard_down');
      expect(s!.sample!.boards_hashing).toBe(s!.sample!.boards_total - 1);
    }
    const offline = await collector.state.minersOf({
      tenant: fleet.truth(faulty('unreachable')[0]!).tenant,
      status: 'offline',
    });
    expect(offline.length).toBeGreaterThan(0);
  });

  it('turns run-time faults and actions into events and statuses', async () => {
    const healthy = fleet.miners.filter(m => fleet.faults(m.id).length === 0);
    const [hot, board, paused, rebooted] = healthy.map(m => m.id);
    fleet.injectFault(hot!, 'overheat');
    fleet.injectFault(board!, { kind: 'hashboard_failure', board_index: 1 });
    const m = fleet.info(paused!);
    const c = new MinerClient({
      minerId: m.id,
      host: m.host,
      port: m.port,
      credentials: { username: 'root', password: 'root' },
    });
    await c.unary('ActionsService', 'PauseMining', {});
    // The status stream shows the pause well before the next details refresh.
    await expect
      .poll(async () => (await collector.state.snapshot(paused!))?.status, {
        timeout: 5_000,
        interval: 200,
      })
      .toBe('paused');
    fleet.rebootMiner(rebooted!);
    const tenantOf = (id: string): string => fleet.truth(id).tenant;
    const log = collector.store.events;
    const kindsFor = async (id: string): Promise<string[]> =>
      (await log.recent(tenantOf(id), { miner: id, limit: 50 })).map((e: FleetEvent) => e.kind);
    await expect.poll(() => kindsFor(hot!), { timeout: 15_000, interval: 500 }).toContain('overheating');
    await expect.poll(() => kindsFor(board!), { timeout: 10_000, interval: 500 }).toContain('hashboard_lost');
    await expect.poll(() => kindsFor(paused!), { timeout: 5_000, interval: 500 }).toContain('status_changed');
    await expect
      .poll(() => kindsFor(rebooted!), { timeout: 15_000, interval: 500 })
      .toContain('reboot_detected');
    // Events are appended as the poll lands; snapshots reach Redis on the next flush (≤ 1 s later, more on a loaded machine).
    await expect
      .poll(async () => (await collector.state.snapshot(hot!))?.sample?.degraded_reasons ?? [], {
        timeout: 5_000,
        interval: 200,
      })
      .toContain('overheating');
    await c.unary('ActionsService', 'ResumeMining', {});
    c.close();
    await collector.writer.flush();
    // History of events (InfluxDB `event` points on the farm; the events table on the embedded store).
    // A store handed to the collector writes its `event` points with a writer of its own, flushed
    // on its own timer (1 s), not by collector.writer.flush(): wait for it.
    const overheatHistory = async (): Promise<number> =>
      (
        await store.events.history(tenantOf(hot!), {
          fromMs: Date.now() - HOUR_MS,
          toMs: Date.now() + HOUR_MS,
          kind: 'overheating',
          miner: hot!,
          limit: 100,
        })
      ).events.length;
    await expect.poll(overheatHistory, { timeout: 10_000, interval: 200 }).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('marks a miner stuck well below nominal as degraded (low_hashrate)', async () => {
    // The 1-minute window the collector stores takes a while to fall below the threshold.
    for (const id of faulty('low_hashrate')) {
      await expect
        .poll(async () => (await collector.state.snapshot(id))?.sample?.degraded_reasons ?? [], {
          timeout: 60_000,
          interval: 1_000,
        })
        .toContain('low_hashrate');
    }
  }, 70_000);

  it('exports poll metrics and fleet gauges with bounded labels', async () => {
    const text = await collector.metrics.registry.metrics();
    expect(text).toMatch(/bosfleet_polls_total\{result="ok",reason="none"\} \d+/);
    expect(text).toMatch(/bosfleet_polls_total\{result="error",reason="unreachable"\} \d+/);
    expect(text).toMatch(/bosfleet_fleet_miners\{tenant="[^"]+",site="[^"]+",status="offline"\} [1-9]/);
    expect(text).not.toMatch(/miner="/);
    const res = await fetch(`http://127.0.0.1:${collector.httpPort}/health/ready`);
    expect(res.status).toBe(200);
  });

  it('writes 1-minute rollups itself', async () => {
    // The first minute boundary may not have passed yet; the rollup of a finished minute must
    // agree with the raw points of that minute.
    const rollups = async (): Promise<Record<string, unknown>[]> => {
      await collector.writer.flush();
      const all = await Promise.all(
        tenants().map(tenant =>
          store.series.reader.points({
            measurement: 'miner_1m',
            tenant,
            fromMs: Date.now() - HOUR_MS,
            toMs: Date.now() + HOUR_MS,
            limit: 10,
          }),
        ),
      );
      return all.flat();
    };
    await expect.poll(async () => (await rollups()).length, { timeout: 70_000, interval: 2_000 }).toBeGreaterThan(0);
    const [r] = await rollups();
    expect(Number(r!.samples)).toBeGreaterThan(0);
    expect(typeof r!.miner).toBe('string');
  }, 80_000);
});
