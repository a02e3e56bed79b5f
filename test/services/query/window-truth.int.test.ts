import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '../../../services/context.ts';
import { FleetQuery } from '../../../services/query/fleet-query.ts';
import { samplePoints } from '../../../collector/points.ts';
import { MinerRollups } from '../../../collector/rollups.ts';
import type { HashboardSample, MinerRef, MinerSample, MinerSnapshot } from '../../../core/samples.ts';
import { computeAggregates } from '../../../core/fleet-aggregates.ts';
import { WindowStatsWriter } from '../../../collector/window-stats-writer.ts';
import type { SeriesPoint } from '../../../store/ports/series.ts';
import { BACKENDS, openTestStore, type TestStore } from '../../store/backends.ts';

// Issue #14 items 1, 2 and 3 through the collector's own writers (raw points to the series
// port, MinerRollups -> WindowStatsWriter -> the state port, snapshots) and FleetQuery, on both
// storage backends, against the truth of the polls fed in:
//  - an S9 with one of three boards dead (its own nominal drops with the board) is an underperformer;
//  - the open 5-minute bucket (polls since the last boundary) is part of every window;
//  - two adjacent 5-minute periods stay two periods.

const POLL_MS = 10_000;
const MIN = 60_000;
const FIVE = 5 * MIN;
// "Now" is 3 minutes into a 5-minute bucket, in the past of the real clock (hash expiry is real).
const NOW = Math.floor(Date.now() / FIVE) * FIVE - 2 * MIN;
const LAST_CLOSED = Math.floor(NOW / FIVE) * FIVE;
const START = LAST_CLOSED - 60 * MIN;
const caller: Caller = { sub: 'ops', tenant: 't-truth', roles: ['viewer'] };

const ref = (id: string): MinerRef => ({
  id,
  tenant: 't-truth',
  site: 's1',
  address: `${id}:50051`,
  credentials: 'default',
  labels: {},
});
const board = (id: string, ghs: number, nominal: number): HashboardSample => ({
  board: id,
  enabled: true,
  hashrate_ghs: ghs,
  hashrate_nominal_ghs: nominal,
  hashrate_error_mhs: 0,
  temp_chip_c: 70,
  temp_board_c: 60,
  temp_inlet_c: null,
  temp_outlet_c: null,
  voltage_v: null,
  frequency_mhz: null,
  chips: 63,
});

/** The truth: hashrate of each miner at time t. `late` drops to 74.86 % in the open bucket. */
const LATE_PCT = 74.86;
function poll(id: 'ok' | 'dead' | 'late', t: number): MinerSample {
  const dead = id === 'dead';
  const low = id === 'late' && t >= LAST_CLOSED;
  const hashrate = dead ? 10_000 : low ? 100_000 * (LATE_PCT / 100) : 100_000;
  const boards = dead
    ? [board('6', 5_000, 4_737.5), board('7', 5_000, 4_737.5), board('8', 0, 0)]
    : [
        board('1', hashrate / 3, 100_000 / 3),
        board('2', hashrate / 3, 100_000 / 3),
        board('3', hashrate / 3, 100_000 / 3),
      ];
  return {
    time_ms: t,
    ref: ref(id),
    model: dead ? 'S9' : 'S19',
    hostname: id,
    firmware: 'fw',
    status: low ? 'degraded' : 'online',
    degraded_reasons: low ? ['low_hashrate'] : [],
    miner_status: 'normal',
    tuner_state: 'stable',
    hashrate_ghs: hashrate,
    hashrate_5m_ghs: hashrate,
    hashrate_nominal_ghs: dead ? 9_475 : 100_000,
    hashrate_error_mhs: 0,
    power_w: dead ? 1_000 : 3_000,
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
    boards_hashing: dead ? 2 : 3,
    boards_total: 3,
    hashboards: boards,
    fans: [],
    pools: [],
  };
}

/** Mean hashrate of a miner over [from, to) from the polls. */
function truthMean(id: 'ok' | 'dead' | 'late', from: number, to: number): number {
  let s = 0;
  let n = 0;
  for (let t = START; t < NOW; t += POLL_MS)
    if (t >= from && t < to) {
      s += poll(id, t).hashrate_ghs;
      n++;
    }
  return s / n;
}

describe.each(BACKENDS)('%s', backend => {
  let store: TestStore;
  let fq: FleetQuery;

  beforeAll(async () => {
    store = await openTestStore(backend);
    const series = await store.series.openWriter({ flushIntervalMs: 60_000 });
    const points: SeriesPoint[] = [];
    const writer = new WindowStatsWriter(store.state, { runId: 'truth.1' });
    const rollups = new MinerRollups(series, { onWindow: w => writer.add(w) });
    const last = new Map<string, MinerSample>();
    for (let t = START; t < NOW; t += POLL_MS) {
      for (const id of ['ok', 'dead', 'late'] as const) {
        const s = poll(id, t);
        points.push(...samplePoints(s).filter(p => p.measurement === 'miner' || p.measurement === 'hashboard'));
        rollups.addSample(s);
        last.set(id, s);
      }
      rollups.flushDue(t + POLL_MS, 2 * POLL_MS); // as the collector does every cycle: closed windows
      for (const w of rollups.openWindows(FIVE)) writer.addOpen(w); // and the open ones so far
    }
    series.write(points);
    await series.close({ timeoutMs: 30_000 });
    await writer.flush();
    // The fixture reads back before anything is asserted over it: a store that lost it must fail
    // here, naming the store, not later as "no data" from the analytics.
    const stored = async (): Promise<number[]> =>
      Promise.all(
        ['miner', 'hashboard'].map(async measurement => {
          const g = await store.series.reader.query({
            measurement,
            tenant: 't-truth',
            fromMs: START,
            toMs: NOW,
            fields: [{ fn: 'count', field: 'hashrate_ghs', as: 'n' }],
          });
          return Number(g[0]?.rows[0]?.n ?? 0);
        }),
      );
    const expected = [3 * ((NOW - START) / POLL_MS), 9 * ((NOW - START) / POLL_MS)];
    expect(await stored(), store.location).toEqual(expected);
    const snaps: MinerSnapshot[] = [...last.values()].map(s => ({
      ref: s.ref,
      last_seen_ms: s.time_ms,
      last_poll_ms: s.time_ms,
      consecutive_failures: 0,
      last_error: null,
      status: s.status,
      sample: s,
      details: null,
    }));
    await store.state.putSnapshots(snaps);
    await store.state.putAggregates('collector', computeAggregates(snaps, NOW));
    fq = new FleetQuery({ store }, { pollIntervalMs: POLL_MS, now: () => NOW });
  }, 60_000);

  afterAll(async () => {
    await fq?.close();
    await store?.destroy();
  });

  describe('analytics tell the truth', () => {
    it('a miner with a dead board is below its expected hashrate, even at threshold 99', async () => {
      const u = await fq.underperformers(caller, { window: '30m', thresholdPct: 99 });
      const dead = u.items.find(i => i.miner === 'dead');
      expect(dead, JSON.stringify(u)).toBeDefined();
      expect(dead!.hashrate_nominal_ths).toBeCloseTo(14.2125, 2);
      expect(dead!.pct_nominal).toBeCloseTo((10_000 / 14_212.5) * 100, 0);
    });

    it('at board level the dead board is a 0 % board, not left out', async () => {
      const u = await fq.underperformers(caller, { window: '30m', level: 'board', thresholdPct: 90 });
      const b = u.items.find(i => i.miner === 'dead' && i.board === '8');
      expect(b, JSON.stringify(u)).toBeDefined();
      expect(b!.pct_nominal).toBe(0);
      expect(b!.hashrate_nominal_ths).toBeCloseTo(4.7375, 2);
      expect(u.hint ?? '').not.toMatch(/no hashrate data/);
    });

    it('a 5-minute window covers up to the last poll, the open bucket included, and says so', async () => {
      const u = await fq.underperformers(caller, { window: '5m', thresholdPct: 90 });
      expect(u.window).toEqual({ from: new Date(NOW - FIVE).toISOString(), to: new Date(NOW).toISOString() });
      const late = u.items.find(i => i.miner === 'late');
      expect(late, JSON.stringify(u)).toBeDefined();
      expect(late!.pct_nominal).toBeCloseTo((truthMean('late', NOW - FIVE, NOW) / 100_000) * 100, 0);
    });

    it('compare_periods keeps two adjacent 5-minute periods apart', async () => {
      const c = await fq.comparePeriods(caller, {
        a: { from: 'now-10m', to: 'now-5m' },
        b: { from: 'now-5m', to: 'now' },
      });
      expect([c.a.from, c.a.to, c.b.from, c.b.to]).toEqual(
        [NOW - 2 * FIVE, NOW - FIVE, NOW - FIVE, NOW].map(t => new Date(t).toISOString()),
      );
      const fleetTruth = (from: number, to: number): number =>
        (['ok', 'dead', 'late'] as const).reduce((a, id) => a + truthMean(id, from, to), 0) / 1_000;
      expect(c.totals.a.hashrate_ths).toBeCloseTo(fleetTruth(NOW - 2 * FIVE, NOW - FIVE), 0);
      expect(c.totals.b.hashrate_ths).toBeCloseTo(fleetTruth(NOW - FIVE, NOW), 0);
      expect(c.totals.delta.hashrate_ths).not.toBe(0);
    });
  });
});
