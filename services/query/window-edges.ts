import type { SeriesReader } from '../../store/ports/series.ts';
import { MEASUREMENTS } from '../../core/samples.ts';
import { groupedStats, type GroupStats } from './stats.ts';
import type { TimeRange } from './time.ts';
import type { WindowStatKey } from './window-stats.ts';

/**
 * The start of a recent window between two 5-minute boundaries, for small fleets
 * (planExactWindow's rawEdges), and the end of a past window between two boundaries: shorter
 * than 5 minutes each and read from the raw `miner` points, so such a window starts (ends)
 * where it was asked to instead of at the nearest boundary. The open bucket of a window ending
 * now is read from the collector's partials instead (window-stats.ts).
 */
export async function rawWindowRows(
  series: SeriesReader,
  tenant: string,
  range: TimeRange,
  site: string | undefined,
): Promise<GroupStats<WindowStatKey>[]> {
  return await groupedStats(series, {
    tenant,
    measurement: MEASUREMENTS.miner,
    ...range,
    specs: {
      h: { fn: 'mean', field: 'hashrate_ghs' },
      n: { fn: 'mean', field: 'hashrate_nominal_ghs' },
      p: { fn: 'mean', field: 'power_w' },
      // every poll writes `up` (0 when the miner was not reached): its count is the poll count
      up: { fn: 'mean', field: 'up' },
      tmax: { fn: 'max', field: 'temp_chip_max_c' },
      tmean: { fn: 'mean', field: 'temp_chip_max_c' },
      tboard: { fn: 'max', field: 'temp_board_max_c' },
    },
    groupBy: ['miner', 'site', 'model'],
    tags: site !== undefined ? [{ tag: 'site', in: [site] }] : [],
  });
}

const MAX_KEYS: ReadonlySet<WindowStatKey> = new Set(['tmax', 'tboard']);

/** Merge per-miner rows of adjacent spans exactly: means weighted by their counts, maxima of maxima. */
export function mergeWindowRows(parts: readonly (readonly GroupStats<WindowStatKey>[])[]): GroupStats<WindowStatKey>[] {
  const out = new Map<string, GroupStats<WindowStatKey>>();
  for (const rows of parts) {
    for (const r of rows) {
      const prev = out.get(r.key);
      if (!prev) {
        out.set(r.key, { key: r.key, tags: { ...r.tags }, v: { ...r.v }, n: { ...r.n } });
        continue;
      }
      // The tags of the part with more polls win, as when buckets merge.
      if (r.n.up > prev.n.up) prev.tags = { ...r.tags };
      for (const k of Object.keys(r.v) as WindowStatKey[]) {
        const a = prev.v[k];
        const b = r.v[k];
        if (b === null) continue;
        if (a === null) prev.v[k] = b;
        else if (MAX_KEYS.has(k)) prev.v[k] = Math.max(a, b);
        else prev.v[k] = prev.n[k] + r.n[k] > 0 ? (a * prev.n[k] + b * r.n[k]) / (prev.n[k] + r.n[k]) : a;
        prev.n[k] = MAX_KEYS.has(k) ? 1 : prev.n[k] + r.n[k];
      }
    }
  }
  return [...out.values()];
}
