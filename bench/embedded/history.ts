// History through the store's ports, for either backend: what a collector polling every 10 s
// would have left over `days` days. The same synthetic hours as bench/api/history.ts (hourValues,
// fill), written with the collector's own FleetRollups and WindowStatsWriter over the store's
// series writer and state port, plus 30 days of per-miner `miner_1h` (the one-miner 30-day
// telemetry reads it). Days older than the hourly window-statistics retention go straight to
// state.putWindowStats as whole-day fields, as the writer would have left them (their hourly
// buckets would expire as written).
import { FleetRollups } from '../../collector/fleet-rollups.ts';
import { WindowStatsWriter } from '../../collector/window-stats-writer.ts';
import {
  FIELD_SEPARATOR,
  WINDOW_RESOLUTIONS,
  encodeWindowStat,
  mergeWindowStat,
  windowStatOf,
  type WindowStat,
} from '../../collector/window-stats.ts';
import { MEASUREMENTS } from '../../core/samples.ts';
import { FLEET_1M_MAX_RANGE_MS } from '../../services/query/fleet-series.ts';
import type { SeriesPoint } from '../../store/ports/series.ts';
import type { WindowStatWrite } from '../../store/ports/state.ts';
import type { Store } from '../../store/store.ts';
import { emptyWindow, fill, hourValues, type HistoryMiner, type HourValues } from '../api/history.ts';

const POLL_MS = 10_000;
const MINUTE_MS = 60_000;
const FIVE_MS = WINDOW_RESOLUTIONS['5m'].ms;
const HOUR_MS = WINDOW_RESOLUTIONS['1h'].ms;
const DAY_MS = WINDOW_RESOLUTIONS['1d'].ms;
const floorTo = (t: number, ms: number): number => Math.floor(t / ms) * ms;

function minerHourPoint(m: HistoryMiner, v: HourValues, startMs: number, polls: number): SeriesPoint {
  const fields: Record<string, number> = v.up
    ? { hashrate_ghs: v.hashrate, hashrate_nominal_ghs: m.nominalGhs, power_w: v.power, efficiency_jth: v.power / (v.hashrate / 1_000), temp_chip_max_c: v.chip, temp_board_max_c: v.chip - 8, fan_rpm_min: 4_000 }
    : {};
  fields.up = v.up ? 1 : 0;
  fields.samples = polls;
  return { measurement: MEASUREMENTS.miner1h, tags: { miner: m.ref.id, model: m.model, site: m.ref.site, tenant: m.ref.tenant }, fields, time_ms: startMs };
}

export interface StoreHistoryCounts {
  ms: number;
  points: Record<string, number>;
  windowFields: number;
}

export async function writeStoreHistory(store: Store, o: { miners: readonly HistoryMiner[]; days: number; endMs: number; collectorId: string }): Promise<StoreHistoryCounts> {
  const t0 = performance.now();
  const { miners } = o;
  const endMs = floorTo(o.endMs, FIVE_MS);
  const firstHour = floorTo(endMs - o.days * DAY_MS, DAY_MS);
  const fleet1mFrom = floorTo(endMs - FLEET_1M_MAX_RANGE_MS - HOUR_MS, HOUR_MS);
  const r5 = WINDOW_RESOLUTIONS['5m'];
  const r1h = WINDOW_RESOLUTIONS['1h'];
  const r1d = WINDOW_RESOLUTIONS['1d'];
  const writerFrom = floorTo(endMs - r1h.ms - r1h.retentionMs, DAY_MS);
  const fiveFrom = floorTo(endMs - r5.ms - r5.retentionMs, FIVE_MS) + FIVE_MS;

  const series = await store.series.openWriter({ flushIntervalMs: 0, batchSize: 50_000, bufferMaxPoints: 10_000_000 });
  const points: Record<string, number> = {};
  let pending = 0;
  const sink = {
    write(ps: readonly SeriesPoint[]): void {
      for (const p of ps) points[p.measurement] = (points[p.measurement] ?? 0) + 1;
      pending += ps.length;
      series.write(ps);
    },
  };
  const drain = async (): Promise<void> => {
    if (pending < 20_000) return;
    pending = 0;
    await series.flush();
  };
  const fleet = new FleetRollups(sink, { collector: o.collectorId, graceMs: 0, keepMs: 0 });
  const runId = `${o.collectorId}.history`;
  const writer = new WindowStatsWriter(store.state, { runId, maxPending: 1_000_000 });
  let windowFields = 0;

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
        windowFields += miners.length;
      }
    }
    const polls = (hourEnd - hour) / POLL_MS;
    for (let i = 0; i < miners.length; i++) {
      const m = miners[i]!;
      const w = w1h[i]!;
      fill(w, m, values[i]!, HOUR_MS, hour, polls);
      fleet.add(w);
      sink.write([minerHourPoint(m, values[i]!, hour, polls)]);
      if (hour >= writerFrom) {
        writer.add(w);
        windowFields++;
      } else {
        const s = windowStatOf(w);
        const d = days[i];
        if (d) mergeWindowStat(d, s);
        else days[i] = s;
      }
    }
    await drain();
    if (hourEnd === hour + HOUR_MS) fleet.flushDue(hourEnd);

    if (hour < writerFrom && (hour + HOUR_MS) % DAY_MS === 0) {
      const dayStart = hour + HOUR_MS - DAY_MS;
      const batch: WindowStatWrite[] = miners.map((m, j) => ({
        tenant: m.ref.tenant,
        res: '1d',
        startMs: dayStart,
        field: `${m.ref.id}${FIELD_SEPARATOR}${runId}`,
        value: encodeWindowStat(days[j]!),
        expireAtMs: dayStart + r1d.ms + r1d.retentionMs,
      }));
      days.fill(null);
      for (let i = 0; i < batch.length; i += 1_000) await store.state.putWindowStats(batch.slice(i, i + 1_000));
      windowFields += miners.length;
    }
    if (writer.pendingFields >= 200_000) await writer.flush();
  }
  fleet.flushAll();
  await writer.flush();
  await series.flush();
  await series.close();
  const stats = series.stats();
  if (stats.dropped > 0 || stats.pending > 0) throw new Error(`history: ${stats.dropped} points dropped, ${stats.pending} not written`);
  return { ms: performance.now() - t0, points, windowFields };
}
