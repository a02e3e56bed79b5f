import { MEASUREMENTS } from '../../core/samples.ts';
import type { FleetMetric } from '../../api/schemas/fleet.ts';
import { celsius, jth, kw, nullable, pct, ths } from './format.ts';
import { agg, num, select, tagEq, timeRange, type Source } from './influxql.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from './time.ts';

/**
 * The InfluxQL behind fleet series, and how a result row becomes a value.
 *
 * Normally from the collector's fleet rollups (`fleet_1m` up to 7 days, `fleet_1h` beyond): the
 * inner query averages each (site, model, collector) series over the step, the outer one adds
 * them up (max for temperatures). A few dozen series instead of one per miner: InfluxDB 1.x
 * pays per series, about a second per 10,000 even over hourly points.
 *
 * For history written before fleet rollups existed, the same figures from the per-miner
 * series (sum of per-miner means per step; slow at 10,000 miners): minerRollupSeriesQuery.
 */

export interface SeriesQuery {
  q: string;
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

function builders(
  s: SeriesScope,
  measurement: string,
  innerTags: readonly string[],
): {
  where: (string | false)[];
  inner: (fields: string[]) => { subquery: string };
  outer: (fields: string[], from: string | { subquery: string }, where: readonly (string | false)[]) => string;
} {
  const time = timeRange(s.fromMs, s.toMs);
  const where = [
    tagEq('tenant', s.tenant),
    s.site !== undefined && tagEq('site', s.site),
    s.model !== undefined && tagEq('model', s.model),
    time,
  ];
  const outerGroup = s.groupBy ? [s.groupBy] : [];
  return {
    where,
    inner: fields => ({
      subquery: select({
        fields,
        from: measurement,
        where,
        bucketMs: s.stepMs,
        groupBy: [...innerTags, ...(s.groupBy && !innerTags.includes(s.groupBy) ? [s.groupBy] : [])],
        fill: 'none',
      }),
    }),
    outer: (fields, from, w) =>
      select({ fields, from, where: w, bucketMs: s.stepMs, groupBy: outerGroup, fill: 'null' }),
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

function seriesQuery(metric: FleetMetric, source: Source, s: SeriesScope, shape: SourceShape): SeriesQuery {
  const time = timeRange(s.fromMs, s.toMs);
  const { where, inner, outer } = builders(s, source.measurement, shape.innerTags);
  switch (metric) {
    case 'hashrate_ths':
    case 'hashrate_nominal_ths':
    case 'power_kw':
      return {
        q: outer([agg('sum', 'v')], inner([agg('mean', FIELD_OF[metric], 'v')]), [time]),
        value: r => nullable(metric === 'power_kw' ? kw : ths)(num(r.v)),
      };
    case 'efficiency_jth':
      return {
        q: outer(
          [agg('sum', 'p'), agg('sum', 'h')],
          inner([agg('mean', 'power_w', 'p'), agg('mean', 'hashrate_ghs', 'h')]),
          [time],
        ),
        value: efficiency,
      };
    case 'online_miners':
      return {
        q: outer([agg('sum', 'v')], inner([agg('mean', shape.onlineField, 'v')]), [time]),
        value: r => nullable(v => Math.round(v * 100) / 100)(num(r.v)),
      };
    case 'availability_pct':
      if (shape.availability === 'mean_up')
        return {
          q: outer([agg('mean', 'v')], inner([agg('mean', 'up', 'v')]), [time]),
          value: r => nullable(v => pct(v * 100))(num(r.v)),
        };
      return {
        q: outer(
          [agg('sum', 'o'), agg('sum', 'm')],
          inner([agg('mean', 'online', 'o'), agg('mean', 'miners', 'm')]),
          [time],
        ),
        value: r => {
          const on = num(r.o);
          const m = num(r.m);
          return on !== null && m !== null && m > 0 ? pct((on / m) * 100) : null;
        },
      };
    case 'temp_chip_max_c':
      return {
        q: outer([agg('max', 'temp_chip_max_c', 'v')], source.measurement, where),
        value: r => nullable(celsius)(num(r.v)),
      };
  }
}

/** From fleet_1m / fleet_1h. */
export function fleetRollupSeriesQuery(metric: FleetMetric, source: Source, s: SeriesScope): SeriesQuery {
  return seriesQuery(metric, source, s, FLEET_ROLLUPS);
}

/** From the per-miner series (`miner`, `miner_1m`, `miner_1h`): sum of per-miner means per step. */
export function minerRollupSeriesQuery(metric: FleetMetric, source: Source, s: SeriesScope): SeriesQuery {
  return seriesQuery(metric, source, s, PER_MINER);
}
