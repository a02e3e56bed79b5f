// History for bench/api's analytical queries: what a collector polling this fleet every 10 s
// would have left behind over the last `days` days, written with the collector's own modules so
// the API reads it exactly as it reads a real collector's:
//
//  - InfluxDB `fleet_1m` (as far back as the API reads it: FLEET_1M_MAX_RANGE_MS, plus an hour)
//    and `fleet_1h` (all days): FleetRollups, fed the per-miner closed windows MinerRollups
//    would hand its listener;
//  - Redis per-miner window statistics (the layout of collector/window-stats.ts): 5-minute and
//    hourly buckets still within their retention, and the days those hours belong to, through
//    WindowStatsWriter fed the same closed windows; days older than the hourly retention as day
//    fields built like the writer builds them (windowStatOf of each hour, mergeWindowStat, and
//    encodeWindowStat), because their hourly hashes would expire as soon as they were written;
//  - optionally (perMinerRollups) the per-miner rollups `miner_1h` (all days) and `miner_1m`
//    (2 h) of the older read path (per-miner telemetry, and the API's fallback), with the
//    collector's line builders.
//
// Why closed windows and not synthetic polls through MinerRollups: a week of 1-minute windows is
// 100 million miner-minutes at 10,000 miners, and a week of polls six times that; a closed
// window per miner and minute, handed to FleetRollups.add (MinerRollups' listener), is the same
// input FleetRollups gets from a collector, at a fraction of the cost. The values are constant
// within an hour, so the 1-minute, 5-minute and hourly windows of a miner agree exactly.
//
// History ends at `endMs` (a 5-minute boundary); the hour it falls in is written as a partial
// window, like a collector that was stopped then (MinerRollups.flushAll). The `collector` tag is
// the id the bench's collector will use (collectorIdOf), so its later point for that hour
// replaces the partial one (an upsert, as after a collector restart) instead of adding to it.
import type { Redis } from 'ioredis';
import { FLEET_1M_MAX_RANGE_MS } from '../../services/query/fleet-series.ts';
import { FleetRollups } from '../../collector/fleet-rollups.ts';
import { FieldSet, line, minerTags, toLine } from '../../store/influx-redis/line-protocol.ts';
import type { RedisKeys } from '../../store/influx-redis/redis-keys.ts';
import type { ClosedWindow } from '../../collector/rollups.ts';
import { MEASUREMENTS, type MinerRef } from '../../core/samples.ts';
import { WindowStatsWriter } from '../../collector/window-stats-writer.ts';
import { RedisState } from '../../store/influx-redis/redis-state.ts';
import type { SeriesWriter } from '../../store/ports/series.ts';
import type { StatePort, WindowStatWrite } from '../../store/ports/state.ts';
import {
  FIELD_SEPARATOR,
  WINDOW_RESOLUTIONS,
  encodeWindowStat,
  mergeWindowStat,
  windowStatOf,
  type WindowStat,
} from '../../collector/window-stats.ts';

export interface HistoryMiner {
  ref: MinerRef;
  model: string;
  nominalGhs: number;
}

/** Where the history goes: InfluxDB and Redis, or a store's ports (the embedded store). */
export type HistoryTarget =
  | { influxUrl: string; db: string; redis: Redis; keys: RedisKeys }
  | { series: SeriesWriter; state: StatePort };

export type HistoryOptions = HistoryTarget & {
  miners: readonly HistoryMiner[];
  days: number;
  /** history ends here (rounded down to 5 minutes) */
  endMs: number;
  /** the `collector` tag of the fleet rollups, and the prefix of the window statistics' run id */
  collectorId: string;
  /**
   * also the per-miner rollups of the older read path (`miner_1h` for all days, `miner_1m` for
   * 2 h): 8.6 million points at 10,000 miners over 30 days, which InfluxDB takes minutes to
   * ingest; the fleet analytics no longer read them (only per-miner telemetry over long
   * ranges, and the fallback when the stores above are empty). Default false.
   */
  perMinerRollups?: boolean;
};

export interface HistoryCounts {
  ms: number;
  /** InfluxDB points per measurement */
  points: Record<string, number>;
  /** Redis hash fields sent (HSET) per resolution; the writer sends a day's field again at each flush while its hours close */
  fields: Record<string, number>;
}

const POLL_MS = 10_000;
const MINUTE_MS = 60_000;
const FIVE_MS = WINDOW_RESOLUTIONS['5m'].ms;
const HOUR_MS = WINDOW_RESOLUTIONS['1h'].ms;
const DAY_MS = WINDOW_RESOLUTIONS['1d'].ms;
const floorTo = (t: number, ms: number): number => Math.floor(t / ms) * ms;

/** InfluxDB line protocol writes, batched, with two requests in flight while the next batch is built. */
class LinePoster {
  private batch: string[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private failed: Error | null = null;
  readonly counts: Record<string, number> = {};
  private readonly url: string;
  private readonly db: string;
  constructor(url: string, db: string) {
    this.url = url;
    this.db = db;
  }

  add(measurement: string, l: string): void {
    this.batch.push(l);
    this.counts[measurement] = (this.counts[measurement] ?? 0) + 1;
  }

  /** Send the batch if it is big enough (or `force`), waiting while two requests are in flight. */
  async drain(force = false): Promise<void> {
    if (this.failed) throw this.failed;
    if (this.batch.length === 0 || (!force && this.batch.length < 20_000)) return;
    while (this.inFlight.size >= 2) await Promise.race(this.inFlight);
    const body = this.batch.join('\n');
    this.batch = [];
    const p: Promise<void> = fetch(`${this.url}/write?db=${this.db}&precision=ms`, { method: 'POST', body })
      .then(async res => {
        if (res.status !== 204) throw new Error(`history write failed: ${res.status} ${await res.text()}`);
      })
      // kept and thrown by the next drain / close
      .catch((err: unknown) => {
        this.failed ??= err as Error;
      })
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  async close(): Promise<void> {
    await this.drain(true);
    await Promise.all(this.inFlight);
    if (this.failed) throw this.failed;
  }
}

/** One miner's synthetic hour: the values every window of the hour carries. */
export interface HourValues {
  up: boolean;
  hashrate: number;
  power: number;
  chip: number;
}

/**
 * Deterministic, varied enough for the analytics to find something: every 37th miner at 78% of
 * nominal and the rest between 88% and 98%, every 61st hot, every 50th down one hour in four
 * and any miner down about one hour in 250; efficiency differs by miner.
 */
export function hourValues(i: number, m: HistoryMiner, hourStart: number): HourValues {
  const k = hourStart / HOUR_MS;
  const up = !((i % 50 === 3 && k % 4 === 0) || (i * 131 + k * 17) % 251 === 0);
  const perf = i % 37 === 2 ? 0.78 : 0.93 + 0.05 * Math.sin(i / 7 + k);
  return {
    up,
    hashrate: m.nominalGhs * perf,
    power: m.nominalGhs * 0.0295 * (0.97 + (i % 9) / 100),
    chip: i % 61 === 4 ? 96 : 68 + (i % 12) + 3 * Math.sin(k / 4 + i),
  };
}

export function emptyWindow(m: HistoryMiner): ClosedWindow {
  const acc = (): { sum: number; n: number } => ({ sum: 0, n: 0 });
  return {
    windowMs: 0,
    startMs: 0,
    ref: m.ref,
    model: m.model,
    polls: 0,
    reached: 0,
    hashrate_ghs: acc(),
    hashrate_nominal_ghs: acc(),
    power_w: acc(),
    temp_chip_max_c: acc(),
    temp_chip_max_max_c: null,
    temp_board_max_c: null,
  };
}

/** Set w to `polls` polls of the hour's values (none reached when the miner is down). */
export function fill(w: ClosedWindow, m: HistoryMiner, v: HourValues, windowMs: number, startMs: number, polls: number): void {
  const r = v.up ? polls : 0;
  w.windowMs = windowMs;
  w.startMs = startMs;
  w.polls = polls;
  w.reached = r;
  w.hashrate_ghs.sum = v.hashrate * r;
  w.hashrate_ghs.n = r;
  w.hashrate_nominal_ghs.sum = m.nominalGhs * r;
  w.hashrate_nominal_ghs.n = r;
  w.power_w.sum = v.power * r;
  w.power_w.n = r;
  w.temp_chip_max_c.sum = (v.chip - 2) * r;
  w.temp_chip_max_c.n = r;
  w.temp_chip_max_max_c = r > 0 ? v.chip : null;
  w.temp_board_max_c = r > 0 ? v.chip - 8 : null;
}

/** A per-miner rollup point (`miner_1m` / `miner_1h`) as MinerRollups writes it; a down window has only up=0 and samples. */
function minerRollupLine(measurement: string, m: HistoryMiner, v: HourValues, startMs: number, polls: number): string {
  const f = new FieldSet();
  if (v.up)
    f.float('hashrate_ghs', v.hashrate)
      .float('hashrate_nominal_ghs', m.nominalGhs)
      .float('power_w', v.power)
      .float('efficiency_jth', v.power / (v.hashrate / 1_000))
      .float('temp_chip_max_c', v.chip)
      .float('temp_board_max_c', v.chip - 8)
      .int('fan_rpm_min', 4_000);
  f.float('up', v.up ? 1 : 0).int('samples', polls);
  return line(measurement, minerTags(m.ref, m.model), f, startMs)!;
}

export async function writeHistory(o: HistoryOptions): Promise<HistoryCounts> {
  const t0 = performance.now();
  const { miners } = o;
  const viaPorts = 'series' in o;
  if (viaPorts && o.perMinerRollups) throw new Error('writeHistory: perMinerRollups is written as line protocol, to InfluxDB only');
  const state = viaPorts ? o.state : new RedisState(o.redis, o.keys);
  const endMs = floorTo(o.endMs, FIVE_MS);
  const firstHour = floorTo(endMs - o.days * DAY_MS, DAY_MS);
  // fleet_1m: as far back as the API reads it (a range up to FLEET_1M_MAX_RANGE_MS ending now), an hour to spare.
  const fleet1mFrom = floorTo(endMs - FLEET_1M_MAX_RANGE_MS - HOUR_MS, HOUR_MS);
  // Window statistics: buckets that would still be kept at endMs, through the writer; the hours
  // of the first such day too (their hashes expire as written), so that day's field is whole.
  const r5 = WINDOW_RESOLUTIONS['5m'];
  const r1h = WINDOW_RESOLUTIONS['1h'];
  const r1d = WINDOW_RESOLUTIONS['1d'];
  const writerFrom = floorTo(endMs - r1h.ms - r1h.retentionMs, DAY_MS);
  const fiveFrom = floorTo(endMs - r5.ms - r5.retentionMs, FIVE_MS) + FIVE_MS;
  const minute1mFrom = endMs - 2 * HOUR_MS;

  const poster = viaPorts ? null : new LinePoster(o.influxUrl, o.db);
  const counts: Record<string, number> = {};
  const fleet = new FleetRollups(
    {
      write: points => {
        for (const p of points) counts[p.measurement] = (counts[p.measurement] ?? 0) + 1;
        if (poster) points.forEach(p => poster.add(p.measurement, toLine(p)!));
        else if (viaPorts) o.series.write(points);
      },
    },
    { collector: o.collectorId, graceMs: 0, keepMs: 0 },
  );
  const runId = `${o.collectorId}.history`;
  const writer = new WindowStatsWriter(state, { runId, maxPending: 1_000_000 });
  // The series writer of the ports commits a batch per flush: flush every ~20,000 points, as the poster posts.
  let unflushed = 0;
  const drain = async (): Promise<void> => {
    if (poster) return await poster.drain();
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    if (viaPorts && total - unflushed >= 20_000) {
      unflushed = total;
      await o.series.flush();
    }
  };
  let sent = 0;
  const fields: Record<string, number> = { '5m': 0, '1h': 0, '1d': 0 };
  const flushWriter = async (): Promise<void> => {
    sent += writer.pendingFields;
    await writer.flush();
  };

  const w1m = miners.map(emptyWindow);
  const w5m = miners.map(emptyWindow);
  const w1h = miners.map(emptyWindow);
  const values: HourValues[] = new Array<HourValues>(miners.length);
  const days: (WindowStat | null)[] = miners.map(() => null);

  for (let hour = firstHour; hour < endMs; hour += HOUR_MS) {
    const hourEnd = Math.min(hour + HOUR_MS, endMs);
    for (let i = 0; i < miners.length; i++) values[i] = hourValues(i, miners[i]!, hour);

    if (hour >= fleet1mFrom) {
      for (let i = 0; i < miners.length; i++) fill(w1m[i]!, miners[i]!, values[i]!, MINUTE_MS, hour, MINUTE_MS / POLL_MS);
      for (let t = hour; t < hourEnd; t += MINUTE_MS) {
        for (const w of w1m) {
          w.startMs = t;
          fleet.add(w);
        }
        fleet.flushDue(t + MINUTE_MS);
        if (o.perMinerRollups && t >= minute1mFrom)
          for (let i = 0; i < miners.length; i++)
            poster?.add(MEASUREMENTS.miner1m, minerRollupLine(MEASUREMENTS.miner1m, miners[i]!, values[i]!, t, MINUTE_MS / POLL_MS));
        await drain();
      }
    }

    if (hourEnd > fiveFrom) {
      for (let i = 0; i < miners.length; i++) fill(w5m[i]!, miners[i]!, values[i]!, FIVE_MS, hour, FIVE_MS / POLL_MS);
      for (let t = Math.max(hour, fiveFrom); t < hourEnd; t += FIVE_MS) {
        for (const w of w5m) {
          w.startMs = t;
          writer.add(w);
        }
        fields['5m']! += miners.length;
      }
    }

    const polls = (hourEnd - hour) / POLL_MS;
    for (let i = 0; i < miners.length; i++) {
      const m = miners[i]!;
      const w = w1h[i]!;
      fill(w, m, values[i]!, HOUR_MS, hour, polls);
      fleet.add(w);
      if (o.perMinerRollups) poster?.add(MEASUREMENTS.miner1h, minerRollupLine(MEASUREMENTS.miner1h, m, values[i]!, hour, polls));
      if (hour >= writerFrom) {
        writer.add(w);
        fields['1h']!++;
      } else {
        const s = windowStatOf(w);
        const d = days[i];
        if (d) mergeWindowStat(d, s);
        else days[i] = s;
      }
      if (i % 2_000 === 1_999) await drain();
    }
    if (hourEnd === hour + HOUR_MS) fleet.flushDue(hourEnd);

    // A day older than the hourly retention is complete: its fields, as the writer would have sent them.
    if (hour < writerFrom && (hour + HOUR_MS) % DAY_MS === 0) {
      const dayStart = hour + HOUR_MS - DAY_MS;
      for (let i = 0; i < miners.length; i += 1_000) {
        const batch: WindowStatWrite[] = [];
        for (let j = i; j < Math.min(i + 1_000, miners.length); j++) {
          const m = miners[j]!;
          batch.push({ tenant: m.ref.tenant, res: '1d', startMs: dayStart, field: `${m.ref.id}${FIELD_SEPARATOR}${runId}`, value: encodeWindowStat(days[j]!), expireAtMs: dayStart + r1d.ms + r1d.retentionMs });
          days[j] = null;
        }
        await state.putWindowStats(batch);
      }
      fields['1d']! += miners.length;
    }
    if (writer.pendingFields >= 200_000) await flushWriter();
  }
  fleet.flushAll();
  await flushWriter();
  await poster?.close();
  if (viaPorts) await o.series.flush();
  fields['1d']! += sent - fields['5m']! - fields['1h']!;
  return { ms: performance.now() - t0, points: poster ? poster.counts : counts, fields };
}
