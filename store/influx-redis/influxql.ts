import { ident, literal, regexEscape, type InfluxSeries } from './influx-client.ts';
import type { SeriesField, SeriesGroup, SeriesPointsQuery, SeriesQuery, TagFilter } from '../ports/series.ts';

/**
 * The InfluxQL the series port's queries become. Every identifier goes through `ident`, every
 * value through `literal` (or `regexEscape` inside a regex), so user input is never
 * concatenated raw. Only InfluxQL that InfluxDB 1.x, 2.x (v1 API) and 3.x all run: SELECT with
 * mean/max/min/last/sum/count, WHERE on tags and time, GROUP BY time()/tags, fill(), ORDER BY
 * time DESC, LIMIT, and one level of subquery. No SLIMIT/SOFFSET/SAMPLE/INTO/SHOW SERIES.
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

export type AggFn = SeriesField['fn'];

export function agg(fn: AggFn, field: string, alias = field): string {
  return `${fn}(${ident(field)}) AS ${ident(alias)}`;
}

export interface SelectSpec {
  fields: readonly string[];
  /** a measurement name, or a full SELECT statement used as a subquery */
  from: string | { subquery: string };
  where: readonly Cond[];
  /** time bucket in ms (GROUP BY time(...)) */
  bucketMs?: number | undefined;
  /** tags to group by */
  groupBy?: readonly string[] | undefined;
  fill?: 'null' | 'none' | undefined;
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

const tagConds = (tags: readonly TagFilter[] | undefined): string[] => (tags ?? []).map(t => tagIn(t.tag, t.in));
const fieldsOf = (fields: readonly SeriesField[]): string[] => fields.map(f => agg(f.fn, f.field, f.as ?? f.field));

/** The statement of a series query: the tenant, tag filters and time in WHERE; `then` as the outer query over it. */
export function seriesStatement(q: SeriesQuery): string {
  const inner = select({
    fields: fieldsOf(q.fields),
    from: q.measurement,
    where: [tagEq('tenant', q.tenant), ...tagConds(q.tags), timeRange(q.fromMs, q.toMs)],
    bucketMs: q.stepMs,
    groupBy: q.groupBy,
    fill: q.stepMs ? q.fill : undefined,
  });
  if (!q.then) return inner;
  return select({
    fields: fieldsOf(q.then.fields),
    from: { subquery: inner },
    where: [timeRange(q.fromMs, q.toMs)],
    bucketMs: q.stepMs,
    groupBy: q.then.groupBy,
    fill: q.stepMs ? q.then.fill : undefined,
  });
}

export function pointsStatement(q: SeriesPointsQuery): string {
  return select({
    fields: ['*'],
    from: q.measurement,
    where: [tagEq('tenant', q.tenant), ...tagConds(q.tags), timeRange(q.fromMs, q.toMs)],
    orderDesc: true,
    limit: q.limit,
  });
}

/** Each series' rows as objects (columns by name) with the series tags attached. */
export function seriesRows(series: InfluxSeries[]): SeriesGroup[] {
  return series.map(s => ({
    tags: s.tags,
    rows: s.values.map(v => {
      const row: Record<string, unknown> = {};
      s.columns.forEach((c, i) => (row[c] = v[i]));
      return row;
    }),
  }));
}
