import { randomUUID } from 'node:crypto';
import { influxSeriesWriter } from '../../store/influx-redis/series.ts';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { InfluxClient, rowsOf, type InfluxSettings } from '../../store/influx-redis/influx-client.ts';
import { InfluxWriter } from '../../store/influx-redis/influx-writer.ts';
import { createCollectorMetrics } from '../../collector/metrics.ts';
import { MinerRollups } from '../../collector/rollups.ts';
import type { MinerRef, MinerSample } from '../../core/samples.ts';

// Three minutes of 10 s polls for two miners with known values go through MinerRollups and a
// real InfluxWriter; the miner_1m / miner_1h points read back from InfluxDB must match exactly.
// Values are chosen so means are exact in binary floating point.

const T0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 2 * 3_600_000; // an hour start, 2 h ago
const ref = (id: string): MinerRef => ({
  id,
  tenant: 't1',
  site: 's1',
  address: `${id}:50051`,
  credentials: 'default',
  labels: {},
});

/** Poll j (0..5) of minute i. */
function poll(id: string, base: number, i: number, j: number): MinerSample {
  return {
    time_ms: T0 + i * 60_000 + j * 10_000,
    ref: ref(id),
    model: 'S19',
    hostname: id,
    firmware: 'fw',
    status: 'online',
    degraded_reasons: [],
    miner_status: 'normal',
    tuner_state: 'stable',
    hashrate_ghs: base + 1000 * i + 250 * j,
    hashrate_5m_ghs: base,
    hashrate_nominal_ghs: 104000,
    hashrate_error_mhs: 0,
    power_w: 3000 + 10 * j,
    power_target_w: null,
    efficiency_jth: 30 + 0.5 * j,
    temp_chip_max_c: 70 + i + j,
    temp_board_max_c: 60 + 0.5 * j,
    fan_rpm_min: 4000 - 10 * j,
    fan_rpm_avg: 4100,
    shares_accepted: 1000 * i + j,
    shares_rejected: i,
    shares_stale: 0,
    uptime_s: 3600,
    boards_hashing: 3,
    boards_total: 3,
    hashboards: [],
    fans: [],
    pools: [],
  };
}

describe('MinerRollups -> miner_1m / miner_1h in InfluxDB', () => {
  const settings: InfluxSettings = {
    url: inject('influxUrl'),
    db: `t_${randomUUID().replaceAll('-', '')}`,
    auth: 'none',
    flavour: '1',
  };
  const client = new InfluxClient(settings);
  const writer = new InfluxWriter({
    settings,
    metrics: createCollectorMetrics(),
    batchSize: 1_000,
    flushIntervalMs: 60_000,
    bufferMaxPoints: 10_000,
    maxRetryDelayMs: 1_000,
  });
  const rollups = new MinerRollups(influxSeriesWriter(writer));
  const fed: MinerSample[] = []; // polls that reached miner A, for the hourly expectation

  beforeAll(async () => {
    await writer.start();
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 6; j++) {
        const a = poll('A', 100_000, i, j);
        rollups.addSample(a);
        fed.push(a);
        // B: unreachable for the last two polls of minute 1 and the whole of minute 2.
        if ((i === 1 && j >= 4) || i === 2) rollups.addOffline(ref('B'), 'S19', T0 + i * 60_000 + j * 10_000);
        else rollups.addSample(poll('B', 50_000, i, j));
      }
    }
    // The first poll of minute 3 closes minute 2; a late poll for minute 0 must not rewrite it.
    const a3 = poll('A', 100_000, 3, 0);
    rollups.addSample(a3);
    fed.push(a3);
    rollups.addSample(poll('B', 50_000, 3, 0));
    const late = poll('A', 100_000, 0, 5);
    rollups.addSample(late);
    fed.push(late); // still inside the open hour: it counts there
    await writer.flush();
  });

  afterAll(async () => {
    await writer.close({ timeoutMs: 2_000 });
    await fetch(`${settings.url}/query`, {
      method: 'POST',
      body: new URLSearchParams({ q: `DROP DATABASE ${settings.db}` }),
    });
  });

  const select = async (m: string, miner: string): Promise<Record<string, unknown>[]> =>
    rowsOf(await client.query(`SELECT * FROM ${m} WHERE miner = '${miner}' ORDER BY time`));

  it('writes each finished minute once, at the minute start, with exact mean/max/min/last/up/samples', async () => {
    const a = await select('miner_1m', 'A');
    expect(a).toHaveLength(3); // minute 3 is still open
    a.forEach((row, i) => {
      expect(row).toEqual({
        time: T0 + i * 60_000,
        miner: 'A',
        model: 'S19',
        site: 's1',
        tenant: 't1',
        hashrate_ghs: 100_000 + 1000 * i + 625, // mean of +0, +250 … +1250
        hashrate_nominal_ghs: 104000,
        power_w: 3025,
        efficiency_jth: 31.25,
        temp_chip_max_c: 75 + i,
        temp_board_max_c: 62.5,
        fan_rpm_min: 3950,
        shares_accepted: 1000 * i + 5,
        shares_rejected: i,
        shares_stale: 0,
        up: 1,
        samples: 6,
      });
    });
  });

  it('counts unreachable polls into up and leaves values of offline-only minutes empty', async () => {
    const b = await select('miner_1m', 'B');
    expect(b).toHaveLength(3);
    expect(b[0]).toMatchObject({ hashrate_ghs: 50_625, up: 1, samples: 6 });
    // minute 1: polls 0..3 reached (mean of +0..+750 = +375), 4 and 5 did not
    expect(b[1]).toMatchObject({
      hashrate_ghs: 51_375,
      power_w: 3015,
      efficiency_jth: 30.75,
      temp_chip_max_c: 74,
      fan_rpm_min: 3970,
      shares_accepted: 1003,
      up: 4 / 6,
      samples: 6,
    });
    expect(b[2]).toMatchObject({
      time: T0 + 120_000,
      up: 0,
      samples: 6,
      hashrate_ghs: null,
      power_w: null,
      shares_accepted: null,
      model: 'S19',
    });
  });

  it('writes partial windows on flushAll (shutdown), including the hour; last = latest in time', async () => {
    rollups.flushAll();
    await writer.flush();
    const a = await select('miner_1m', 'A');
    expect(a).toHaveLength(4);
    expect(a[3]).toMatchObject({ time: T0 + 180_000, samples: 1, hashrate_ghs: 103_000 });
    const [hour] = await select('miner_1h', 'A');
    const mean = fed.reduce((s, x) => s + x.hashrate_ghs, 0) / fed.length;
    expect(hour).toMatchObject({
      time: T0,
      samples: 20,
      up: 1,
      hashrate_ghs: mean,
      temp_chip_max_c: 77,
      fan_rpm_min: 3950,
      shares_accepted: 3000,
    });
    const [hourB] = await select('miner_1h', 'B');
    expect(hourB).toMatchObject({ samples: 19, up: 11 / 19 });
  });
});
