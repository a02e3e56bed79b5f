import { minerTags } from './points.ts';
import type { SeriesPoint } from '../store/ports/series.ts';
import { MEASUREMENTS, type MinerRef, type MinerSample } from '../core/samples.ts';

/**
 * 1-minute and 1-hour rollups of `miner` (`miner_1m`, `miner_1h`), computed by the collector
 * itself so they work on InfluxDB 1/2/3 alike (no continuous queries / tasks). One accumulator
 * per miner and window, fed by every poll; when a poll lands in a later window the finished one
 * is written (time = window start). Fields (ROLLUP_FIELDS): means of hashrate_ghs,
 * hashrate_nominal_ghs, power_w, efficiency_jth over the polls that reached the miner and had
 * the value; max temp_chip_max_c / temp_board_max_c; min fan_rpm_min (integer, like in `miner`);
 * last shares_*; `up` = reached polls / polls (float 0..1); `samples` = polls folded in.
 * A window whose polls all failed carries only `up=0` and `samples`.
 *
 * Partial windows: close() writes them. If the collector restarts within the same window, the
 * restarted one later writes that window again with the same series and timestamp, which
 * InfluxDB treats as an upsert: the later point wins (reflecting only the post-restart polls).
 * A window is written at most once per process: polls arriving late for a window already
 * written are ignored rather than overwriting it with fewer samples.
 *
 * Every closed window (1 m, 5 m and 1 h; the 5-minute one is not stored) is also
 * handed to the optional `onWindow` listener as a ClosedWindow, with the sums and counts behind
 * each mean so consumers can merge windows exactly: fleet-rollups.ts (fleet_1m / fleet_1h) and
 * window-stats.ts (per-miner window statistics in Redis) are fed from here instead of folding
 * every poll a second time.
 */

/** where finished windows go: the store's series writer */
export interface RollupSink {
  write(points: readonly SeriesPoint[]): void;
}

/** measurement null: kept for the listener only, not written to InfluxDB. */
export const ROLLUP_WINDOWS: readonly { measurement: string | null; ms: number }[] = [
  { measurement: MEASUREMENTS.miner1m, ms: 60_000 },
  { measurement: null, ms: 300_000 },
  { measurement: MEASUREMENTS.miner1h, ms: 3_600_000 },
];

/** Sum and count of the polls that had a value: mean = sum / n, and two of them merge exactly. */
export interface MeanAcc {
  sum: number;
  n: number;
}

/** One miner's closed window, as handed to the listener. */
export interface ClosedWindow {
  windowMs: number;
  startMs: number;
  ref: MinerRef;
  model: string | null;
  polls: number;
  /** polls that reached the miner */
  reached: number;
  hashrate_ghs: MeanAcc;
  hashrate_nominal_ghs: MeanAcc;
  power_w: MeanAcc;
  temp_chip_max_c: MeanAcc;
  /** max of temp_chip_max_c */
  temp_chip_max_max_c: number | null;
  /** max of temp_board_max_c */
  temp_board_max_c: number | null;
}

export type WindowListener = (w: ClosedWindow) => void;

interface Bucket {
  start: number;
  polls: number;
  reached: number;
  /** per MEAN_FIELDS entry: sum and count of the polls that had the value */
  sums: number[];
  counts: number[];
  chipMax: number | null;
  /** sum and count of temp_chip_max_c, for its mean */
  chipSum: number;
  chipN: number;
  boardMax: number | null;
  fanMin: number | null;
  shares: [number, number, number] | null;
  /** time of the poll `shares` came from ("last" = latest in time, not latest to arrive) */
  sharesMs: number;
}

interface MinerState {
  ref: MinerRef;
  model: string | null;
  buckets: (Bucket | null)[];
  /** start of the last window written, per window */
  written: number[];
}

const MEAN_FIELDS = ['hashrate_ghs', 'hashrate_nominal_ghs', 'power_w', 'efficiency_jth'] as const;

const finite = (v: number | null | undefined): v is number =>
  v !== null && v !== undefined && Number.isFinite(v);
const maxOf = (a: number | null, b: number | null | undefined): number | null =>
  finite(b) ? (a === null ? b : Math.max(a, b)) : a;
const minOf = (a: number | null, b: number | null | undefined): number | null =>
  finite(b) ? (a === null ? b : Math.min(a, b)) : a;

function emptyBucket(start: number): Bucket {
  const zeros = (): number[] => MEAN_FIELDS.map(() => 0);
  return {
    start,
    polls: 0,
    reached: 0,
    sums: zeros(),
    counts: zeros(),
    chipMax: null,
    chipSum: 0,
    chipN: 0,
    boardMax: null,
    fanMin: null,
    shares: null,
    sharesMs: -Infinity,
  };
}

function fold(b: Bucket, s: MinerSample | null): void {
  b.polls++;
  if (!s) return;
  b.reached++;
  MEAN_FIELDS.forEach((k, i) => {
    const v = s[k];
    if (finite(v)) {
      b.sums[i]! += v;
      b.counts[i]!++;
    }
  });
  b.chipMax = maxOf(b.chipMax, s.temp_chip_max_c);
  if (finite(s.temp_chip_max_c)) {
    b.chipSum += s.temp_chip_max_c;
    b.chipN++;
  }
  b.boardMax = maxOf(b.boardMax, s.temp_board_max_c);
  b.fanMin = minOf(b.fanMin, s.fan_rpm_min);
  if (s.time_ms >= b.sharesMs) {
    b.shares = [s.shares_accepted, s.shares_rejected, s.shares_stale];
    b.sharesMs = s.time_ms;
  }
}

function bucketPoint(measurement: string, st: MinerState, b: Bucket): SeriesPoint {
  const fields: Record<string, number | null | undefined> = {};
  MEAN_FIELDS.forEach((k, i) => (fields[k] = b.counts[i]! > 0 ? b.sums[i]! / b.counts[i]! : null));
  fields.temp_chip_max_c = b.chipMax;
  fields.temp_board_max_c = b.boardMax;
  fields.fan_rpm_min = b.fanMin;
  fields.shares_accepted = b.shares?.[0];
  fields.shares_rejected = b.shares?.[1];
  fields.shares_stale = b.shares?.[2];
  fields.up = b.reached / b.polls;
  fields.samples = b.polls;
  return { measurement, tags: minerTags(st.ref, st.model), fields, time_ms: b.start };
}

const acc = (b: Bucket, field: (typeof MEAN_FIELDS)[number]): MeanAcc => {
  const i = MEAN_FIELDS.indexOf(field);
  return { sum: b.sums[i]!, n: b.counts[i]! };
};

function closedWindow(windowMs: number, st: MinerState, b: Bucket): ClosedWindow {
  return {
    windowMs,
    startMs: b.start,
    ref: st.ref,
    model: st.model,
    polls: b.polls,
    reached: b.reached,
    hashrate_ghs: acc(b, 'hashrate_ghs'),
    hashrate_nominal_ghs: acc(b, 'hashrate_nominal_ghs'),
    power_w: acc(b, 'power_w'),
    temp_chip_max_c: { sum: b.chipSum, n: b.chipN },
    temp_chip_max_max_c: b.chipMax,
    temp_board_max_c: b.boardMax,
  };
}

export interface MinerRollupsOptions {
  /** called with every window this instance closes (partial ones too, on flushAll / forget) */
  onWindow?: WindowListener;
}

export class MinerRollups {
  private readonly sink: RollupSink;
  private readonly onWindow: WindowListener | undefined;
  private readonly miners = new Map<string, MinerState>();

  constructor(sink: RollupSink, opts: MinerRollupsOptions = {}) {
    this.sink = sink;
    this.onWindow = opts.onWindow;
  }

  /** A poll that reached the miner. */
  addSample(sample: MinerSample): void {
    this.add(sample.ref, sample.model || null, sample.time_ms, sample);
  }

  /** A poll that did not reach the miner (up=0). `model` = last known, for the series tags. */
  addOffline(ref: MinerRef, model: string | null, timeMs: number): void {
    this.add(ref, model, timeMs, null);
  }

  /** Write windows that ended more than graceMs before nowMs (miners no longer polled). */
  flushDue(nowMs: number, graceMs = 0): void {
    const out: SeriesPoint[] = [];
    for (const st of this.miners.values()) {
      ROLLUP_WINDOWS.forEach((w, i) => {
        const b = st.buckets[i];
        if (b && b.start + w.ms <= nowMs - graceMs) this.emit(st, i, out);
      });
    }
    if (out.length > 0) this.sink.write(out);
  }

  /** Write every window now, partial ones included (shutdown; see the header on upserts). */
  flushAll(): void {
    const out: SeriesPoint[] = [];
    for (const st of this.miners.values()) ROLLUP_WINDOWS.forEach((_w, i) => this.emit(st, i, out));
    if (out.length > 0) this.sink.write(out);
  }

  /** Write a removed miner's partial windows and forget it. */
  forget(minerId: string): void {
    const st = this.miners.get(minerId);
    if (!st) return;
    const out: SeriesPoint[] = [];
    ROLLUP_WINDOWS.forEach((_w, i) => this.emit(st, i, out));
    if (out.length > 0) this.sink.write(out);
    this.miners.delete(minerId);
  }

  get size(): number {
    return this.miners.size;
  }

  /**
   * Each miner's open window of windowMs so far (the polls folded in until now), without closing
   * it: the collector writes these as partials every cycle so a query of a window ending now
   * needs no raw per-miner points. Only polls that happened are in it, so a partial left by a
   * collector that stopped counts its polls and no more.
   */
  openWindows(windowMs: number): ClosedWindow[] {
    const i = ROLLUP_WINDOWS.findIndex(w => w.ms === windowMs);
    if (i < 0) throw new Error(`openWindows: no rollup window of ${windowMs} ms`);
    const out: ClosedWindow[] = [];
    for (const st of this.miners.values()) {
      const b = st.buckets[i];
      if (b && b.polls > 0) out.push(closedWindow(windowMs, st, b));
    }
    return out;
  }

  private add(ref: MinerRef, model: string | null, timeMs: number, sample: MinerSample | null): void {
    let st = this.miners.get(ref.id);
    if (!st) {
      st = {
        ref,
        model,
        buckets: ROLLUP_WINDOWS.map(() => null),
        written: ROLLUP_WINDOWS.map(() => -Infinity),
      };
      this.miners.set(ref.id, st);
    }
    // The tags of the window are those of its latest poll (an identified model replaces "unknown").
    st.ref = ref;
    if (model) st.model = model;
    const out: SeriesPoint[] = [];
    ROLLUP_WINDOWS.forEach((w, i) => {
      const start = Math.floor(timeMs / w.ms) * w.ms;
      let b = st.buckets[i];
      if (b && start > b.start) this.emit(st, i, out);
      if (start <= st.written[i]!) return; // late poll for a window already written
      b = st.buckets[i];
      if (!b) st.buckets[i] = b = emptyBucket(start);
      if (start < b.start) return; // late poll for an older window (clock step back)
      fold(b, sample);
    });
    if (out.length > 0) this.sink.write(out);
  }

  private emit(st: MinerState, i: number, out: SeriesPoint[]): void {
    const b = st.buckets[i];
    if (!b || b.polls === 0) return;
    const w = ROLLUP_WINDOWS[i]!;
    if (w.measurement) out.push(bucketPoint(w.measurement, st, b));
    st.written[i] = b.start;
    st.buckets[i] = null;
    this.onWindow?.(closedWindow(w.ms, st, b));
  }
}
