import type { ClosedWindow, RollupSink } from './rollups.ts';
import { MEASUREMENTS } from '../core/samples.ts';
import type { SeriesPoint } from '../store/ports/series.ts';

/**
 * Fleet rollups `fleet_1m` and `fleet_1h` (FLEET_ROLLUP_FIELDS in samples.ts): one point per
 * (tenant, site, model) group, collector and window, summed from the per-miner windows that
 * MinerRollups closes. Why: a fleet chart over per-miner rollups makes InfluxDB 1.x open one
 * series iterator per miner (about a second per query at 10,000 miners even without tag
 * grouping); these points give the same sums from a few dozen series.
 *
 * When a group window is written: a miner's window closes at its first poll after the window
 * ends, or at the collector's end-of-cycle flush one poll interval later, so a group window is
 * written once it ended more than `graceMs` ago (about two poll intervals) on flushDue, and on
 * flushAll (shutdown; partial windows included). A miner window that arrives after its group
 * was written (e.g. a slow poll) is added and the point written again with the same series and
 * time, which InfluxDB treats as an upsert, so the later, fuller point wins. Groups are kept
 * for `keepMs` after they were due; later contributions to windows already forgotten are
 * dropped (and counted in `droppedLate`) rather than overwriting a full point with one miner.
 *
 * The `collector` tag (COLLECTOR_ID) keeps the points of several collector processes, each
 * polling its part of a site, apart: readers sum over it. A restarted collector with the same
 * id rewrites the window it restarted in with its post-restart miners only (as miner_1m does).
 */

export interface FleetRollupsOptions {
  /** value of the `collector` tag */
  collector: string;
  /** a window is written this long after it ended (default 20 s: two 10 s poll intervals) */
  graceMs?: number;
  /** how long a written window stays open to late contributions (default max(graceMs, 2 min)) */
  keepMs?: number;
}

const WINDOWS = [
  { ms: 60_000, measurement: MEASUREMENTS.fleet1m },
  { ms: 3_600_000, measurement: MEASUREMENTS.fleet1h },
] as const;

interface Group {
  measurement: string;
  tags: SeriesPoint['tags'];
  startMs: number;
  endMs: number;
  miners: number;
  online: number;
  hashrateGhs: number;
  nominalGhs: number;
  powerW: number;
  chipMaxC: number | null;
  samples: number;
  /** changed since last written */
  dirty: boolean;
}

const mean = (a: { sum: number; n: number }): number | null => (a.n > 0 ? a.sum / a.n : null);

export class FleetRollups {
  private readonly sink: RollupSink;
  private readonly collector: string;
  private readonly graceMs: number;
  private readonly keepMs: number;
  private readonly groups = new Map<string, Group>();
  /** per window length: windows starting before this were forgotten */
  private readonly forgottenBefore = new Map<number, number>();
  /** miner windows dropped because their group window was already forgotten */
  droppedLate = 0;

  constructor(sink: RollupSink, opts: FleetRollupsOptions) {
    this.sink = sink;
    this.collector = opts.collector;
    this.graceMs = opts.graceMs ?? 20_000;
    this.keepMs = opts.keepMs ?? Math.max(this.graceMs, 120_000);
  }

  /** MinerRollups' listener: fold one miner's closed window into its group (1 m and 1 h only). */
  add(w: ClosedWindow): void {
    const spec = WINDOWS.find(x => x.ms === w.windowMs);
    if (!spec) return;
    if (w.startMs < (this.forgottenBefore.get(w.windowMs) ?? -Infinity)) {
      this.droppedLate++;
      return;
    }
    const model = w.model ?? '';
    const key = `${w.windowMs}\u0000${w.startMs}\u0000${w.ref.tenant}\u0000${w.ref.site}\u0000${model}`;
    let g = this.groups.get(key);
    if (!g) {
      g = {
        measurement: spec.measurement,
        // tag keys in sorted order, as InfluxDB stores them; an empty model is left out
        tags: { collector: this.collector, model, site: w.ref.site, tenant: w.ref.tenant },
        startMs: w.startMs,
        endMs: w.startMs + w.windowMs,
        miners: 0,
        online: 0,
        hashrateGhs: 0,
        nominalGhs: 0,
        powerW: 0,
        chipMaxC: null,
        samples: 0,
        dirty: true,
      };
      this.groups.set(key, g);
    }
    g.miners++;
    g.online += w.polls > 0 ? w.reached / w.polls : 0;
    g.hashrateGhs += mean(w.hashrate_ghs) ?? 0;
    g.nominalGhs += mean(w.hashrate_nominal_ghs) ?? 0;
    g.powerW += mean(w.power_w) ?? 0;
    const chip = w.temp_chip_max_max_c;
    if (chip !== null) g.chipMaxC = g.chipMaxC === null ? chip : Math.max(g.chipMaxC, chip);
    g.samples += w.polls;
    g.dirty = true;
  }

  /** Write group windows that ended more than graceMs before nowMs; forget old ones. */
  flushDue(nowMs: number): void {
    const out: SeriesPoint[] = [];
    for (const [key, g] of this.groups) {
      if (g.endMs > nowMs - this.graceMs) continue;
      if (g.dirty) out.push(this.point(g));
      if (g.endMs <= nowMs - this.graceMs - this.keepMs) {
        this.groups.delete(key);
        const ms = g.endMs - g.startMs;
        this.forgottenBefore.set(ms, Math.max(this.forgottenBefore.get(ms) ?? -Infinity, g.endMs));
      }
    }
    if (out.length > 0) this.sink.write(out);
  }

  /** Write every changed group window now, open ones included (shutdown). */
  flushAll(): void {
    const out: SeriesPoint[] = [];
    for (const g of this.groups.values()) if (g.dirty) out.push(this.point(g));
    if (out.length > 0) this.sink.write(out);
  }

  get size(): number {
    return this.groups.size;
  }

  private point(g: Group): SeriesPoint {
    g.dirty = false;
    return {
      measurement: g.measurement,
      tags: g.tags,
      fields: {
        miners: g.miners,
        online: g.online,
        hashrate_ghs: g.hashrateGhs,
        hashrate_nominal_ghs: g.nominalGhs,
        power_w: g.powerW,
        temp_chip_max_c: g.chipMaxC,
        samples: g.samples,
      },
      time_ms: g.startMs,
    };
  }
}
