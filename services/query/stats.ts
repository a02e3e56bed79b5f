import type { SeriesAggregate, SeriesField, SeriesQuery, SeriesReader, TagFilter } from '../../store/ports/series.ts';
import { num } from './influxql.ts';

/**
 * Per-series statistics over one time range: one series query grouped by tags (miner,
 * site, model or board), merged per key in memory. A miner whose site or model tag changed in
 * the range comes back as several series; they are merged exactly: means weighted by their
 * counts, max of maxima, min of minima, sums added. The tags of the series with the most
 * points win.
 */

export interface StatSpec {
  fn: Exclude<SeriesAggregate, 'last'>;
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
  tags?: readonly TagFilter[];
}

export function statsQuery<A extends string>(q: GroupedStatsQuery<A>): SeriesQuery {
  const fields: SeriesField[] = [];
  for (const [alias, s] of Object.entries(q.specs) as [A, StatSpec][]) {
    fields.push({ fn: s.fn, field: s.field, as: alias });
    if (s.fn === 'mean') fields.push({ fn: 'count', field: s.field, as: `${alias}__n` });
  }
  return {
    measurement: q.measurement,
    tenant: q.tenant,
    ...(q.tags ? { tags: q.tags } : {}),
    fromMs: q.fromMs,
    toMs: q.toMs,
    fields,
    groupBy: q.groupBy,
  };
}

export async function groupedStats<A extends string>(
  series: SeriesReader,
  q: GroupedStatsQuery<A>,
): Promise<GroupStats<A>[]> {
  const groups = await series.query(statsQuery(q));
  const keyOf = q.key ?? ((t: Record<string, string>) => t.miner ?? '');
  const specs = Object.entries(q.specs) as [A, StatSpec][];
  const out = new Map<string, GroupStats<A> & { weight: number }>();
  for (const s of groups) {
    const row: Record<string, unknown> = s.rows[0] ?? {};
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
