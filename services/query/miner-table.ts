import type { StatePort } from '../../store/ports/state.ts';
import type { DegradedReason, HealthStatus, MinerSnapshot } from '../../core/samples.ts';
import { currentHashrateGhs, expectedHashrateGhs } from './miner-figures.ts';

/**
 * A compact, in-process table of a tenant's miners, so listing, sorting, free-text search and
 * pool health at 10,000 miners cost a filter + sort over memory instead of an MGET of every
 * snapshot per request. FleetQuery reloads it every few seconds (miner-table-loader.ts).
 *
 * It is laid out in columns, one entry per miner, rows in id order: numbers in Float64Arrays
 * (NaN for "none"), strings and small objects in arrays whose values are the very instances of
 * the previous table wherever they are equal (MinerTableBuilder). So a reload leaves little for
 * the garbage collector to copy: with one object per miner (~1 KB with its strings, pools and
 * labels) each reload at 10,000 miners left ~10 MB to promote.
 */
export interface MinerTableStrings {
  tenant: string;
  size: number;
  id: readonly string[];
  site: readonly string[];
  address: readonly string[];
  hostname: readonly (string | null)[];
  model: readonly (string | null)[];
  firmware: readonly (string | null)[];
  status: readonly HealthStatus[];
  degraded: readonly (readonly DegradedReason[])[];
  labels: readonly Readonly<Record<string, string>>[];
  /** lower-cased id, hostname and host for `q` */
  haystack: readonly string[];
  /** the pools of row i are poolStart[i] .. poolStart[i + 1] - 1 */
  poolStart: Int32Array;
  poolUrl: readonly string[];
}

export interface MinerTableColumns extends MinerTableStrings {
  /** 1 when the last poll reached the miner: the numbers below are current (else NaN) */
  reached: Uint8Array;
  hashrate_ghs: Float64Array;
  /** expected hashrate (every board counted: miner-figures.ts) */
  nominal_ghs: Float64Array;
  /** expected over the miner's own reported nominal: above 1 while a board is missing from it */
  expected_ratio: Float64Array;
  pct_nominal: Float64Array;
  power_w: Float64Array;
  efficiency_jth: Float64Array;
  temp_chip_max_c: Float64Array;
  boards_hashing: Float64Array;
  boards_total: Float64Array;
  last_seen_ms: Float64Array;
  /** slowest fan, RPM */
  fan_rpm_min: Float64Array;
  /** control board uptime */
  system_uptime_s: Float64Array;
  /** POOL_ENABLED | POOL_ACTIVE | POOL_ALIVE */
  poolFlags: Uint8Array;
  poolAccepted: Float64Array;
  poolRejected: Float64Array;
  poolStale: Float64Array;
}

/** The number columns, in the order they are built and sent between threads. */
export const NUMBER_COLUMNS = [
  'hashrate_ghs',
  'nominal_ghs',
  'expected_ratio',
  'pct_nominal',
  'power_w',
  'efficiency_jth',
  'temp_chip_max_c',
  'boards_hashing',
  'boards_total',
  'last_seen_ms',
  'fan_rpm_min',
  'system_uptime_s',
] as const;
export const POOL_NUMBER_COLUMNS = ['poolAccepted', 'poolRejected', 'poolStale'] as const;

/** Arrays given in the order of `names` (NUMBER_COLUMNS or POOL_NUMBER_COLUMNS), by their column names. */
export function namedColumns<K extends string>(
  names: readonly K[],
  arrays: readonly Float64Array[],
): Record<K, Float64Array> {
  return Object.fromEntries(names.map((k, i) => [k, arrays[i]!])) as Record<K, Float64Array>;
}

export interface MinerTable extends MinerTableColumns {
  /** changes with every load; part of derived cache keys */
  version: number;
  /** wall-clock load time */
  loadedMs: number;
  /** position of each row in id order (rows are loaded in id order, so usually the identity) */
  idRank: Int32Array;
}

export function minerTable(c: MinerTableColumns, version: number): MinerTable {
  const { prevRow: _row, prevPool: _pool, ...columns } = c as Partial<BuiltColumns> & MinerTableColumns;
  return { ...columns, version, loadedMs: Date.now(), idRank: rankOf(c.id) };
}

/** Row i as one object (for answers; the table itself keeps none). */
export function minerRowAt(t: MinerTable, i: number): MinerRow {
  return {
    id: t.id[i]!,
    site: t.site[i]!,
    address: t.address[i]!,
    hostname: t.hostname[i]!,
    model: t.model[i]!,
    firmware: t.firmware[i]!,
    status: t.status[i]!,
    degraded_reasons: t.degraded[i]!,
    labels: t.labels[i]!,
    reached: t.reached[i] === 1,
    hashrate_ghs: orNull(t.hashrate_ghs[i]!),
    nominal_ghs: orNull(t.nominal_ghs[i]!),
    pct_nominal: orNull(t.pct_nominal[i]!),
    power_w: orNull(t.power_w[i]!),
    efficiency_jth: orNull(t.efficiency_jth[i]!),
    temp_chip_max_c: orNull(t.temp_chip_max_c[i]!),
    boards_hashing: orNull(t.boards_hashing[i]!),
    boards_total: orNull(t.boards_total[i]!),
    last_seen_ms: orNull(t.last_seen_ms[i]!),
    fan_rpm_min: orNull(t.fan_rpm_min[i]!),
    system_uptime_s: orNull(t.system_uptime_s[i]!),
    pool: poolOf(t, i),
  };
}

/** URL of row i's active pool, else its first enabled one, else its first; null without pools. */
export function poolOf(t: MinerTableColumns, i: number): string | null {
  const from = t.poolStart[i]!;
  const to = t.poolStart[i + 1]!;
  if (from === to) return null;
  let enabled = -1;
  for (let k = from; k < to; k++) {
    if (t.poolFlags[k]! & POOL_ACTIVE) return t.poolUrl[k]!;
    if (enabled < 0 && t.poolFlags[k]! & POOL_ENABLED) enabled = k;
  }
  return t.poolUrl[enabled >= 0 ? enabled : from]!;
}

export interface MinerRow {
  id: string;
  site: string;
  address: string;
  hostname: string | null;
  model: string | null;
  firmware: string | null;
  status: HealthStatus;
  degraded_reasons: readonly DegradedReason[];
  labels: Readonly<Record<string, string>>;
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
  fan_rpm_min: number | null;
  system_uptime_s: number | null;
  pool: string | null;
}

export const POOL_ENABLED = 1;
export const POOL_ACTIVE = 2;
export const POOL_ALIVE = 4;

/** a column value, null for NaN (none) */
export const orNull = (v: number): number | null => (Number.isNaN(v) ? null : v);
const num = (v: number | null | undefined): number => (typeof v === 'number' && Number.isFinite(v) ? v : NaN);

function rankOf(ids: readonly string[]): Int32Array {
  const rank = new Int32Array(ids.length);
  let inOrder = true;
  for (let i = 0; i < ids.length; i++) {
    rank[i] = i;
    if (i > 0 && !(ids[i - 1]! < ids[i]!)) inOrder = false;
  }
  if (inOrder) return rank;
  const order = Array.from(rank).sort((a, b) => (ids[a]! < ids[b]! ? -1 : ids[a]! > ids[b]! ? 1 : 0));
  order.forEach((row, pos) => (rank[row] = pos));
  return rank;
}

export const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});
export const NO_REASONS: readonly DegradedReason[] = Object.freeze([]);

/** What a build produced: the columns, and where each row and pool was in the previous table. */
export interface BuiltColumns extends MinerTableColumns {
  /** row of the same miner in the previous table, -1 if none */
  prevRow: Int32Array;
  /** the same pool (same miner, same position) in the previous table, -1 if none */
  prevPool: Int32Array;
}

/**
 * Rows of one load, appended snapshot by snapshot in id order. Each row is matched with the
 * same miner's row of the previous table (a merge by id, both in id order), and wherever a
 * string, label set, reason list or pool URL is unchanged the previous instance is kept, so the
 * freshly parsed one dies young instead of being copied and promoted.
 */
export class MinerTableBuilder {
  private readonly tenant: string;
  private readonly id: string[] = [];
  private readonly site: string[] = [];
  private readonly address: string[] = [];
  private readonly hostname: (string | null)[] = [];
  private readonly model: (string | null)[] = [];
  private readonly firmware: (string | null)[] = [];
  private readonly status: HealthStatus[] = [];
  private readonly degraded: (readonly DegradedReason[])[] = [];
  private readonly labels: Readonly<Record<string, string>>[] = [];
  private readonly haystack: string[] = [];
  private reached: Uint8Array;
  private num: Float64Array[];
  private prevRow: Int32Array;
  private readonly poolStart: number[] = [0];
  private readonly poolUrl: string[] = [];
  private poolFlags = new Uint8Array(64);
  private poolNum: Float64Array[] = POOL_NUMBER_COLUMNS.map(() => new Float64Array(64));
  private prevPool = new Int32Array(64);
  private readonly prev: MinerTableStrings | undefined;
  /** merge position in prev */
  private at = 0;

  constructor(tenant: string, prev: MinerTableStrings | undefined, expectedRows = 64) {
    this.tenant = tenant;
    this.prev = prev?.tenant === tenant ? prev : undefined;
    const cap = Math.max(1, expectedRows);
    this.reached = new Uint8Array(cap);
    this.prevRow = new Int32Array(cap);
    this.num = NUMBER_COLUMNS.map(() => new Float64Array(cap));
  }

  /** the previous table's row of this id, -1 if none (or rows came out of order) */
  private prevRowOf(id: string): number {
    const p = this.prev;
    if (!p) return -1;
    while (this.at < p.size && p.id[this.at]! < id) this.at++;
    return this.at < p.size && p.id[this.at] === id ? this.at : -1;
  }

  add(s: MinerSnapshot): void {
    const i = this.id.length;
    if (i === this.reached.length) {
      this.reached = grown(this.reached);
      this.prevRow = grown(this.prevRow);
      this.num = this.num.map(grown);
    }
    const p = this.prev;
    const j = this.prevRowOf(s.ref.id);
    this.prevRow[i] = j;
    const sample = s.sample;
    const reached = sample !== null && s.status !== 'offline';
    const cur = reached ? sample : null;
    // Current and expected hashrate come from miner-figures.ts, like every other answer's.
    const hashrate = cur ? num(currentHashrateGhs(cur)) : NaN;
    const nominal = cur ? num(expectedHashrateGhs(cur, s.details)) : NaN;
    const power = num(cur?.power_w);
    let efficiency = hashrate > 0 ? num(cur?.efficiency_jth) : NaN;
    if (Number.isNaN(efficiency) && hashrate > 0) efficiency = power / (hashrate / 1_000);
    const hostname = sample?.hostname || s.details?.hostname || null;
    // An offline miner keeps its last known model; the inventory's model label names it otherwise.
    const model = sample?.model || s.details?.model || s.ref.labels?.model || null;
    const firmware = sample?.firmware || s.details?.firmware || null;
    const haystack = `${s.ref.id}\n${hostname ?? ''}\n${s.ref.address.replace(/:\d+$/, '')}`.toLowerCase();

    if (p && j >= 0) {
      this.id.push(p.id[j]!);
      this.site.push(same(p.site[j]!, s.ref.site));
      this.address.push(same(p.address[j]!, s.ref.address));
      this.hostname.push(same(p.hostname[j]!, hostname));
      this.model.push(same(p.model[j]!, model));
      this.firmware.push(same(p.firmware[j]!, firmware));
      this.degraded.push(sameReasons(p.degraded[j]!, sample?.degraded_reasons));
      this.labels.push(sameLabels(p.labels[j]!, s.ref.labels));
      this.haystack.push(same(p.haystack[j]!, haystack));
    } else {
      this.id.push(s.ref.id);
      this.site.push(s.ref.site);
      this.address.push(s.ref.address);
      this.hostname.push(hostname);
      this.model.push(model);
      this.firmware.push(firmware);
      this.degraded.push(sameReasons(NO_REASONS, sample?.degraded_reasons));
      this.labels.push(sameLabels(NO_LABELS, s.ref.labels));
      this.haystack.push(haystack);
    }
    this.status.push(s.status);
    this.reached[i] = reached ? 1 : 0;
    const [h, nom, ratio, pctNominal, pw, eff, temp, bh, bt, seen, fan, uptime] = this.num as [
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
    ];
    h[i] = hashrate;
    nom[i] = nominal;
    ratio[i] = cur && cur.hashrate_nominal_ghs > 0 && nominal > 0 ? nominal / cur.hashrate_nominal_ghs : NaN;
    pctNominal[i] = nominal > 0 ? (hashrate / nominal) * 100 : NaN;
    pw[i] = power;
    eff[i] = efficiency;
    temp[i] = num(cur?.temp_chip_max_c);
    bh[i] = cur ? cur.boards_hashing : NaN;
    bt[i] = cur ? cur.boards_total : NaN;
    seen[i] = num(s.last_seen_ms);
    fan[i] = num(cur?.fan_rpm_min);
    uptime[i] = num(cur?.system_uptime_s);

    const pools = cur?.pools ?? [];
    const prevFrom = p && j >= 0 ? p.poolStart[j]! : 0;
    const prevCount = p && j >= 0 ? p.poolStart[j + 1]! - prevFrom : 0;
    for (let k = 0; k < pools.length; k++) {
      const pool = pools[k]!;
      const at = this.poolUrl.length;
      if (at === this.poolFlags.length) {
        this.poolFlags = grown(this.poolFlags);
        this.prevPool = grown(this.prevPool);
        this.poolNum = this.poolNum.map(grown);
      }
      const old = k < prevCount ? prevFrom + k : -1;
      this.prevPool[at] = old;
      this.poolUrl.push(old >= 0 ? same(p!.poolUrl[old]!, pool.pool) : pool.pool);
      this.poolFlags[at] =
        (pool.enabled ? POOL_ENABLED : 0) | (pool.active ? POOL_ACTIVE : 0) | (pool.alive ? POOL_ALIVE : 0);
      this.poolNum[0]![at] = pool.accepted;
      this.poolNum[1]![at] = pool.rejected;
      this.poolNum[2]![at] = pool.stale;
    }
    this.poolStart.push(this.poolUrl.length);
  }

  columns(): BuiltColumns {
    const n = this.id.length;
    const pools = this.poolUrl.length;
    const nums = this.num.map(c => c.slice(0, n));
    const poolNums = this.poolNum.map(c => c.slice(0, pools));
    return {
      tenant: this.tenant,
      size: n,
      id: this.id,
      site: this.site,
      address: this.address,
      hostname: this.hostname,
      model: this.model,
      firmware: this.firmware,
      status: this.status,
      degraded: this.degraded,
      labels: this.labels,
      haystack: this.haystack,
      poolStart: Int32Array.from(this.poolStart),
      poolUrl: this.poolUrl,
      reached: this.reached.slice(0, n),
      ...namedColumns(NUMBER_COLUMNS, nums),
      poolFlags: this.poolFlags.slice(0, pools),
      ...namedColumns(POOL_NUMBER_COLUMNS, poolNums),
      prevRow: this.prevRow.slice(0, n),
      prevPool: this.prevPool.slice(0, pools),
    };
  }
}

/** the previous instance when equal, else the fresh value */
const same = <T>(prev: T, fresh: T): T => (prev === fresh ? prev : fresh);

function sameReasons(
  prev: readonly DegradedReason[],
  fresh: readonly DegradedReason[] | undefined,
): readonly DegradedReason[] {
  if (!fresh || fresh.length === 0) return NO_REASONS;
  if (prev.length === fresh.length && prev.every((r, k) => r === fresh[k])) return prev;
  return Object.freeze(fresh);
}

function sameLabels(
  prev: Readonly<Record<string, string>>,
  fresh: Record<string, string> | undefined,
): Readonly<Record<string, string>> {
  if (!fresh) return NO_LABELS;
  const keys = Object.keys(fresh);
  if (keys.length === 0) return NO_LABELS;
  if (keys.length === Object.keys(prev).length && keys.every(k => prev[k] === fresh[k])) return prev;
  return Object.freeze(fresh);
}

function grown<T extends Uint8Array | Int32Array | Float64Array>(a: T): T {
  const b = new (a.constructor as new (n: number) => T)(a.length * 2);
  b.set(a);
  return b;
}

/** A table of these snapshots (tests: the API loads with readMinerColumns). */
export function minerTableOf(
  tenant: string,
  snapshots: readonly MinerSnapshot[],
  version = 1,
  prev?: MinerTableStrings,
): MinerTable {
  const b = new MinerTableBuilder(tenant, prev, snapshots.length);
  for (const s of snapshots) if (s.ref.tenant === tenant) b.add(s);
  return minerTable(b.columns(), version);
}

/** snapshots read and converted to rows at a time while loading a table */
const LOAD_CHUNK = 200;

/** Read a tenant's snapshots from the store into columns (see MinerTableBuilder). */
export async function readMinerColumns(
  store: Pick<StatePort, 'minersOf' | 'snapshots'>,
  tenant: string,
  prev: MinerTableStrings | undefined,
): Promise<BuiltColumns> {
  const ids = await store.minersOf({ tenant });
  const b = new MinerTableBuilder(tenant, prev, ids.length);
  // Chunk by chunk, so each parsed snapshot (~2.5 KB of JSON) dies young. Between chunks the
  // thread serves what waits: the embedded store answers from memory without ever yielding, so a
  // reload in the request thread (~60 ms at 10,000 miners) would otherwise hold every request.
  for (let i = 0; i < ids.length; i += LOAD_CHUNK) {
    if (i > 0) await new Promise(resolve => setImmediate(resolve));
    for (const s of await store.snapshots(ids.slice(i, i + LOAD_CHUNK)))
      if (s && s.ref.tenant === tenant) b.add(s);
  }
  return b.columns();
}
