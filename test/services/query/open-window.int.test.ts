import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '../../../services/context.ts';
import { FleetQuery } from '../../../services/query/fleet-query.ts';
import { MinerRollups } from '../../../collector/rollups.ts';
import { WindowStatsWriter } from '../../../collector/window-stats-writer.ts';
import { WindowBuckets } from '../../../services/query/window-buckets.ts';
import { planExactWindow, readWindowStats } from '../../../services/query/window-stats.ts';
import type { MinerRef, MinerSample } from '../../../core/samples.ts';
import { BACKENDS, openTestStore, type TestStore } from '../../store/backends.ts';

// The collector writes each miner's open 5-minute window to the window statistics every cycle
// (a partial its closed value overwrites), so a window ending now is answered without raw
// per-miner points. No raw points are stored here: only the partials can answer the open bucket.
// The fleet is larger than the size up to which window edges are read from raw points.

const POLL_MS = 10_000;
const MIN = 60_000;
const FIVE = 5 * MIN;
const NOW = Math.floor(Date.now() / FIVE) * FIVE - 2 * MIN; // 3 minutes into a bucket
const OPEN = Math.floor(NOW / FIVE) * FIVE;
const START = OPEN - 20 * MIN;
/** the collector of `gone` stopped one minute into the open bucket */
const STOPPED = OPEN + MIN;
const MINERS = 300;
const viewer = (tenant: string): Caller => ({ sub: 'ops', tenant, roles: ['viewer'] });
const ids = Array.from({ length: MINERS }, (_, i) => `m${String(i).padStart(3, '0')}`);

const ref = (tenant: string, id: string): MinerRef => ({ id, tenant, site: 's1', address: `${id}:50051`, credentials: 'default', labels: {} });

/** `m000` drops to half its hashrate in the open bucket; every other miner makes 100 TH/s. */
const hashrateAt = (id: string, t: number): number => (id === 'm000' && t >= OPEN ? 50_000 : 100_000);

function sample(tenant: string, id: string, t: number): MinerSample {
  return {
    time_ms: t,
    ref: ref(tenant, id),
    model: 'S19',
    hostname: id,
    firmware: 'fw',
    status: 'online',
    degraded_reasons: [],
    miner_status: 'normal',
    tuner_state: 'stable',
    hashrate_ghs: hashrateAt(id, t),
    hashrate_5m_ghs: hashrateAt(id, t),
    hashrate_nominal_ghs: 100_000,
    hashrate_error_mhs: 0,
    power_w: 3_000,
    power_target_w: null,
    efficiency_jth: null,
    temp_chip_max_c: 70,
    temp_board_max_c: 60,
    fan_rpm_min: 4_000,
    fan_rpm_avg: 4_100,
    shares_accepted: 0,
    shares_rejected: 0,
    shares_stale: 0,
    uptime_s: 1_000,
    boards_hashing: 3,
    boards_total: 3,
    hashboards: [],
    fans: [],
    pools: [],
  };
}

/** Polls `miners` of `tenant` from START until `until` as the collector does: partials written every cycle. */
async function collect(store: TestStore, tenant: string, runId: string, miners: readonly string[], until: number): Promise<void> {
  const writer = new WindowStatsWriter(store.state, { runId });
  const rollups = new MinerRollups({ write: () => undefined }, { onWindow: w => writer.add(w) });
  for (let t = START; t < until; t += POLL_MS) {
    for (const id of miners) rollups.addSample(sample(tenant, id, t));
    rollups.flushDue(t + POLL_MS, 2 * POLL_MS);
    for (const w of rollups.openWindows(FIVE)) writer.addOpen(w);
    if ((t - START) % MIN === 0) await writer.flush();
  }
  await writer.flush(); // a collector that stops without its shutdown: nothing more is written
}

describe.each(BACKENDS)('%s', backend => {
  let store: TestStore;
  let fq: FleetQuery;

  beforeAll(async () => {
    store = await openTestStore(backend);
    // tenant `live`: one collector polls every miner but `m299` up to now; another one polled
    // `m299` and stopped one minute into the open bucket.
    await collect(store, 'live', 'main.1', ids.slice(0, -1), NOW);
    await collect(store, 'live', 'stopped.1', ids.slice(-1), STOPPED);
    // tenant `halted`: its only collector stopped one minute into the open bucket.
    await collect(store, 'halted', 'halted.1', ids, STOPPED);
    fq = new FleetQuery({ store }, { pollIntervalMs: POLL_MS, now: () => NOW });
  }, 120_000);

  afterAll(async () => {
    await fq?.close();
    await store?.destroy();
  });

  it("the collector's partial holds the open window so far, the last poll included", async () => {
    const flat = await store.state.windowBucket('live', { res: '5m', startMs: OPEN });
    expect(flat.length / 2).toBe(MINERS);
    const buckets = new WindowBuckets(store.state, { now: () => NOW });
    const plan = planExactWindow({ fromMs: OPEN, toMs: NOW }, NOW, { rawEdges: false });
    expect(plan.units).toEqual([{ res: '5m', startMs: OPEN }]);
    const got = await readWindowStats(buckets, 'live', plan, { nowMs: NOW, pollMs: POLL_MS });
    const m0 = got.rows.find(r => r.key === 'm000')!;
    expect(m0.n.up).toBe((NOW - OPEN) / POLL_MS); // every poll of the open bucket, the last one too
    expect(m0.v.h).toBe(50_000);
    expect(got.covered).toEqual({ fromMs: OPEN, toMs: NOW });
  });

  it('a window ending now includes the open bucket, and its window says where it starts', async () => {
    const u = await fq.underperformers(viewer('live'), { window: '10m', thresholdPct: 90 });
    // 10 minutes back is 2 minutes past a boundary: rounded to it, not read from raw points
    expect(u.window).toEqual({ from: new Date(OPEN - FIVE).toISOString(), to: new Date(NOW).toISOString() });
    const m0 = u.items.find(i => i.miner === 'm000');
    expect(m0, JSON.stringify(u)).toBeDefined();
    const polls = { closed: FIVE / POLL_MS, open: (NOW - OPEN) / POLL_MS };
    const truth = (polls.closed * 100_000 + polls.open * 50_000) / (polls.closed + polls.open);
    expect(m0!.pct_nominal).toBeCloseTo((truth / 100_000) * 100, 1);
  });

  it("a window ending at its caller's now keeps the open bucket when the clock ticks before it is planned", async () => {
    let tick = 0;
    const ticking = new FleetQuery({ store }, { pollIntervalMs: POLL_MS, now: () => NOW + tick++ });
    try {
      const u = await ticking.underperformers(viewer('live'), { window: '10m', thresholdPct: 90 });
      expect(Date.parse(u.window.to)).toBeGreaterThan(OPEN);
      const polls = { closed: FIVE / POLL_MS, open: (NOW - OPEN) / POLL_MS };
      const truth = (polls.closed * 100_000 + polls.open * 50_000) / (polls.closed + polls.open);
      expect(u.items.find(i => i.miner === 'm000')?.pct_nominal).toBeCloseTo((truth / 100_000) * 100, 1);
    } finally {
      await ticking.close();
    }
  });

  it("a stopped collector's partial counts the polls it made, no more", async () => {
    const buckets = new WindowBuckets(store.state, { now: () => NOW });
    const plan = planExactWindow({ fromMs: OPEN, toMs: NOW }, NOW, { rawEdges: false });
    const got = await readWindowStats(buckets, 'live', plan, { nowMs: NOW, pollMs: POLL_MS });
    expect(got.rows.find(r => r.key === 'm299')!.n.up).toBe((STOPPED - OPEN) / POLL_MS);
  });

  it('a window over partials that stopped growing ends where their polls end, not at now', async () => {
    const a = await fq.availability(viewer('halted'), { from: 'now-5m' });
    expect(a.window).toEqual({ from: new Date(OPEN).toISOString(), to: new Date(STOPPED).toISOString() });
    expect(a.hint).toMatch(/narrowed/);
  });
});
