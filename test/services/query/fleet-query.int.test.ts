import { influxRedisStoreOver } from '../../../store/influx-redis/index.ts';
import { BACKENDS, farmOf } from '../../store/backends.ts';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FleetError } from '../../../core/errors.ts';
import { HEALTH_STATUSES } from '../../../core/samples.ts';
import type { Caller } from '../../../services/context.ts';
import { createApiMetrics } from '../../../api/metrics.ts';
import { FleetQuery } from '../../../services/query/fleet-query.ts';
import { redisKeys } from '../../../store/influx-redis/redis-keys.ts';
import type { MinerSnapshot } from '../../../core/samples.ts';
import { SnapshotStore } from '../../../store/influx-redis/snapshot-store.ts';
import {
  POLL_MS,
  POOL_A,
  POOL_B,
  SAMPLES_PER_MINUTE,
  sampleAt,
  openFleetFixture,
  windowStats,
  type FixtureMiner,
  type FleetFixture,
} from './fleet-fixture.ts';

// FleetQuery over each storage backend holding the fixture fleet (the same assertions on both).
// Every expected value is computed from the fixture's generator (fleet-fixture.ts), never
// through the query code.

const MIN = 60_000;
const HOUR = 3_600_000;
const acme: Caller = { sub: 'alice', tenant: 'acme', roles: ['viewer'] };
const globex: Caller = { sub: 'bob', tenant: 'globex', roles: ['operator'] };

describe.each(BACKENDS)('%s', backend => {
  let fx: FleetFixture;
  let fq: FleetQuery;

  async function rejects(p: Promise<unknown>, code: string, text?: RegExp): Promise<FleetError> {
    const err = await p.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err, 'expected a FleetError').toBeInstanceOf(FleetError);
    expect((err as FleetError).code).toBe(code);
    if (text) expect((err as FleetError).message).toMatch(text);
    return err as FleetError;
  }

  const reachedNow = (m: FixtureMiner): boolean =>
    fx.snapshots.find(s => s.ref.id === m.id)!.status !== 'offline';
  const snap = (id: string) => fx.snapshots.find(s => s.ref.id === id)!;

  beforeAll(async () => {
    fx = await openFleetFixture(backend);
    // Farm: with the Redis URL, miner tables load in the loader thread, as in the API.
    fq = new FleetQuery({ store: fx.store, ...(backend === 'influx-redis' ? { redisUrl: inject('redisUrl') } : {}) },
      { pollIntervalMs: POLL_MS, now: () => fx.nowMs },
    );
  }, 120_000);

  afterAll(async () => {
    await fq?.close();
    await fx?.cleanup();
  });

  describe('summary', () => {
    it('totals and breakdowns match the stored snapshots of the tenant only', async () => {
      const s = await fq.summary(acme);
      const mine = fx.tenantMiners('acme');
      const reached = mine.filter(reachedNow);
      const h = reached.reduce((a, m) => a + snap(m.id).sample!.hashrate_ghs, 0);
      const n = reached.reduce((a, m) => a + snap(m.id).sample!.hashrate_nominal_ghs, 0);
      const p = reached.reduce((a, m) => a + (snap(m.id).sample!.power_w ?? 0), 0);
      expect(s.tenant).toBe('acme');
      expect(s.stale).toBe(false);
      expect(s.totals.miners).toBe(20);
      expect(s.totals.by_status).toEqual({ online: 15, degraded: 3, offline: 1, paused: 1, stopped: 0 });
      expect(s.totals.hashrate_ths).toBeCloseTo(h / 1_000, 2);
      expect(s.totals.hashrate_nominal_ths).toBeCloseTo(n / 1_000, 2);
      expect(s.totals.power_kw).toBeCloseTo(p / 1_000, 2);
      expect(s.totals.efficiency_jth!).toBeCloseTo(p / (h / 1_000), 1);
      expect(s.totals.pct_nominal!).toBeCloseTo((h / n) * 100, 1);
      expect(s.totals.overheating).toBe(1);
      expect(s.totals.boards_total).toBe(reached.length * 3);
      expect(s.totals.boards_hashing).toBe(reached.length * 3 - 1);
      expect(s.by_site.map(x => [x.site, x.miners])).toEqual([
        ['dc1', 10],
        ['dc2', 10],
      ]);
      const dc2 = s.by_site.find(x => x.site === 'dc2')!;
      const dc2h = reached
        .filter(m => m.site === 'dc2')
        .reduce((a, m) => a + snap(m.id).sample!.hashrate_ghs, 0);
      expect(dc2.hashrate_ths).toBeCloseTo(dc2h / 1_000, 2);
      expect(dc2.by_status.offline).toBe(1);
      // by model: counts from the index sets, per status too
      const models = new Map<string, number>();
      for (const m of mine) models.set(m.model, (models.get(m.model) ?? 0) + 1);
      expect(Object.fromEntries(s.by_model.map(x => [x.model, x.miners]))).toEqual(Object.fromEntries(models));
      for (const row of s.by_model) {
        for (const st of HEALTH_STATUSES) {
          expect(row.by_status?.[st], `${row.model} ${st}`).toBe(
            mine.filter(m => m.model === row.model && snap(m.id).status === st).length,
          );
        }
      }
    });

    it('another tenant sees only its own fleet', async () => {
      const s = await fq.summary(globex);
      expect(s.totals.miners).toBe(10);
      expect(s.by_site.map(x => x.site)).toEqual(['dc1', 'dc3']);
      expect(s.by_site.find(x => x.site === 'dc1')!.miners).toBe(6);
    });

    it('a caller without a role is refused', async () => {
      await rejects(fq.summary({ sub: 'x', tenant: 'acme', roles: [] }), 'forbidden');
    });
  });

  describe('listMiners', () => {
    it('lists the tenant in id order with current values and staleness', async () => {
      const l = await fq.listMiners(acme);
      expect(l.total).toBe(20);
      expect(l.truncated).toBe(false);
      expect(l.next_cursor).toBeNull();
      expect(l.items.map(i => i.id)).toEqual(
        fx
          .tenantMiners('acme')
          .map(m => m.id)
          .sort(),
      );
      const off = l.items.find(i => i.id === 'acme-dc2-02')!;
      expect(off).toMatchObject({ status: 'offline', hashrate_ths: null, power_w: null, stale: true });
      expect(l.items.find(i => i.id === 'acme-dc1-05')!.stale).toBe(true);
      expect(
        l.items
          .filter(i => i.stale)
          .map(i => i.id)
          .sort(),
      ).toEqual(['acme-dc1-05', 'acme-dc2-02']);
      const one = l.items.find(i => i.id === 'acme-dc1-03')!;
      const s = snap('acme-dc1-03').sample!;
      expect(one).toMatchObject({
        status: 'degraded',
        degraded_reasons: ['hashboard_down'],
        boards_hashing: 2,
        boards_total: 3,
        hostname: 'acme-dc1-03.lan',
        site: 'dc1',
      });
      expect(one.hashrate_ths).toBeCloseTo(s.hashrate_ghs / 1_000, 2);
      expect(one.pct_nominal!).toBeCloseTo((s.hashrate_ghs / s.hashrate_nominal_ghs) * 100, 1);
      expect(one.last_seen).toBe(new Date(fx.nowMs - POLL_MS).toISOString());
    });

    it('sorts by hashrate (nulls last) and pages with a cursor without gaps or repeats', async () => {
      const expected = fx
        .tenantMiners('acme')
        .map(m => ({ id: m.id, h: reachedNow(m) ? snap(m.id).sample!.hashrate_ghs : null }))
        .sort((a, b) =>
          a.h === b.h ? (a.id < b.id ? -1 : 1) : a.h === null ? 1 : b.h === null ? -1 : b.h - a.h,
        )
        .map(x => x.id);
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await fq.listMiners(acme, { sort: 'hashrate', limit: 7, cursor });
        expect(page.total).toBe(20);
        seen.push(...page.items.map(i => i.id));
        cursor = page.next_cursor ?? undefined;
        expect(page.truncated).toBe(cursor !== undefined);
        pages++;
      } while (cursor);
      expect(pages).toBe(3);
      expect(seen).toEqual(expected);
      expect(seen[seen.length - 1]).toBe('acme-dc2-02');
    });

    it('filters by status, site, model, labels, firmware and free text', async () => {
      const ids = async (o: Parameters<FleetQuery['listMiners']>[1]): Promise<string[]> =>
        (await fq.listMiners(acme, o)).items.map(i => i.id);
      const acmeMiners = fx.tenantMiners('acme');
      expect(await ids({ status: 'degraded' })).toEqual(['acme-dc1-03', 'acme-dc1-07', 'acme-dc2-05']);
      expect(await ids({ site: 'dc2', status: 'offline' })).toEqual(['acme-dc2-02']);
      expect(await ids({ model: 'Antminer S21' })).toEqual(
        acmeMiners.filter(m => m.model === 'Antminer S21').map(m => m.id),
      );
      expect(await ids({ label: 'rack=r1' })).toEqual(
        acmeMiners.filter(m => m.labels.rack === 'r1').map(m => m.id),
      );
      expect(await ids({ label: ['rack=r2', 'role=canary'] })).toEqual(
        acmeMiners.filter(m => m.labels.rack === 'r2' && m.labels.role === 'canary').map(m => m.id),
      );
      expect(await ids({ firmware: '24.09' })).toEqual(
        acmeMiners.filter(m => m.firmware.includes('24.09')).map(m => m.id),
      );
      expect(await ids({ q: '10.1.1.' })).toEqual(acmeMiners.filter(m => m.site === 'dc2').map(m => m.id));
      expect(await ids({ q: 'DC1-0' })).toEqual(
        acmeMiners.filter(m => m.id.startsWith('acme-dc1-0')).map(m => m.id),
      );
      const none = await fq.listMiners(acme, { site: 'dc3' });
      expect(none.total).toBe(0);
      expect(none.hint).toMatch(/no miner matches/);
    });

    it('refuses a cursor of another query and bad labels', async () => {
      const page = await fq.listMiners(acme, { sort: 'power', limit: 5 });
      await rejects(
        fq.listMiners(acme, { sort: 'hashrate', limit: 5, cursor: page.next_cursor! }),
        'invalid_argument',
        /cursor/,
      );
      await rejects(fq.listMiners(acme, { cursor: 'not-a-cursor' }), 'invalid_argument', /cursor/);
      await rejects(fq.listMiners(acme, { label: 'rack' }), 'invalid_argument', /key=value/);
      await rejects(fq.listMiners(acme, { limit: 501 }), 'invalid_argument', /between 1 and 500/);
    });
  });

  // Farm only: the loader thread is the farm's (its own Redis connection).
  describe.runIf(backend === 'influx-redis')('miner table reloads', () => {
    it('the loader thread follows changed, added and removed miners, and answers like a load in this thread', async () => {
      // Own key prefix: this test changes snapshots, the shared fixture stays as it is.
      const keys = redisKeys(`test:${randomUUID()}`);
      const { redis, influx } = farmOf(fx.store);
      const store = new SnapshotStore(redis, keys);
      const copy = (): MinerSnapshot[] =>
        JSON.parse(JSON.stringify(fx.snapshots.filter(s => s.ref.tenant === 'acme'))) as MinerSnapshot[];
      await store.writeSnapshots(copy());
      const opts = { pollIntervalMs: POLL_MS, now: () => fx.nowMs, tableFreshMs: 1, tableStaleMs: 1 };
      const threaded = new FleetQuery({ store: influxRedisStoreOver({ redis, keys, influx }), redisUrl: inject('redisUrl') },
        opts,
      );
      const inline = new FleetQuery({ store: influxRedisStoreOver({ redis, keys, influx }) }, opts);
      const both = async (o: Parameters<FleetQuery['listMiners']>[1]) => {
        await new Promise(r => setTimeout(r, 5));
        const [a, b] = await Promise.all([threaded.listMiners(acme, o), inline.listMiners(acme, o)]);
        expect(a).toEqual(b);
        return a;
      };
      try {
        const before = await both({ sort: 'hashrate', limit: 100 });
        expect(before.total).toBe(20);

        const changed = copy();
        const [first, second, third] = changed;
        first!.sample!.hostname = 'renamed.lan';
        first!.sample!.hashrate_ghs += 1_000;
        second!.ref.labels = { rack: 'moved' };
        const added = {
          ...JSON.parse(JSON.stringify(third)),
          ref: { ...third!.ref, id: 'acme-new-01' },
        } as MinerSnapshot;
        await store.writeSnapshots([first!, second!, added]);
        await store.removeMiner(third!.ref.id);

        const after = await both({ sort: 'hashrate', limit: 100 });
        expect(after.total).toBe(20);
        const item = (id: string) => after.items.find(i => i.id === id);
        expect(item(first!.ref.id)).toMatchObject({ hostname: 'renamed.lan' });
        expect(item(first!.ref.id)!.hashrate_ths).toBeCloseTo(first!.sample!.hashrate_ghs / 1_000, 2);
        expect(item(second!.ref.id)!.labels).toEqual({ rack: 'moved' });
        expect(item('acme-new-01')).toBeDefined();
        expect(item(third!.ref.id)).toBeUndefined();
        expect((await both({ q: 'renamed' })).items.map(i => i.id)).toEqual([first!.ref.id]);
        expect((await both({ label: 'rack=moved' })).items.map(i => i.id)).toEqual([second!.ref.id]);
      } finally {
        await threaded.close();
      }
    });
  });

  describe('getMiner', () => {
    it('returns boards, fans, pools and details of the latest poll', async () => {
      const d = await fq.getMiner(acme, 'acme-dc1-03');
      const s = snap('acme-dc1-03').sample!;
      expect(d).toMatchObject({
        id: 'acme-dc1-03',
        site: 'dc1',
        status: 'degraded',
        stale: false,
        tuner_state: 'stable',
        firmware: s.firmware,
        model: fx.miner('acme-dc1-03').model,
      });
      expect(d.boards.map(b => [b.board, b.hashrate_ths > 0])).toEqual([
        ['0', true],
        ['1', true],
        ['2', false],
      ]);
      expect(d.boards[0]!.temp_chip_c).toBeCloseTo(s.hashboards[0]!.temp_chip_c!, 1);
      expect(d.pools.map(p => [p.url, p.active, p.alive])).toEqual([
        [POOL_A, true, true],
        [POOL_B, false, true],
      ]);
      expect(d.fans).toHaveLength(2);
      expect(d.details?.uid).toBe('uid-acme-dc1-03');
      expect(d.sample_time).toBe(new Date(s.time_ms).toISOString());
    });

    it('shows an offline miner with its last known values and stale flag', async () => {
      const d = await fq.getMiner(acme, 'acme-dc2-02');
      expect(d.status).toBe('offline');
      expect(d.stale).toBe(true);
      expect(d.last_error).toBe('unreachable');
      expect(d.last_seen).toBe(new Date(fx.nowMs - 40 * MIN - POLL_MS).toISOString());
    });

    it("another tenant's miner does not exist", async () => {
      await rejects(fq.getMiner(globex, 'acme-dc1-01'), 'not_found', /unknown miner 'acme-dc1-01'/);
      await rejects(fq.getMiner(acme, 'nope-01'), 'not_found');
    });
  });

  describe('telemetry', () => {
    it('buckets raw polls for a short range; outages are null, availability 0', async () => {
      const m = fx.miner('acme-dc2-09');
      const from = fx.startMs + 50 * MIN;
      const to = fx.startMs + 100 * MIN;
      const t = await fq.telemetry(acme, m.id, {
        metrics: ['hashrate_ths', 'power_w', 'up_pct', 'efficiency_jth'],
        from,
        to,
        step: '5m',
      });
      expect(t.source).toBe('raw');
      expect(t.step_s).toBe(300);
      expect(t.points).toHaveLength(10);
      t.points.forEach((p, i) => {
        const b = from + i * 5 * MIN;
        expect(p.time).toBe(new Date(b).toISOString());
        const w = windowStats(fx, m, b, b + 5 * MIN);
        if (w.reached === 0) {
          expect(p.hashrate_ths).toBeNull();
          expect(p.up_pct).toBe(0);
        } else {
          expect(p.hashrate_ths!).toBeCloseTo(w.hashrate_mean_ghs! / 1_000, 2);
          expect(p.power_w!).toBeCloseTo(w.power_mean_w!, 0);
          expect(p.efficiency_jth!).toBeCloseTo(w.efficiency_field_mean!, 1);
          expect(p.up_pct).toBe(100);
        }
      });
      expect(t.points.filter(p => p.hashrate_ths === null)).toHaveLength(6);
      expect(t.units).toMatchObject({ hashrate_ths: 'TH/s', power_w: 'W', up_pct: '%' });
    });

    it('reads 1-minute rollups beyond 6 h and gives the same means', async () => {
      const m = fx.miner('acme-dc2-09');
      const t = await fq.telemetry(acme, m.id, {
        metrics: 'hashrate_ths,temp_chip_max_c,up_pct',
        from: fx.nowMs - 8 * HOUR,
        to: fx.nowMs,
        step: '30m',
      });
      expect(t.source).toBe('1m');
      const withData = t.points.filter(p => p.up_pct !== null);
      expect(withData).toHaveLength(6);
      for (const p of withData) {
        const b = Date.parse(p.time);
        const w = windowStats(fx, m, b, b + 30 * MIN);
        expect(p.up_pct!).toBeCloseTo((w.reached / w.polls) * 100, 1);
        expect(p.hashrate_ths!).toBeCloseTo(w.hashrate_mean_ghs! / 1_000, 2);
      }
      // max of per-minute maxima = the hottest raw poll
      const hot = await fq.telemetry(acme, m.id, {
        metrics: ['temp_chip_max_c'],
        from: fx.startMs,
        to: fx.startMs + HOUR,
        step: '1h',
        aggregate: 'max',
      });
      expect(hot.points[0]!.temp_chip_max_c!).toBeCloseTo(
        windowStats(fx, m, fx.startMs, fx.startMs + HOUR).temp_max_c!,
        1,
      );
    });

    it('reads hourly rollups beyond 7 days', async () => {
      const m = fx.miner('acme-dc1-01');
      const t = await fq.telemetry(acme, m.id, {
        metrics: ['hashrate_ths'],
        from: fx.nowMs - 10 * 24 * HOUR,
        to: fx.nowMs,
      });
      expect(t.source).toBe('1h');
      const vals = t.points.filter(p => p.hashrate_ths !== null);
      expect(vals.length).toBeGreaterThanOrEqual(1);
    });

    it('returns per-board series', async () => {
      const t = await fq.telemetry(acme, 'acme-dc1-03', {
        metrics: ['hashrate_ths', 'temp_chip_max_c'],
        from: fx.nowMs - HOUR,
        to: fx.nowMs,
        step: '15m',
        boards: true,
      });
      expect(t.boards?.map(b => b.board)).toEqual(['0', '1', '2']);
      const m = fx.miner('acme-dc1-03');
      const w = windowStats(fx, m, fx.nowMs - HOUR, fx.nowMs - 45 * MIN);
      expect(t.boards![2]!.points[0]!.hashrate_ths).toBe(0);
      expect(t.boards![0]!.points[0]!.hashrate_ths!).toBeCloseTo(w.hashrate_mean_ghs! / 2 / 1_000, 2);
      expect(t.boards![0]!.points[0]!.temp_chip_c!).toBeCloseTo(w.temp_mean_c!, 1);
      expect(t.boards![1]!.points[0]!.temp_chip_c!).toBeCloseTo(w.temp_mean_c! - 2, 1);
      expect(t.units.temp_chip_c).toBe('°C');
    });

    it('explains empty answers and refuses bad ranges, steps, metrics and foreign miners', async () => {
      const empty = await fq.telemetry(acme, 'acme-dc1-01', {
        from: fx.nowMs - 30 * 24 * HOUR,
        to: fx.nowMs - 20 * 24 * HOUR,
      });
      expect(empty.points).toEqual([]);
      expect(empty.hint).toMatch(/no 1h data/);
      await rejects(
        fq.telemetry(acme, 'acme-dc1-01', { from: 'now-120d' }),
        'invalid_argument',
        /exceeds the 90d maximum/,
      );
      await rejects(
        fq.telemetry(acme, 'acme-dc1-01', { from: 'now-5d', step: '1m' }),
        'invalid_argument',
        /step: 1m over 5d gives 7200 points, above the 5000 maximum; use step 2m or more/,
      );
      await rejects(
        fq.telemetry(acme, 'acme-dc1-01', { metrics: 'hashrate,power_w' }),
        'invalid_argument',
        /unknown 'hashrate'/,
      );
      await rejects(
        fq.telemetry(acme, 'acme-dc1-01', { from: 'yesterday' }),
        'invalid_argument',
        /^from: expected an ISO 8601 time/,
      );
      await rejects(
        fq.telemetry(acme, 'acme-dc1-01', { from: 'now-8d', boards: true }),
        'invalid_argument',
        /at most 7d/,
      );
      await rejects(fq.telemetry(globex, 'acme-dc1-01', {}), 'not_found');
    });
  });

  /**
   * Expected fleet-rollup bucket values (fleet_1m): per minute, the sum over the miners of their
   * minute mean (0 for a miner unreachable that minute), averaged over the minutes of the bucket.
   */
  function fleetMinuteBuckets(
    miners: FixtureMiner[],
    from: number,
    to: number,
    step: number,
    pick: (w: ReturnType<typeof windowStats>) => number | null,
  ): number[] {
    const out: number[] = [];
    for (let b = from; b < to; b += step) {
      let total = 0;
      for (let t = b; t < b + step; t += MIN)
        for (const m of miners) total += pick(windowStats(fx, m, t, t + MIN)) ?? 0;
      out.push(total / (step / MIN));
    }
    return out;
  }

  describe('fleetSeries', () => {
    it('sums per-miner means per minute from fleet_1m rollups, averaged over each bucket (3 h)', async () => {
      const s = await fq.fleetSeries(acme, {
        metric: 'hashrate_ths',
        from: fx.startMs,
        to: fx.nowMs,
        step: '15m',
      });
      expect(s.source).toBe('1m');
      expect(s.series).toHaveLength(1);
      const expected = fleetMinuteBuckets(
        fx.tenantMiners('acme'),
        fx.startMs,
        fx.nowMs,
        15 * MIN,
        w => w.hashrate_mean_ghs,
      );
      expect(s.series[0]!.points).toHaveLength(12);
      s.series[0]!.points.forEach((p, i) => expect(p.value!).toBeCloseTo(expected[i]! / 1_000, 2));
    });

    it('groups by site from fleet_1m (1 h) and computes availability and efficiency', async () => {
      const from = fx.nowMs - HOUR;
      const bySite = await fq.fleetSeries(acme, {
        metric: 'power_kw',
        from,
        to: fx.nowMs,
        step: '10m',
        groupBy: 'site',
      });
      expect(bySite.source).toBe('1m');
      expect(bySite.series.map(x => x.group)).toEqual(['dc1', 'dc2']);
      for (const series of bySite.series) {
        const expected = fleetMinuteBuckets(
          fx.tenantMiners('acme').filter(m => m.site === series.group),
          from,
          fx.nowMs,
          10 * MIN,
          w => w.power_mean_w,
        );
        series.points.forEach((p, i) => expect(p.value!).toBeCloseTo(expected[i]! / 1_000, 2));
      }
      const avail = await fq.fleetSeries(acme, {
        metric: 'availability_pct',
        from,
        to: fx.nowMs,
        step: '30m',
        site: 'dc2',
      });
      const dc2 = fx.tenantMiners('acme').filter(m => m.site === 'dc2');
      avail.series[0]!.points.forEach((p, i) => {
        const b = from + i * 30 * MIN;
        const mean =
          dc2.reduce((a, m) => a + windowStats(fx, m, b, b + 30 * MIN).reached / (30 * SAMPLES_PER_MINUTE), 0) /
          dc2.length;
        expect(p.value!).toBeCloseTo(mean * 100, 1);
      });
      const online = await fq.fleetSeries(acme, { metric: 'online_miners', from, to: fx.nowMs, step: '30m' });
      online.series[0]!.points.forEach((p, i) => {
        const b = from + i * 30 * MIN;
        const expected = fx
          .tenantMiners('acme')
          .reduce((a, m) => a + windowStats(fx, m, b, b + 30 * MIN).reached / (30 * SAMPLES_PER_MINUTE), 0);
        expect(p.value!).toBeCloseTo(expected, 2);
      });
      expect(online.series[0]!.points[1]!.value).toBe(19); // acme-dc2-02 unreachable for the whole last 30 min
      const eff = await fq.fleetSeries(acme, { metric: 'efficiency_jth', from, to: fx.nowMs, step: '1h' });
      const acmeMiners = fx.tenantMiners('acme');
      const p = fleetMinuteBuckets(acmeMiners, from, fx.nowMs, HOUR, w => w.power_mean_w)[0]!;
      const h = fleetMinuteBuckets(acmeMiners, from, fx.nowMs, HOUR, w => w.hashrate_mean_ghs)[0]!;
      expect(eff.series[0]!.points[0]!.value!).toBeCloseTo(p / (h / 1_000), 1);
    });

    it('says why a series is empty', async () => {
      const s = await fq.fleetSeries(acme, { metric: 'hashrate_ths', site: 'dc3' });
      expect(s.series).toEqual([]);
      expect(s.hint).toMatch(/no 1m data .* for site 'dc3'/);
    });
  });

  describe('analytics', () => {
    it('window statistics read ahead serve the same answers from memory', async () => {
      const metrics = createApiMetrics();
      const warm = new FleetQuery({ store: fx.store, metrics },
        { pollIntervalMs: POLL_MS, now: () => fx.nowMs },
      );
      const ahead = await warm.preloadWindows(48);
      expect(ahead.tenants).toBeGreaterThanOrEqual(2);
      expect(ahead.buckets).toBeGreaterThan(0);
      expect((await metrics.windowCacheBytes.get()).values[0]!.value).toBe(ahead.bytes);
      const hits = async (): Promise<number> =>
        (await metrics.cacheRequests.get()).values.find(
          v => v.labels.cache === 'window_bucket' && v.labels.result === 'hit',
        )?.value ?? 0;
      const before = await hits();
      const fromMemory = await warm.underperformers(acme, { window: '3h', thresholdPct: 95 });
      expect(await hits()).toBeGreaterThan(before);
      expect(fromMemory).toEqual(await fq.underperformers(acme, { window: '3h', thresholdPct: 95 }));
    });

    it('underperformers per miner, worst first, with totals', async () => {
      const u = await fq.underperformers(acme, { window: '3h', thresholdPct: 90 });
      expect(u.source).toBe('window_stats');
      expect(u.window).toEqual({
        from: new Date(fx.startMs).toISOString(),
        to: new Date(fx.nowMs).toISOString(),
      });
      const acmeMiners = fx.tenantMiners('acme');
      const expected = acmeMiners
        .map(m => ({ m, w: windowStats(fx, m, fx.startMs, fx.nowMs) }))
        .map(({ m, w }) => ({
          id: m.id,
          pct: (w.hashrate_mean_ghs! / w.nominal_mean_ghs!) * 100,
          up: (w.reached / w.polls) * 100,
        }))
        // paused now: hashes nothing by intent, not an underperformer (named in the hint instead)
        .filter(x => x.pct < 90 && x.id !== 'acme-dc1-10')
        .sort((a, b) => a.pct - b.pct);
      expect(u.items.map(i => i.miner)).toEqual(['acme-dc1-03', 'acme-dc2-05']);
      expect(u.items.map(i => i.miner)).toEqual(expected.map(x => x.id));
      u.items.forEach((it, i) => expect(it.pct_nominal).toBeCloseTo(expected[i]!.pct, 1));
      expect(u).toMatchObject({ total: 2, evaluated: 19, truncated: false, level: 'miner', threshold_pct: 90 });
      expect(u.hint).toContain('acme-dc1-10 paused');
      const limited = await fq.underperformers(acme, { window: '3h', limit: 1 });
      expect(limited).toMatchObject({ total: 2, truncated: true });
      expect(limited.items).toHaveLength(1);
    });

    it('underperformers per hashboard from raw board points', async () => {
      const u = await fq.underperformers(acme, { window: '1h', level: 'board' });
      expect(u.source).toBe('hashboard');
      const got = u.items.map(i => `${i.miner}/${i.board}`).sort();
      expect(got).toEqual(
        [
          'acme-dc1-03/2',
          'acme-dc2-05/0',
          'acme-dc2-05/1',
          'acme-dc2-05/2',
        ].sort(),
      );
      const low = u.items.find(i => i.miner === 'acme-dc2-05')!;
      const w = windowStats(fx, fx.miner('acme-dc2-05'), fx.nowMs - HOUR, fx.nowMs);
      expect(low.pct_nominal).toBeCloseTo(
        (w.hashrate_mean_ghs! / fx.miner('acme-dc2-05').nominal_ghs) * 100,
        1,
      );
      expect(u.evaluated).toBe(19 * 3); // acme-dc2-02 still answered in the first 20 min of the window; acme-dc1-10 is paused
    });

    it('hot spots per miner and per board', async () => {
      const hs = await fq.hotSpots(acme, { window: '1h', limit: 3 });
      const expected = fx
        .tenantMiners('acme')
        .map(m => ({ id: m.id, w: windowStats(fx, m, fx.nowMs - HOUR, fx.nowMs) }))
        .filter(x => x.w.temp_max_c !== null)
        .sort((a, b) => b.w.temp_max_c! - a.w.temp_max_c!);
      expect(hs.source).toBe('window_stats');
      expect(hs.items.map(i => i.miner)).toEqual(expected.slice(0, 3).map(x => x.id));
      expect(hs.items[0]!.miner).toBe('acme-dc1-07');
      expect(hs.items[0]!.temp_max_c).toBeCloseTo(expected[0]!.w.temp_max_c!, 1);
      expect(hs.items[0]!.temp_mean_c!).toBeCloseTo(expected[0]!.w.temp_mean_c!, 1);
      expect(hs).toMatchObject({ total: expected.length, truncated: true, limit: 3 });
      const boards = await fq.hotSpots(acme, { window: '30m', level: 'board', limit: 2 });
      expect(boards.items.map(i => `${i.miner}/${i.board}`)).toEqual(['acme-dc1-07/0', 'acme-dc1-07/1']);
    });

    it('efficiency ranking excludes miners without hashrate', async () => {
      const r = await fq.efficiencyRanking(acme, { window: '3h', order: 'worst', limit: 5 });
      const expected = fx
        .tenantMiners('acme')
        .map(m => ({ id: m.id, w: windowStats(fx, m, fx.startMs, fx.nowMs) }))
        .filter(x => (x.w.hashrate_mean_ghs ?? 0) > 0)
        .map(x => ({
          id: x.id,
          eff: x.w.power_mean_w! / (x.w.hashrate_mean_ghs! / 1_000),
          p: x.w.power_mean_w!,
          h: x.w.hashrate_mean_ghs!,
        }))
        .sort((a, b) => b.eff - a.eff);
      expect(r.excluded).toBe(1);
      expect(r.total).toBe(19);
      expect(r.items.map(i => i.miner)).toEqual(expected.slice(0, 5).map(x => x.id));
      r.items.forEach((it, i) => expect(it.efficiency_jth).toBeCloseTo(expected[i]!.eff, 1));
      const sumP = expected.reduce((a, x) => a + x.p, 0);
      const sumH = expected.reduce((a, x) => a + x.h, 0);
      expect(r.fleet_efficiency_jth!).toBeCloseTo(sumP / (sumH / 1_000), 1);
      const best = await fq.efficiencyRanking(acme, { window: '3h', order: 'best', limit: 1 });
      expect(best.items[0]!.miner).toBe(expected[expected.length - 1]!.id);
    });

    it('compares two periods per site: hashrate, power and offline minutes', async () => {
      const a = { from: fx.startMs, to: fx.startMs + HOUR };
      const b = { from: fx.startMs + HOUR, to: fx.startMs + 2 * HOUR };
      const c = await fq.comparePeriods(acme, { a, b, groupBy: 'site' });
      expect(c.a.source).toBe('window_stats');
      expect(c.groups.map(g => g.group)).toEqual(['dc1', 'dc2']);
      for (const g of c.groups) {
        const miners = fx.tenantMiners('acme').filter(m => m.site === g.group);
        for (const [key, r] of [
          ['a', a],
          ['b', b],
        ] as const) {
          const ws = miners.map(m => windowStats(fx, m, r.from, r.to));
          const stats = g[key]!;
          expect(stats.miners).toBe(10);
          expect(stats.hashrate_ths).toBeCloseTo(
            ws.reduce((x, w) => x + (w.hashrate_mean_ghs ?? 0), 0) / 1_000,
            2,
          );
          expect(stats.power_kw).toBeCloseTo(ws.reduce((x, w) => x + (w.power_mean_w ?? 0), 0) / 1_000, 2);
          expect(stats.offline_minutes).toBeCloseTo(
            ws.reduce((x, w) => x + ((w.polls - w.reached) * POLL_MS) / MIN, 0),
            1,
          );
        }
      }
      const dc2 = c.groups.find(g => g.group === 'dc2')!;
      expect(dc2.a!.offline_minutes).toBe(0);
      expect(dc2.b!.offline_minutes).toBe(30);
      expect(dc2.delta!.offline_minutes).toBe(30);
      expect(c.totals.delta.offline_minutes).toBe(30);
      expect(dc2.delta!.hashrate_ths).toBeCloseTo(dc2.b!.hashrate_ths - dc2.a!.hashrate_ths, 2);
    });

    it('availability per miner and per site, least available first', async () => {
      const av = await fq.availability(acme, { from: fx.startMs, to: fx.nowMs, limit: 3 });
      expect(av.source).toBe('window_stats');
      expect(av.items.map(i => [i.miner, i.offline_minutes])).toEqual([
        ['acme-dc2-02', 40],
        ['acme-dc2-09', 30],
        ['acme-dc1-01', 0],
      ]);
      expect(av.items[0]!.availability_pct).toBeCloseTo((140 / 180) * 100, 1);
      expect(av).toMatchObject({ total: 20, truncated: true });
      expect(av.fleet.offline_minutes).toBe(70);
      expect(av.fleet.availability_pct!).toBeCloseTo((1 - 70 / (20 * 180)) * 100, 1);
      const sites = await fq.availability(acme, { from: fx.startMs, to: fx.nowMs, level: 'site' });
      expect(sites.items.map(i => [i.site, i.miners, i.offline_minutes])).toEqual([
        ['dc2', 10, 70],
        ['dc1', 10, 0],
      ]);
    });

    it('window statistics answer a 24 h window and say they cover only the stored 3 h', async () => {
      const av = await fq.availability(acme, { from: fx.nowMs - 24 * HOUR, to: fx.nowMs, level: 'site' });
      expect(av.source).toBe('window_stats');
      // missed polls x poll interval: the same 70 minutes
      expect(av.fleet.offline_minutes).toBeCloseTo(70, 0);
      expect(av.window).toEqual({
        from: new Date(fx.startMs).toISOString(),
        to: new Date(fx.nowMs).toISOString(),
      });
      expect(av.hint).toMatch(/window statistics exist only from/);
    });

    // Farm only: the statistics live in Redis, the series in InfluxDB; hide the former.
    it.runIf(backend === 'influx-redis')('InfluxDB answers when Redis holds no window statistics (history older than them)', async () => {
      const farm = farmOf(fx.store);
      const noStats = new FleetQuery(
        {
          store: influxRedisStoreOver({
            redis: farm.redis,
            keys: { ...farm.keys, windowStats: () => `${farm.keys.prefix}:no-window-stats` },
            influx: farm.influx,
          }),
        },
        { pollIntervalMs: POLL_MS, now: () => fx.nowMs },
      );
      const u = await noStats.underperformers(acme, { window: '3h', thresholdPct: 90 });
      expect(u.source).toBe('1m');
      expect(u.items.map(i => i.miner)).toEqual(['acme-dc1-03', 'acme-dc2-05']);
      const hs = await noStats.hotSpots(acme, { window: '1h', limit: 1 });
      expect(hs.source).toBe('raw');
      expect(hs.items[0]!.miner).toBe('acme-dc1-07');
      const av = await noStats.availability(acme, { from: fx.nowMs - 24 * HOUR, to: fx.nowMs, level: 'site' });
      expect(av.source).toBe('1h');
      // 1h rollup: (1 - up) per hour point x 60 min, i.e. the same 70 minutes.
      expect(av.fleet.offline_minutes).toBeCloseTo(70, 0);
      const c = await noStats.comparePeriods(acme, {
        a: { from: fx.startMs, to: fx.startMs + HOUR },
        b: { from: fx.startMs + HOUR, to: fx.startMs + 2 * HOUR },
      });
      expect(c.a.source).toBe('raw');
      expect(c.totals.delta.offline_minutes).toBe(30);
    });

    it('board-level scans that would be too large are refused with a usable window', async () => {
      const small = new FleetQuery({ store: fx.store },
        { pollIntervalMs: POLL_MS, now: () => fx.nowMs, maxRawPoints: 10_000 },
      );
      await rejects(
        small.hotSpots(acme, { window: '3h', level: 'board' }),
        'invalid_argument',
        /raw hashboard points.*use a window of at most/,
      );
    });
  });

  describe('events', () => {
    const acmeEvents = () => fx.events.filter(e => e.tenant === 'acme').sort((a, b) => b.time_ms - a.time_ms);

    it('latest events come from the Redis stream, newest first, tenant only', async () => {
      const e = await fq.events(acme, {});
      expect(e.source).toBe('recent');
      expect(e.items.map(i => [i.time, i.miner, i.kind])).toEqual(
        acmeEvents().map(x => [new Date(x.time_ms).toISOString(), x.miner, x.kind]),
      );
      expect(e.items.find(i => i.kind === 'control_action')).toMatchObject({
        actor: 'alice',
        result: 'ok',
        data: { action: 'pause', dry_run: false },
      });
      expect((await fq.events(globex, {})).items.every(i => i.miner.startsWith('globex-'))).toBe(true);
    });

    it('bounded or filtered queries read InfluxDB', async () => {
      const all = await fq.events(acme, { from: fx.startMs, to: fx.nowMs });
      expect(all.source).toBe('history');
      expect(all.items.map(i => i.miner)).toEqual(acmeEvents().map(x => x.miner));
      expect(all.items.find(i => i.kind === 'control_action')).toMatchObject({
        actor: 'alice',
        data: { action: 'pause', dry_run: false },
      });
      const crit = await fq.events(acme, { from: fx.startMs, severity: 'critical' });
      expect(crit.items.map(i => i.miner)).toEqual(['acme-dc1-07']);
      const one = await fq.events(acme, {
        from: fx.startMs,
        to: fx.nowMs,
        miner: 'acme-dc2-09',
        kind: 'miner_online',
      });
      expect(one.items).toHaveLength(1);
      const page = await fq.events(acme, { from: fx.startMs, to: fx.nowMs, limit: 2 });
      expect(page).toMatchObject({ truncated: true, limit: 2 });
      expect(page.items.map(i => i.miner)).toEqual(
        acmeEvents()
          .slice(0, 2)
          .map(x => x.miner),
      );
    });
  });

  describe('poolHealth', () => {
    it('aggregates pools of the reached miners with share ratios', async () => {
      const ph = await fq.poolHealth(acme);
      const reached = fx.tenantMiners('acme').filter(reachedNow);
      expect(ph.miners_reporting).toBe(reached.length);
      expect(ph.items.map(p => p.url)).toEqual([POOL_A, POOL_B]);
      const a = ph.items[0]!;
      const acc = reached.reduce((x, m) => x + snap(m.id).sample!.pools[0]!.accepted, 0);
      const rej = reached.reduce((x, m) => x + snap(m.id).sample!.pools[0]!.rejected, 0);
      const st = reached.reduce((x, m) => x + snap(m.id).sample!.pools[0]!.stale, 0);
      expect(a).toMatchObject({
        miners: 19,
        active_miners: 19,
        alive: 19,
        dead: 0,
        accepted: acc,
        rejected: rej,
        stale: st,
      });
      expect(a.rejected_pct!).toBeCloseTo((rej / (acc + rej + st)) * 100, 1);
      expect(ph.items[1]).toMatchObject({ miners: 19, active_miners: 0, alive: 18, dead: 1 });
      expect(ph).toMatchObject({ total: 2, truncated: false });
    });

    it('matches the sample generator for one miner', () => {
      // sanity check of the fixture itself: a miner's pools in its latest sample
      const s = sampleAt(fx.miner('acme-dc2-05'), fx.startMs, 0)!;
      expect(s.pools.map(p => p.alive)).toEqual([true, false]);
    });
  });
});
