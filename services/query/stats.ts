import type { InfluxClient } from '../../store/influx-redis/influx-client.ts';
import { agg, num, select, tagEq, timeRange, type AggFn, type Cond } from './influxql.ts';

/**
 * Per-series statistics over one time range: one InfluxQL statement grouped by tags (miner,
 * site, model or board), merged per key in memory. A miner whose site or model tag changed in
 * the range comes back as several series; they are merged exactly: means weighted by their
 * counts, max of maxima, min of minima, sums added. The tags of the series with the most
 * points win.
 */

export interface StatSpec {
  fn: Exclude<AggFn, 'last'>;
  field: string;
}

export interface GroupStats<A extends string> {
  key: string;
  tags: Record<string, string>;
  /** null when no point had the field */
  v: Record<A, number | null>;
  /** points behind each value */
  n: Record<A, number>;
}

export interface GroupedStatsQuery<A extends string> {
  tenant: string;
  measurement: string;
  fromMs: number;
  toMs: number;
  specs: Record<A, StatSpec>;
  groupBy: readonly string[];
  /** merge key from a series' tags (default: the miner tag) */
  key?: (tags: Record<string, string>) => string;
  where?: readonly Cond[];
}

export function statsQuery<A extends string>(q: GroupedStatsQuery<A>): string {
  const fields: string[] = [];
  for (const [alias, s] of Object.entries(q.specs) as [A, StatSpec][]) {
    fields.push(agg(s.fn, s.field, alias));
    if (s.fn === 'mean') fields.push(agg('count', s.field, `${alias}__n`));
  }
  return select({
    fields,
    from: q.measurement,
    where: [tagEq('tenant', q.tenant), ...(q.where ?? []), timeRange(q.fromMs, q.toMs)],
    groupBy: q.groupBy,
  });
}

export async function groupedStats<A extends string>(
  influx: InfluxClient,
  q: GroupedStatsQuery<A>,
): Promise<GroupStats<A>[]> {
  const series = await influx.query(statsQuery(q));
  const keyOf = q.key ?? ((t: Record<string, string>) => t.miner ?? '');
  const specs = Object.entries(q.specs) as [A, StatSpec][];
  const out = new Map<string, GroupStats<A> & { weight: number }>();
  for (const s of series) {
    const row: Record<string, unknown> = {};
    s.columns.forEach((c, i) => (row[c] = s.values[0]?.[i]));
    const v = {} as Record<A, number | null>;
    const n = {} as Record<A, number>;
    let weight = 0;
    for (const [alias, spec] of specs) {
      v[alias] = num(row[alias]);
      n[alias] = spec.fn === 'mean' ? (num(row[`${alias}__n`]) ?? 0) : v[alias] === null ? 0 : 1;
      weight = Math.max(weight, n[alias]);
    }
    const key = keyOf(s.tags);
    const prev = out.get(key);
    if (!prev) {
      out.set(key, { key, tags: s.tags, v, n, weight });
      continue;
    }
    for (const [alias, spec] of specs)
      prev.v[alias] = merge(spec.fn, prev.v[alias], prev.n[alias], v[alias], n[alias]);
    for (const [alias] of specs) prev.n[alias] += n[alias];
    if (weight > prev.weight) {
      prev.tags = s.tags;
      prev.weight = weight;
    }
  }
  return [...out.values()].map(({ key, tags, v, n }) => ({ key, tags, v, n }));
}

function merge(
  fn: StatSpec['fn'],
  a: number | null,
  an: number,
  b: number | null,
  bn: number,
): number | null {
  if (a === null) return b;
  if (b === null) return a;
  switch (fn) {
    case 'mean':
      return an + bn > 0 ? (a * an + b * bn) / (an + bn) : null;
    case 'max':
      return Math.max(a, b);
    case 'min':
      return Math.min(a, b);
    case 'sum':
    case 'count':
      return a + b;
  }
}
