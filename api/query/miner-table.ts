import { createHash } from 'node:crypto';
import { FleetError } from '../../collector/errors.ts';
import type { SnapshotStore } from '../../collector/snapshot-store.ts';
import type { DegradedReason, HealthStatus, MinerSnapshot } from '../../collector/samples.ts';
import type { MinerSortKey } from '../schemas/miners.ts';
import type { TtlCache } from './cache.ts';

/**
 * A compact, in-process table of a tenant's miners (one small row per snapshot), so listing,
 * sorting, free-text search and pool health at 10,000 miners cost a filter + sort over memory
 * instead of an MGET of every snapshot per request. The table is loaded from the snapshot
 * store and cached briefly (see FleetQuery: fresh 2 s, served stale up to 15 s while one
 * background load refreshes it).
 */

export interface PoolRow {
  url: string;
  enabled: boolean;
  active: boolean;
  alive: boolean;
  accepted: number;
  rejected: number;
  stale: number;
}

export interface MinerRow {
  id: string;
  site: string;
  address: string;
  hostname: string | null;
  model: string | null;
  firmware: string | null;
  status: HealthStatus;
  degraded_reasons: DegradedReason[];
  labels: Record<string, string>;
  /** the last poll reached the miner: the values below are current (else null) */
  reached: boolean;
  hashrate_ghs: number | null;
  nominal_ghs: number | null;
  pct_nominal: number | null;
  power_w: number | null;
  efficiency_jth: number | null;
  temp_chip_max_c: number | null;
  boards_hashing: number | null;
  boards_total: number | null;
  last_seen_ms: number | null;
  pools: PoolRow[];
  /** lower-cased id, hostname and host for `q` */
  haystack: string;
}

export interface MinerTable {
  tenant: string;
  rows: MinerRow[];
  byId: Map<string, MinerRow>;
  /** wall-clock load time */
  loadedMs: number;
  /** changes with every load; part of derived cache keys */
  version: number;
}

const finite = (v: number | null | undefined): number | null =>
  typeof v === 'number' && Number.isFinite(v) ? v : null;

export function minerRow(s: MinerSnapshot): MinerRow {
  const sample = s.sample;
  const reached = sample !== null && s.status !== 'offline';
  const cur = reached ? sample : null;
  const hashrate = finite(cur?.hashrate_ghs);
  const nominal = finite(cur?.hashrate_nominal_ghs);
  const power = finite(cur?.power_w);
  const efficiency =
    finite(cur?.efficiency_jth) ??
    (power !== null && hashrate !== null && hashrate > 0 ? power / (hashrate / 1_000) : null);
  const hostname = sample?.hostname || s.details?.hostname || null;
  const host = s.ref.address.replace(/:\d+$/, '');
  return {
    id: s.ref.id,
    site: s.ref.site,
    address: s.ref.address,
    hostname,
    model: sample?.model || s.details?.model || null,
    firmware: sample?.firmware || s.details?.firmware || null,
    status: s.status,
    degraded_reasons: sample?.degraded_reasons ?? [],
    labels: s.ref.labels ?? {},
    reached,
    hashrate_ghs: hashrate,
    nominal_ghs: nominal,
    pct_nominal: hashrate !== null && nominal !== null && nominal > 0 ? (hashrate / nominal) * 100 : null,
    power_w: power,
    efficiency_jth: efficiency,
    temp_chip_max_c: finite(cur?.temp_chip_max_c),
    boards_hashing: cur ? cur.boards_hashing : null,
    boards_total: cur ? cur.boards_total : null,
    last_seen_ms: s.last_seen_ms,
    pools: (cur?.pools ?? []).map(p => ({
      url: p.pool,
      enabled: p.enabled,
      active: p.active,
      alive: p.alive,
      accepted: p.accepted,
      rejected: p.rejected,
      stale: p.stale,
    })),
    haystack: `${s.ref.id}\n${hostname ?? ''}\n${host}`.toLowerCase(),
  };
}

/** snapshots read and converted to rows at a time while loading a table */
const LOAD_CHUNK = 200;

export async function loadMinerTable(
  store: SnapshotStore,
  tenant: string,
  version: number,
): Promise<MinerTable> {
  const ids = await store.listIds({ tenant });
  const rows: MinerRow[] = [];
  // Chunk by chunk, so each parsed snapshot (~2.5 KB of JSON) dies young: holding all of them
  // until the last MGET answered promoted ~60 MB per load at 10,000 miners to the old
  // generation, and the full collections that followed stalled every request.
  for (let i = 0; i < ids.length; i += LOAD_CHUNK) {
    for (const s of await store.getSnapshots(ids.slice(i, i + LOAD_CHUNK)))
      if (s && s.ref.tenant === tenant) rows.push(minerRow(s));
  }
  return { tenant, rows, byId: new Map(rows.map(r => [r.id, r])), loadedMs: Date.now(), version };
}

// ---- filtering, sorting, cursors -------------------------------------------------------------

export interface MinerFilter {
  status?: HealthStatus | undefined;
  site?: string | undefined;
  model?: string | undefined;
  labels?: [string, string][] | undefined;
  firmware?: string | undefined;
  q?: string | undefined;
}

export interface MinerOrder {
  sort: MinerSortKey;
  order: 'asc' | 'desc';
}

export function matches(r: MinerRow, f: MinerFilter): boolean {
  if (f.status !== undefined && r.status !== f.status) return false;
  if (f.site !== undefined && r.site !== f.site) return false;
  if (f.model !== undefined && r.model !== f.model) return false;
  if (f.labels) for (const [k, v] of f.labels) if (r.labels[k] !== v) return false;
  if (f.firmware !== undefined && !(r.firmware ?? '').toLowerCase().includes(f.firmware.toLowerCase()))
    return false;
  if (f.q !== undefined && !r.haystack.includes(f.q.toLowerCase())) return false;
  return true;
}

type SortValue = number | string | null;

export function sortValue(r: MinerRow, sort: MinerSortKey): SortValue {
  switch (sort) {
    case 'id':
      return r.id;
    case 'hashrate':
      return r.hashrate_ghs;
    case 'pct_nominal':
      return r.pct_nominal;
    case 'temperature':
      return r.temp_chip_max_c;
    case 'efficiency':
      return r.efficiency_jth;
    case 'power':
      return r.power_w;
    case 'last_seen':
      return r.last_seen_ms;
  }
}

/** Order by the sort value (nulls always last), then by id ascending, so pages are stable. */
export function compareBy(
  o: MinerOrder,
): (a: { v: SortValue; id: string }, b: { v: SortValue; id: string }) => number {
  const dir = o.order === 'asc' ? 1 : -1;
  return (a, b) => {
    if (a.v !== b.v) {
      if (a.v === null) return 1;
      if (b.v === null) return -1;
      return (a.v < b.v ? -1 : 1) * dir;
    }
    if (o.sort === 'id') return 0;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  };
}

export function filterAndSort(rows: readonly MinerRow[], f: MinerFilter, o: MinerOrder): MinerRow[] {
  const cmp = compareBy(o);
  return rows
    .filter(r => matches(r, f))
    .map(r => ({ r, v: sortValue(r, o.sort), id: r.id }))
    .sort(cmp)
    .map(x => x.r);
}

/** A short stable hash of the filters and order, so a cursor is only used with its own query. */
export function queryFingerprint(f: MinerFilter, o: MinerOrder): string {
  const canonical = JSON.stringify([
    f.status ?? null,
    f.site ?? null,
    f.model ?? null,
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

export function encodeCursor(fp: string, last: MinerRow, sort: MinerSortKey): string {
  const data: CursorData = { f: fp, v: sortValue(last, sort), i: last.id };
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

/** Index of the first row after the cursor position in `sorted` (keyset pagination: stable while values change). */
export function indexAfter(
  sorted: readonly MinerRow[],
  at: { v: SortValue; id: string },
  o: MinerOrder,
): number {
  const cmp = compareBy(o);
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const r = sorted[mid]!;
    if (cmp({ v: sortValue(r, o.sort), id: r.id }, at) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export type MinerTableCache = TtlCache<MinerTable>;
