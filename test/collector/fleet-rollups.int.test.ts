import { randomUUID } from 'node:crypto';
import { influxSeriesWriter } from '../../store/influx-redis/series.ts';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { InfluxClient, rowsOf, type InfluxSettings } from '../../store/influx-redis/influx-client.ts';
import { InfluxWriter } from '../../store/influx-redis/influx-writer.ts';
import { createCollectorMetrics } from '../../collector/metrics.ts';
import { FleetRollups } from '../../collector/fleet-rollups.ts';
import { MinerRollups } from '../../collector/rollups.ts';
import type { MinerRef, MinerSample } from '../../core/samples.ts';

// Two collectors (ids c1 and c2) each poll half of a site's miners for 3 minutes; their
// MinerRollups feed FleetRollups and real InfluxWriters. The fleet_1m / fleet_1h points read
// back must equal sums computed here from the polls, and summing over the `collector` tag must
// give the whole site. A late miner window rewrites its group point (upsert).

const T0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 2 * 3_600_000; // an hour start, 2 h ago
const MIN = 60_000;

const ref = (id: string, site: string): MinerRef => ({ id, tenant: 't1', site, address: `${id}:50051`, credentials: 'default', labels: {} });

interface Miner {
  id: string;
  site: string;
  model: string;
  collector: 'c1' | 'c2';
  base: number;
}
const MINERS: Miner[] = [
  { id: 'a1', site: 's1', model: 'S19', collector: 'c1', base: 100_000 },
  { id: 'a2', site: 's1', model: 'S19', collector: 'c2', base: 90_000 },
  { id: 'a3', site: 's1', model: 'S21', collector: 'c1', base: 200_000 },
  { id: 'a4', site: 's1', model: 'S19', collector: 'c2', base: 95_000 },
];

/** Poll j (0..5) of minute i; a2 is unreachable for minute 1 polls 3..5, a4 all of minute 2. */
function poll(m: Miner, i: number, j: number): MinerSample | null {
  if ((m.id === 'a2' && i === 1 && j >= 3) || (m.id === 'a4' && i === 2)) return null;
  return {
    time_ms: T0 + i * MIN + j * 10_000,
    ref: ref(m.id, m.site),
    model: m.model,
    hostname: m.id,
    firmware: 'fw',
    status: 'online',
    degraded_reasons: [],
    miner_status: 'normal',
    tuner_state: 'stable',
    hashrate_ghs: m.base + 1_000 * i + 250 * j,
    hashrate_5m_ghs: m.base,
    hashrate_nominal_ghs: m.base + 5_000,
    hashrate_error_mhs: 0,
    power_w: 3_000 + 10 * j + (m.model === 'S21' ? 500 : 0),
    power_target_w: null,
    efficiency_jth: null,
    temp_chip_max_c: 70 + i + j + (m.id === 'a3' ? 10 : 0),
    temp_board_max_c: 60,
    fan_rpm_min: 4_000,
    fan_rpm_avg: 4_100,
    shares_accepted: 0,
    shares_rejected: 0,
    shares_stale: 0,
    uptime_s: 3_600,
    boards_hashing: 3,
    boards_total: 3,
    hashboards: [],
    fans: [],
    pools: [],
  };
}

/** Expected fleet point of (model, collector?) over minutes [i0, i1): sums of per-miner means. */
function expected(model: string, collector: string | null, i0: number, i1: number) {
  const ms = MINERS.filter(m => m.model === model && (collector === null || m.collector === collector));
  let online = 0;
  let h = 0;
  let n = 0;
  let p = 0;
  let tMax = -Infinity;
  let samples = 0;
  for (const m of ms) {
    const got: MinerSample[] = [];
    let polls = 0;
    for (let i = i0; i < i1; i++)
      for (let j = 0; j < 6; j++) {
        polls++;
        const s = poll(m, i, j);
        if (s) got.push(s);
      }
    samples += polls;
    online += got.length / polls;
    if (got.length > 0) {
      h += got.reduce((a, s) => a + s.hashrate_ghs, 0) / got.length;
      n += got.reduce((a, s) => a + s.hashrate_nominal_ghs, 0) / got.length;
      p += got.reduce((a, s) => a + s.power_w!, 0) / got.length;
      tMax = Math.max(tMax, ...got.map(s => s.temp_chip_max_c!));
    }
  }
  return { miners: ms.length, online, hashrate_ghs: h, hashrate_nominal_ghs: n, power_w: p, temp_chip_max_c: tMax, samples };
}

describe('FleetRollups -> fleet_1m / fleet_1h in InfluxDB', () => {
  const settings: InfluxSettings = { url: inject('influxUrl'), db: `t_${randomUUID().replaceAll('-', '')}`, auth: 'none', flavour: '1' };
  const client = new InfluxClient(settings);
  const writer = new InfluxWriter({ settings, metrics: createCollectorMetrics(), batchSize: 1_000, flushIntervalMs: 60_000, bufferMaxPoints: 10_000, maxRetryDelayMs: 1_000 });
  const collectors = (['c1', 'c2'] as const).map(id => {
    const fleet = new FleetRollups(influxSeriesWriter(writer), { collector: id, graceMs: 20_000 });
    return { id, fleet, rollups: new MinerRollups(influxSeriesWriter(writer), { onWindow: w => fleet.add(w) }) };
  });
  const of = (m: Miner) => collectors.find(c => c.id === m.collector)!;

  beforeAll(async () => {
    await writer.start();
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 6; j++)
        for (const m of MINERS) {
          const s = poll(m, i, j);
          if (s) of(m).rollups.addSample(s);
          else of(m).rollups.addOffline(ref(m.id, m.site), m.model, T0 + i * MIN + j * 10_000);
        }
    // End of the collectors' cycles after minute 2: miner windows close one interval after
    // their end, fleet windows two intervals after.
    for (const c of collectors) {
      c.rollups.flushDue(T0 + 3 * MIN + 10_000, 10_000);
      c.fleet.flushDue(T0 + 3 * MIN + 20_000);
    }
    await writer.flush();
  });

  afterAll(async () => {
    await writer.close({ timeoutMs: 2_000 });
    await fetch(`${settings.url}/query`, { method: 'POST', body: new URLSearchParams({ q: `DROP DATABASE ${settings.db}` }) });
  });

  it('writes one point per group, collector and minute with the sums of the per-miner means', async () => {
    const rows = rowsOf(await client.query(`SELECT * FROM fleet_1m GROUP BY "collector", "model" ORDER BY time`));
    expect(rows).toHaveLength(3 * 3); // (c1,S19), (c1,S21), (c2,S19) x 3 minutes
    for (const [collector, model] of [
      ['c1', 'S19'],
      ['c1', 'S21'],
      ['c2', 'S19'],
    ] as const) {
      const mine = rows.filter(r => r.collector === collector && r.model === model);
      expect(mine.map(r => r.time)).toEqual([T0, T0 + MIN, T0 + 2 * MIN]);
      mine.forEach((r, i) => {
        const e = expected(model, collector, i, i + 1);
        expect(r).toMatchObject({ tenant: 't1', site: 's1', miners: e.miners, samples: e.samples });
        expect(r.online as number).toBeCloseTo(e.online, 9);
        expect(r.hashrate_ghs as number).toBeCloseTo(e.hashrate_ghs, 6);
        expect(r.hashrate_nominal_ghs as number).toBeCloseTo(e.hashrate_nominal_ghs, 6);
        expect(r.power_w as number).toBeCloseTo(e.power_w, 6);
        expect(r.temp_chip_max_c).toBe(e.temp_chip_max_c);
      });
    }
  });

  it('summing over the collector tag gives the whole site', async () => {
    const rows = rowsOf(
      await client.query(
        `SELECT sum("hashrate_ghs") AS h, sum("online") AS o, sum("miners") AS m FROM fleet_1m WHERE "model" = 'S19' GROUP BY time(1m) fill(none)`,
      ),
    );
    expect(rows).toHaveLength(3);
    rows.forEach((r, i) => {
      const e = expected('S19', null, i, i + 1);
      expect(r.h as number).toBeCloseTo(e.hashrate_ghs, 6);
      expect(r.o as number).toBeCloseTo(e.online, 9);
      expect(r.m).toBe(3);
    });
  });

  it('a late miner window rewrites its group point; flushAll writes the open hour', async () => {
    const late = collectors[0]!;
    // a5 of c1 reports minute 2 late (e.g. a slow poll), after the group point was written
    const a5: Miner = { id: 'a5', site: 's1', model: 'S19', collector: 'c1', base: 50_000 };
    for (let j = 0; j < 6; j++) late.rollups.addSample(poll(a5, 2, j)!);
    late.rollups.flushDue(T0 + 3 * MIN + 30_000, 10_000);
    late.fleet.flushDue(T0 + 3 * MIN + 30_000);
    for (const c of collectors) {
      c.rollups.flushAll();
      c.fleet.flushAll();
    }
    await writer.flush();
    const [minute2] = rowsOf(
      await client.query(`SELECT * FROM fleet_1m WHERE "collector" = 'c1' AND "model" = 'S19' AND time = ${(T0 + 2 * MIN) * 1e6}`),
    );
    const e = expected('S19', 'c1', 2, 3);
    expect(minute2).toMatchObject({ miners: e.miners + 1, samples: e.samples + 6 });
    expect(minute2!.hashrate_ghs as number).toBeCloseTo(e.hashrate_ghs + (50_000 + 2_000 + 625), 6);
    const hours = rowsOf(await client.query(`SELECT * FROM fleet_1h WHERE "collector" = 'c2' AND "model" = 'S19'`));
    expect(hours).toHaveLength(1);
    const eh = expected('S19', 'c2', 0, 3);
    expect(hours[0]).toMatchObject({ time: T0, miners: 2, samples: eh.samples });
    expect(hours[0]!.hashrate_ghs as number).toBeCloseTo(eh.hashrate_ghs, 6);
    expect(hours[0]!.online as number).toBeCloseTo(eh.online, 9);
  });
});
