import { createHash } from 'node:crypto';
import { FleetError } from '../../core/errors.ts';
import type { HealthStatus } from '../../core/samples.ts';
import type { MinerSortKey } from '../../api/schemas/miners.ts';
import { orNull, poolOf, type MinerTable } from './miner-table.ts';

// Filters, sort order and keyset cursors of the miner list, over a MinerTable.

export interface MinerFilter {
  status?: HealthStatus | undefined;
  site?: string | undefined;
  model?: string | undefined;
  /** model names a `model` filter resolved to (miner-ref.ts matchModels); checked instead of model */
  models?: readonly string[] | undefined;
  labels?: [string, string][] | undefined;
  firmware?: string | undefined;
  q?: string | undefined;
}

export interface MinerOrder {
  sort: MinerSortKey;
  order: 'asc' | 'desc';
}

/** Rows of `t` that pass the filter, in table order. */
export function matchingRows(t: MinerTable, f: MinerFilter): Int32Array {
  const out = new Int32Array(t.size);
  let n = 0;
  const firmware = f.firmware?.toLowerCase();
  const q = f.q?.toLowerCase();
  const firmwareMatch = new Map<string | null, boolean>();
  for (let i = 0; i < t.size; i++) {
    if (f.status !== undefined && t.status[i] !== f.status) continue;
    if (f.site !== undefined && t.site[i] !== f.site) continue;
    if (f.models !== undefined) {
      if (!f.models.includes(t.model[i]!)) continue;
    } else if (f.model !== undefined && t.model[i] !== f.model) continue;
    if (f.labels && !f.labels.every(([k, v]) => t.labels[i]![k] === v)) continue;
    if (firmware !== undefined) {
      const fw = t.firmware[i]!;
      let ok = firmwareMatch.get(fw);
      if (ok === undefined) firmwareMatch.set(fw, (ok = (fw ?? '').toLowerCase().includes(firmware)));
      if (!ok) continue;
    }
    if (q !== undefined && !t.haystack[i]!.includes(q)) continue;
    out[n++] = i;
  }
  return out.slice(0, n);
}

type SortValue = number | string | null;
type NumberSortKey = 'hashrate' | 'pct_nominal' | 'temperature' | 'efficiency' | 'power' | 'last_seen' | 'fans' | 'uptime' | 'boards';
type TextSortKey = Exclude<MinerSortKey, NumberSortKey | 'id'>;

const SORT_COLUMN: Record<NumberSortKey, (t: MinerTable) => Float64Array> = {
  hashrate: t => t.hashrate_ghs,
  pct_nominal: t => t.pct_nominal,
  temperature: t => t.temp_chip_max_c,
  efficiency: t => t.efficiency_jth,
  power: t => t.power_w,
  last_seen: t => t.last_seen_ms,
  fans: t => t.fan_rpm_min,
  uptime: t => t.system_uptime_s,
  boards: t => t.boards_hashing,
};

/** Text columns sort by their value (nulls last), compared as strings. */
const TEXT_COLUMN: Record<TextSortKey, (t: MinerTable, i: number) => string | null> = {
  site: (t, i) => t.site[i]!,
  model: (t, i) => t.model[i]!,
  status: (t, i) => t.status[i]!,
  firmware: (t, i) => t.firmware[i]!,
  pool: (t, i) => poolOf(t, i),
};

const isText = (sort: MinerSortKey): sort is TextSortKey => sort in TEXT_COLUMN;

/**
 * The rank of each row's text value among the table's distinct values (NaN for null), computed
 * once per table and key, so a text sort is a number sort.
 */
const textRanks = new WeakMap<MinerTable, Map<TextSortKey, Float64Array>>();
function textRank(t: MinerTable, sort: TextSortKey): Float64Array {
  let byKey = textRanks.get(t);
  if (!byKey) textRanks.set(t, (byKey = new Map()));
  let ranks = byKey.get(sort);
  if (ranks) return ranks;
  const value = TEXT_COLUMN[sort];
  const values = Array.from({ length: t.size }, (_, i) => value(t, i));
  const distinct = [...new Set(values.filter((v): v is string => v !== null))].sort();
  const rankOf = new Map(distinct.map((v, k) => [v, k]));
  ranks = Float64Array.from(values, v => (v === null ? NaN : rankOf.get(v)!));
  byKey.set(sort, ranks);
  return ranks;
}

export function numberColumn(t: MinerTable, sort: Exclude<MinerSortKey, 'id'>): Float64Array {
  return isText(sort) ? textRank(t, sort) : SORT_COLUMN[sort](t);
}

function sortValue(t: MinerTable, i: number, sort: MinerSortKey): SortValue {
  if (sort === 'id') return t.id[i]!;
  return isText(sort) ? TEXT_COLUMN[sort](t, i) : orNull(SORT_COLUMN[sort](t)[i]!);
}

/**
 * Compare rows by the sort value (nulls always last), then by id ascending, so pages are stable;
 * a row index or, for a cursor position, { v, id } on either side.
 */
export function comparator(t: MinerTable, o: MinerOrder): (a: number, b: number) => number {
  const dir = o.order === 'asc' ? 1 : -1;
  const rank = t.idRank;
  if (o.sort === 'id') return (a, b) => (rank[a]! - rank[b]!) * dir;
  const col = numberColumn(t, o.sort);
  return (a, b) => {
    const x = col[a]!;
    const y = col[b]!;
    if (x !== y) {
      if (Number.isNaN(x)) {
        if (!Number.isNaN(y)) return 1;
      } else if (Number.isNaN(y)) return -1;
      else return (x < y ? -1 : 1) * dir;
    }
    return rank[a]! - rank[b]!;
  };
}

/**
 * The rows that pass the filter, in the order `o`. With `allRows` (every row of `t` already in
 * that order: miner-sort-orders.ts) it is a filter pass over that list instead of a sort.
 */
export function filterAndSort(t: MinerTable, f: MinerFilter, o: MinerOrder, allRows?: Int32Array): Int32Array {
  if (!allRows) return matchingRows(t, f).sort(comparator(t, o));
  if (!hasFilter(f)) return allRows;
  const rows = matchingRows(t, f);
  if (rows.length === 0) return rows;
  const pass = new Uint8Array(t.size);
  for (const i of rows) pass[i] = 1;
  const out = new Int32Array(rows.length);
  let n = 0;
  for (const i of allRows) if (pass[i]) out[n++] = i;
  return out;
}

const hasFilter = (f: MinerFilter): boolean =>
  f.status !== undefined ||
  f.site !== undefined ||
  f.model !== undefined ||
  f.models !== undefined ||
  (f.labels !== undefined && f.labels.length > 0) ||
  f.firmware !== undefined ||
  f.q !== undefined;

/** A short stable hash of the filters and order, so a cursor is only used with its own query. */
export function queryFingerprint(f: MinerFilter, o: MinerOrder): string {
  const canonical = JSON.stringify([
    f.status ?? null,
    f.site ?? null,
    f.model ?? null,
    f.models ?? null,
    [...(f.labels ?? [])].sort(),
    f.firmware ?? null,
    f.q ?? null,
    o.sort,
    o.order,
  ]);
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 12);
}

interface CursorData {
  f: string;
  v: SortValue;
  i: string;
}

export function encodeCursor(fp: string, t: MinerTable, last: number, sort: MinerSortKey): string {
  const data: CursorData = { f: fp, v: sortValue(t, last, sort), i: t.id[last]! };
  return Buffer.from(JSON.stringify(data)).toString('base64url');
}

const badCursor = (): FleetError =>
  new FleetError(
    'invalid_argument',
    'cursor: not a cursor from this API; pass next_cursor of the previous page unchanged, or drop it to start again',
    { details: { field: 'cursor' } },
  );

export function decodeCursor(cursor: string, fp: string): { v: SortValue; id: string } {
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badCursor();
  }
  const d = data as Partial<CursorData>;
  if (
    !d ||
    typeof d !== 'object' ||
    typeof d.f !== 'string' ||
    typeof d.i !== 'string' ||
    !(d.v === null || typeof d.v === 'number' || typeof d.v === 'string')
  )
    throw badCursor();
  if (d.f !== fp) {
    throw new FleetError(
      'invalid_argument',
      'cursor: it belongs to a query with other filters or sort; drop cursor to start from the first page',
      { details: { field: 'cursor' } },
    );
  }
  return { v: d.v, id: d.i };
}

/** Whether row i sorts at or before the cursor position `at` (same order as the comparator). */
function atOrBefore(t: MinerTable, i: number, at: { v: SortValue; id: string }, o: MinerOrder): boolean {
  const id = t.id[i]!;
  const byId = id <= at.id;
  if (o.sort === 'id') return o.order === 'asc' ? byId : id >= at.id;
  const v = sortValue(t, i, o.sort);
  const w = isText(o.sort) ? (typeof at.v === 'string' ? at.v : null) : typeof at.v === 'number' ? at.v : null;
  if (v === w) return byId;
  if (v === null) return false;
  if (w === null) return true;
  return o.order === 'asc' ? v < w : v > w;
}

/** Index in `sorted` of the first row after the cursor position (keyset pagination: stable while values change). */
export function indexAfter(
  t: MinerTable,
  sorted: Int32Array,
  at: { v: SortValue; id: string },
  o: MinerOrder,
): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (atOrBefore(t, sorted[mid]!, at, o)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
