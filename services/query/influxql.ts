import { ident, literal, regexEscape, type InfluxSeries } from '../../store/influx-redis/influx-client.ts';
import { MEASUREMENTS } from '../../core/samples.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from './time.ts';

/**
 * Small builders for the InfluxQL the query service runs. Every identifier goes through
 * `ident`, every value through `literal` (or `regexEscape` inside a regex), so user input is
 * never concatenated raw. Only InfluxQL that InfluxDB 1.x, 2.x (v1 API) and 3.x all run:
 * SELECT with mean/max/min/last/sum, WHERE on tags and time, GROUP BY time()/tags, fill(),
 * ORDER BY time DESC, LIMIT, and one level of subquery. No SLIMIT/SOFFSET/SAMPLE/INTO/SHOW SERIES.
 * Times are RFC 3339 string literals, which every flavour accepts.
 */

export type Cond = string | null | undefined | false;

export function tagEq(tag: string, value: string): string {
  return `${ident(tag)} = ${literal(value)}`;
}

/** tag equal to one of values (exact match through an anchored, escaped regex). */
export function tagIn(tag: string, values: readonly string[]): string {
  if (values.length === 1) return tagEq(tag, values[0]!);
  return `${ident(tag)} =~ /^(${values.map(regexEscape).join('|')})$/`;
}

export function timeRange(fromMs: number, toMs: number): string {
  return `time >= ${literal(new Date(fromMs).toISOString())} AND time < ${literal(new Date(toMs).toISOString())}`;
}

/** An InfluxQL duration literal: `300s`, `1500ms`. */
export function durationLiteral(ms: number): string {
  return ms % 1_000 === 0 ? `${ms / 1_000}s` : `${ms}ms`;
}

export type AggFn = 'mean' | 'max' | 'min' | 'last' | 'sum' | 'count';

export function agg(fn: AggFn, field: string, alias = field): string {
  return `${fn}(${ident(field)}) AS ${ident(alias)}`;
}

export interface SelectSpec {
  fields: readonly string[];
  /** a measurement name, or a full SELECT statement used as a subquery */
  from: string | { subquery: string };
  where: readonly Cond[];
  /** time bucket in ms (GROUP BY time(...)) */
  bucketMs?: number;
  /** tags to group by */
  groupBy?: readonly string[];
  fill?: 'null' | 'none';
  orderDesc?: boolean;
  limit?: number;
}

export function select(spec: SelectSpec): string {
  const from = typeof spec.from === 'string' ? ident(spec.from) : `(${spec.from.subquery})`;
  const where = spec.where.filter((c): c is string => typeof c === 'string' && c.length > 0);
  let q = `SELECT ${spec.fields.join(', ')} FROM ${from}`;
  if (where.length > 0) q += ` WHERE ${where.join(' AND ')}`;
  const groups = [
    ...(spec.bucketMs ? [`time(${durationLiteral(spec.bucketMs)})`] : []),
    ...(spec.groupBy ?? []).map(ident),
  ];
  if (groups.length > 0) q += ` GROUP BY ${groups.join(', ')}`;
  if (spec.fill) q += ` fill(${spec.fill})`;
  if (spec.orderDesc) q += ' ORDER BY time DESC';
  if (spec.limit !== undefined) q += ` LIMIT ${Math.max(1, Math.floor(spec.limit))}`;
  return q;
}

/** Number or null from a result cell. */
export function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Each series' rows as objects (columns by name) with the series tags attached. */
export function seriesRows(
  series: InfluxSeries[],
): { tags: Record<string, string>; rows: Record<string, unknown>[] }[] {
  return series.map(s => ({
    tags: s.tags,
    rows: s.values.map(v => {
      const row: Record<string, unknown> = {};
      s.columns.forEach((c, i) => (row[c] = v[i]));
      return row;
    }),
  }));
}

// ---- resolution: which measurement answers a time range -------------------------------------

export type SourceName = 'raw' | '1m' | '1h';

export interface Source {
  name: SourceName;
  measurement: string;
  /** smallest meaningful step on this source */
  resolutionMs: number;
}

export const MAX_RANGE_MS = 90 * DAY_MS;

/**
 * The rollup selection rule. One miner's series: raw `miner` points up to 6 h, `miner_1m` up
 * to 7 d, `miner_1h` beyond (max 90 d). Queries over a whole tenant or site (fleet series and
 * every analytics call) read 10,000 series, so they move to rollups sooner: raw up to 1 h,
 * `miner_1m` up to 12 h, `miner_1h` beyond. The collector writes a rollup when its window
 * closes, so the newest (unfinished) minute or hour is not in a rollup yet.
 */
export const SOURCE_RULES = {
  miner: { rawMaxMs: 6 * HOUR_MS, oneMinuteMaxMs: 7 * DAY_MS },
  fleet: { rawMaxMs: 1 * HOUR_MS, oneMinuteMaxMs: 12 * HOUR_MS },
} as const;

export function pickSource(
  rangeMs: number,
  scope: keyof typeof SOURCE_RULES,
  pollIntervalMs: number,
): Source {
  const rule = SOURCE_RULES[scope];
  if (rangeMs <= rule.rawMaxMs)
    return { name: 'raw', measurement: MEASUREMENTS.miner, resolutionMs: pollIntervalMs };
  if (rangeMs <= rule.oneMinuteMaxMs)
    return { name: '1m', measurement: MEASUREMENTS.miner1m, resolutionMs: MINUTE_MS };
  return { name: '1h', measurement: MEASUREMENTS.miner1h, resolutionMs: HOUR_MS };
}

const NICE_STEPS_MS = [
  10_000,
  15_000,
  30_000,
  MINUTE_MS,
  2 * MINUTE_MS,
  5 * MINUTE_MS,
  10 * MINUTE_MS,
  15 * MINUTE_MS,
  30 * MINUTE_MS,
  HOUR_MS,
  2 * HOUR_MS,
  3 * HOUR_MS,
  6 * HOUR_MS,
  12 * HOUR_MS,
  DAY_MS,
  2 * DAY_MS,
  7 * DAY_MS,
];

/** Default step: the smallest nice step giving at most `targetPoints` buckets, never below the source resolution. */
export function defaultStep(rangeMs: number, resolutionMs: number, targetPoints = 500): number {
  const min = Math.max(resolutionMs, Math.ceil(rangeMs / targetPoints));
  return NICE_STEPS_MS.find(s => s >= min) ?? Math.ceil(min / DAY_MS) * DAY_MS;
}
