import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import type { SeriesField, SeriesGroup, SeriesPointsQuery, SeriesQuery, TagFilter } from '../ports/series.ts';
import { q, type Column } from './series-tables.ts';

/**
 * The SQL of the series port's queries on the embedded tables, with InfluxQL's meaning: only
 * points carrying one of the selected fields count (a group or bucket with none is not in the
 * answer), buckets are aligned to the epoch, a missing tag groups as '', fill(null) answers
 * every bucket of the range, and without a step the row's time is the range start.
 */

export interface Sql {
  sql: string;
  params: SQLInputValue[];
}

/** `last` is a JS aggregate registered on the connection (registerSeriesFunctions). */
const AGG: Record<SeriesField['fn'], (col: string) => string> = {
  mean: c => `avg(${c})`,
  max: c => `max(${c})`,
  min: c => `min(${c})`,
  sum: c => `sum(${c})`,
  count: c => `count(${c})`,
  last: c => `series_last(time_ms, ${c})`,
};

export function registerSeriesFunctions(db: DatabaseSync): void {
  db.aggregate('series_last', {
    start: () => null,
    step: (acc: unknown, t: unknown, v: unknown) => {
      if (v === null) return acc;
      const a = acc as [number, unknown] | null;
      return a === null || (t as number) >= a[0] ? [t, v] : a;
    },
    result: (acc: unknown) => (acc === null ? null : (acc as [number, SQLInputValue])[1]),
  } as unknown as Parameters<typeof db.aggregate>[1]);
}

function where(tenant: string, tags: readonly TagFilter[] | undefined, fromMs: number, toMs: number, cols: ReadonlySet<string>): Sql {
  const parts = ['tenant = ?', 'time_ms >= ?', 'time_ms < ?'];
  const params: SQLInputValue[] = [tenant, Math.ceil(fromMs), Math.ceil(toMs)];
  for (const t of tags ?? []) {
    if (!cols.has(t.tag)) {
      // A tag no point ever had is '' everywhere.
      if (!t.in.includes('')) return { sql: '0', params: [] };
      continue;
    }
    if (t.in.length === 0) return { sql: '0', params: [] };
    parts.push(`${q(t.tag)} IN (${t.in.map(() => '?').join(', ')})`);
    params.push(...t.in);
  }
  return { sql: parts.join(' AND '), params };
}

const uniq = (xs: readonly string[]): string[] => [...new Set(xs)];

/**
 * Group tags leave the SQL under names of their own: a field alias may be named like a tag (the
 * hot spots' `board` field next to the `board` tag), and one row cannot hold both; in InfluxDB
 * tags and fields never share a namespace.
 */
const TAG_PREFIX = 'tag:';
const tagOut = (t: string): string => q(TAG_PREFIX + t);

/** The rows of every table of the range as one relation: time_ms, the needed tags and fields. */
function union(tables: readonly string[], columns: readonly Column[], tags: readonly string[], anyField: readonly string[], w: Sql): Sql {
  const have = new Set(columns.map(c => c.name));
  const want = uniq([...tags, ...anyField]);
  const list = ['time_ms', ...want.map(c => (have.has(c) ? q(c) : `${tags.includes(c) ? "''" : 'NULL'} AS ${q(c)}`))];
  const present = anyField.filter(f => have.has(f));
  const filter = anyField.length === 0 ? '' : present.length === 0 ? ' AND 0' : ` AND (${present.map(f => `${q(f)} IS NOT NULL`).join(' OR ')})`;
  const sql = tables.map(t => `SELECT ${list.join(', ')} FROM ${q(t)} WHERE ${w.sql}${filter}`).join(' UNION ALL ');
  return { sql, params: tables.flatMap(() => w.params) };
}

export function querySql(query: SeriesQuery, tables: readonly string[], columns: readonly Column[]): Sql | null {
  if (tables.length === 0) return null;
  const cols = new Set(columns.map(c => c.name));
  const groupBy = uniq(query.groupBy ?? []);
  const fieldNames = uniq(query.fields.map(f => f.field));
  const src = union(tables, columns, groupBy, fieldNames, where(query.tenant, query.tags, query.fromMs, query.toMs, cols));
  const bucket = query.stepMs ? `((time_ms / ${Math.floor(query.stepMs)}) * ${Math.floor(query.stepMs)})` : `${Math.floor(query.fromMs)}`;
  const aggs = (fields: readonly SeriesField[]): string =>
    fields.map(f => `${AGG[f.fn](q(f.field))} AS ${q(f.as ?? f.field)}`).join(', ');
  let sql = `SELECT ${bucket} AS time${groupBy.map(t => `, ${q(t)} AS ${tagOut(t)}`).join('')}, ${aggs(query.fields)} FROM (${src.sql})`;
  const g = [query.stepMs ? 'time' : '', ...groupBy.map(q)].filter(Boolean).join(', ');
  if (g) sql += ` GROUP BY ${g}`;
  // An aggregate over no rows is still one row in SQL; in the series model it is no group.
  sql += ' HAVING count(*) > 0';
  if (query.then) {
    const outerGroup = uniq(query.then.groupBy ?? []);
    // The outer stage reads the inner's aliases; time_ms for `last`.
    sql = `SELECT time${outerGroup.map(t => `, ${tagOut(t)}`).join('')}, ${aggs(query.then.fields)} FROM (SELECT time AS time_ms, * FROM (${sql}))`;
    const og = [query.stepMs ? 'time' : '', ...outerGroup.map(tagOut)].filter(Boolean).join(', ');
    if (og) sql += ` GROUP BY ${og}`;
    sql += ' HAVING count(*) > 0';
  }
  return { sql, params: src.params };
}

/** Rows of an aggregate answer into groups by the tags, with fill(null) applied. */
export function toGroups(query: SeriesQuery, rows: readonly Record<string, unknown>[]): SeriesGroup[] {
  const tags = uniq(query.then ? (query.then.groupBy ?? []) : (query.groupBy ?? []));
  const fields = (query.then ? query.then.fields : query.fields).map(f => f.as ?? f.field);
  const fill = query.then ? (query.then.fill ?? 'null') : (query.fill ?? 'null');
  const groups = new Map<string, SeriesGroup>();
  for (const r of rows) {
    const t: Record<string, string> = {};
    for (const k of tags) {
      const v = r[TAG_PREFIX + k];
      t[k] = typeof v === 'string' ? v : '';
    }
    // The outer stage of a subquery has rows for buckets where every inner value was null: InfluxDB leaves them out too.
    if (query.then && fields.every(f => r[f] === null || r[f] === undefined)) continue;
    const key = tags.map(k => t[k]).join('\u0000');
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { tags: t, rows: [] }));
    const row: Record<string, unknown> = { time: Number(r.time) };
    for (const f of fields) row[f] = r[f] ?? null;
    g.rows.push(row);
  }
  const out = [...groups.values()].sort((a, b) => {
    for (const k of tags) if (a.tags[k] !== b.tags[k]) return a.tags[k]! < b.tags[k]! ? -1 : 1;
    return 0;
  });
  const step = query.stepMs;
  for (const g of out) {
    g.rows.sort((a, b) => (a.time as number) - (b.time as number));
    if (!step || fill !== 'null') continue;
    const byTime = new Map(g.rows.map(r => [r.time as number, r]));
    const filled: Record<string, unknown>[] = [];
    for (let t = Math.floor(query.fromMs / step) * step; t < query.toMs; t += step) {
      filled.push(byTime.get(t) ?? { time: t, ...Object.fromEntries(fields.map(f => [f, null])) });
    }
    g.rows = filled;
  }
  return out;
}

export function pointsSql(query: SeriesPointsQuery, tables: readonly string[], columns: readonly Column[]): Sql | null {
  if (tables.length === 0) return null;
  const cols = new Set(columns.map(c => c.name));
  const w = where(query.tenant, query.tags, query.fromMs, query.toMs, cols);
  const list = ['time_ms AS time', ...columns.map(c => q(c.name))].join(', ');
  const sql = tables.map(t => `SELECT ${list} FROM ${q(t)} WHERE ${w.sql}`).join(' UNION ALL ');
  return { sql: `${sql} ORDER BY time DESC LIMIT ${Math.max(1, Math.floor(query.limit))}`, params: tables.flatMap(() => w.params) };
}
