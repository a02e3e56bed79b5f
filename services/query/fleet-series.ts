import { MEASUREMENTS } from '../../core/samples.ts';
import type { FleetMetric } from '../../api/schemas/fleet.ts';
import { celsius, jth, kw, nullable, pct, ths } from './format.ts';
import type { SeriesField, SeriesQuery, TagFilter } from '../../store/ports/series.ts';
import { num, type Source } from './influxql.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from './time.ts';

/**
 * The series queries behind fleet series, and how a result row becomes a value.
 *
 * Normally from the collector's fleet rollups (`fleet_1m` up to 7 days, `fleet_1h` beyond): the
 * inner query averages each (site, model, collector) series over the step, the outer one adds
 * them up (max for temperatures). A few dozen series instead of one per miner: InfluxDB 1.x
 * pays per series, about a second per 10,000 even over hourly points.
 *
 * For history written before fleet rollups existed, the same figures from the per-miner
 * series (sum of per-miner means per step; slow at 10,000 miners): minerRollupSeriesQuery.
 */

export interface FleetSeriesQuery {
  query: SeriesQuery;
  value: (row: Record<string, unknown>) => number | null;
}

export interface SeriesScope {
  tenant: string;
  site?: string | undefined;
  model?: string | undefined;
  fromMs: number;
  toMs: number;
  stepMs: number;
  groupBy?: 'site' | 'model' | undefined;
}

/** fleet_1m answers ranges up to this long, fleet_1h longer ones. */
export const FLEET_1M_MAX_RANGE_MS = 7 * DAY_MS;

export function pickFleetSource(rangeMs: number): Source {
  return rangeMs <= FLEET_1M_MAX_RANGE_MS
    ? { name: '1m', measurement: MEASUREMENTS.fleet1m, resolutionMs: MINUTE_MS }
    : { name: '1h', measurement: MEASUREMENTS.fleet1h, resolutionMs: HOUR_MS };
}

const FIELD_OF = {
  hashrate_ths: 'hashrate_ghs',
  hashrate_nominal_ths: 'hashrate_nominal_ghs',
  power_kw: 'power_w',
} as const;

const f = (fn: SeriesField['fn'], field: string, as: string): SeriesField => ({ fn, field, as });

/**
 * Inner: per (site, model, collector) or per miner, the mean over the step (buckets without
 * data left out); outer (`then`): added up per step over those series, every step answered.
 */
function builders(
  s: SeriesScope,
  measurement: string,
  innerTags: readonly string[],
): {
  twoStage: (outer: SeriesField[], inner: SeriesField[]) => SeriesQuery;
  oneStage: (fields: SeriesField[]) => SeriesQuery;
} {
  const tags: TagFilter[] = [];
  if (s.site !== undefined) tags.push({ tag: 'site', in: [s.site] });
  if (s.model !== undefined) tags.push({ tag: 'model', in: [s.model] });
  const outerGroup = s.groupBy ? [s.groupBy] : [];
  const base = { measurement, tenant: s.tenant, tags, fromMs: s.fromMs, toMs: s.toMs, stepMs: s.stepMs };
  return {
    twoStage: (outer, inner) => ({
      ...base,
      fields: inner,
      groupBy: [...innerTags, ...(s.groupBy && !innerTags.includes(s.groupBy) ? [s.groupBy] : [])],
      fill: 'none',
      then: { fields: outer, groupBy: outerGroup, fill: 'null' },
    }),
    oneStage: fields => ({ ...base, fields, groupBy: outerGroup, fill: 'null' }),
  };
}

const efficiency = (r: Record<string, unknown>): number | null => {
  const p = num(r.p);
  const h = num(r.h);
  return p !== null && h !== null && h > 0 ? jth(p / (h / 1_000)) : null;
};

/**
 * What tells the two sources apart: the tags a series is first reduced by, and how online
 * miners are counted (fleet rollups carry `online` and `miners` per group window, per-miner
 * series an `up` ratio per miner).
 */
interface SourceShape {
  innerTags: readonly string[];
  onlineField: 'online' | 'up';
  /** availability: sum online / sum miners (fleet rollups), or the mean of per-miner up */
  availability: 'ratio_of_sums' | 'mean_up';
}

const FLEET_ROLLUPS: SourceShape = { innerTags: ['site', 'model', 'collector'], onlineField: 'online', availability: 'ratio_of_sums' };
const PER_MINER: SourceShape = { innerTags: ['miner'], onlineField: 'up', availability: 'mean_up' };

function seriesQuery(metric: FleetMetric, source: Source, s: SeriesScope, shape: SourceShape): FleetSeriesQuery {
  const { twoStage, oneStage } = builders(s, source.measurement, shape.innerTags);
  switch (metric) {
    case 'hashrate_ths':
    case 'hashrate_nominal_ths':
    case 'power_kw':
      return {
        query: twoStage([f('sum', 'v', 'v')], [f('mean', FIELD_OF[metric], 'v')]),
        value: r => nullable(metric === 'power_kw' ? kw : ths)(num(r.v)),
      };
    case 'efficiency_jth':
      return {
        query: twoStage(
          [f('sum', 'p', 'p'), f('sum', 'h', 'h')],
          [f('mean', 'power_w', 'p'), f('mean', 'hashrate_ghs', 'h')],
        ),
        value: efficiency,
      };
    case 'online_miners':
      return {
        query: twoStage([f('sum', 'v', 'v')], [f('mean', shape.onlineField, 'v')]),
        value: r => nullable(v => Math.round(v * 100) / 100)(num(r.v)),
      };
    case 'availability_pct':
      if (shape.availability === 'mean_up')
        return {
          query: twoStage([f('mean', 'v', 'v')], [f('mean', 'up', 'v')]),
          value: r => nullable(v => pct(v * 100))(num(r.v)),
        };
      return {
        query: twoStage(
          [f('sum', 'o', 'o'), f('sum', 'm', 'm')],
          [f('mean', 'online', 'o'), f('mean', 'miners', 'm')],
        ),
        value: r => {
          const on = num(r.o);
          const m = num(r.m);
          return on !== null && m !== null && m > 0 ? pct((on / m) * 100) : null;
        },
      };
    case 'temp_chip_max_c':
      return {
        query: oneStage([f('max', 'temp_chip_max_c', 'v')]),
        value: r => nullable(celsius)(num(r.v)),
      };
  }
}

/** From fleet_1m / fleet_1h. */
export function fleetRollupSeriesQuery(metric: FleetMetric, source: Source, s: SeriesScope): FleetSeriesQuery {
  return seriesQuery(metric, source, s, FLEET_ROLLUPS);
}

/** From the per-miner series (`miner`, `miner_1m`, `miner_1h`): sum of per-miner means per step. */
export function minerRollupSeriesQuery(metric: FleetMetric, source: Source, s: SeriesScope): FleetSeriesQuery {
  return seriesQuery(metric, source, s, PER_MINER);
}
