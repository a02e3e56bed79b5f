import {
  STAT_COLUMN,
  STAT_COLUMNS,
  WINDOW_RESOLUTIONS,
  type WindowResolution,
} from '../../core/window-stats.ts';
import type { DecodedBucket, WindowBuckets } from './window-buckets.ts';
import type { GroupStats } from './stats.ts';
import type { TimeRange } from './time.ts';

/**
 * Per-miner statistics over any window from the collector's window-statistics hashes in Redis
 * (collector/window-stats.ts): the window is cut into the largest aligned buckets inside it
 * (days, then hours, then 5-minute buckets at the edges), their hashes are read (window-buckets.ts:
 * once, then kept while they do not change) and each miner's parts merged exactly (means weighted by their counts). A 24 h window is about 24
 * hashes, 30 d about 30 days plus the hours and 5-minute buckets of the last day.
 *
 * planWindow's covered range is not always the requested one (planExactWindow, what FleetQuery
 * uses, reads the open bucket from the collector's partials and, for small fleets, recent edges
 * from raw points instead), and answers say so:
 *  - the newest, unfinished 5 minutes are in no bucket yet: planWindow ends at the last
 *    5-minute boundary;
 *  - each edge is rounded to the nearest boundary of the finest resolution still kept at that
 *    age (5-minute buckets ~3 h, hours ~50 h, days ~92 d; minus a safety margin), so a window
 *    starting 30 days ago starts at the nearest midnight (UTC); a window of 6 h or more starts
 *    on an hour boundary at least;
 *  - buckets without a hash (collector not running then, or Redis newer than the window) are
 *    left out of the covered range where they are at its start or end.
 */

export interface WindowUnit {
  res: WindowResolution;
  startMs: number;
}

export interface WindowPlan {
  fromMs: number;
  toMs: number;
  units: WindowUnit[];
}

/** Keys of the rows: hashrate, nominal, power, up (reached / polls), chip temp max / mean, board temp max. */
export type WindowStatKey = 'h' | 'n' | 'p' | 'up' | 'tmax' | 'tmean' | 'tboard';

export interface WindowStatsAnswer {
  /** one row per miner with data, tags miner / site / model; n.up = polls */
  rows: GroupStats<WindowStatKey>[];
  /** what the rows cover; null when no bucket had data */
  covered: TimeRange | null;
  /** buckets read, and how many of them existed */
  buckets: number;
  bucketsWithData: number;
}

/** Buckets are planned only this long before their hash expires, for clock skew and slow reads. */
const RETENTION_MARGIN_MS = 10 * 60_000;
const FINEST_FIRST: readonly WindowResolution[] = ['5m', '1h', '1d'];
/** Windows this long or longer start on an hour boundary (see planWindow). */
const LONG_WINDOW_MS = 6 * 3_600_000;

const floorTo = (t: number, ms: number): number => Math.floor(t / ms) * ms;
const nearest = (t: number, ms: number): number => Math.round(t / ms) * ms;

/** Is a bucket of `res` starting at startMs still kept at nowMs? */
function kept(res: WindowResolution, startMs: number, nowMs: number): boolean {
  return startMs >= nowMs - WINDOW_RESOLUTIONS[res].retentionMs + RETENTION_MARGIN_MS;
}

/**
 * The finest resolution an edge at t can be rounded to. A window start only needs buckets
 * after it (younger), a window end needs the buckets between it and the previous boundary of
 * the next coarser resolution (older), so those must still be kept.
 */
function edgeResolution(t: number, side: 'from' | 'to', nowMs: number): WindowResolution {
  for (let i = 0; i < FINEST_FIRST.length - 1; i++) {
    const res = FINEST_FIRST[i]!;
    const oldest = side === 'from' ? t : floorTo(t, WINDOW_RESOLUTIONS[FINEST_FIRST[i + 1]!].ms);
    if (kept(res, oldest, nowMs)) return res;
  }
  return '1d';
}

/** Cut [fromMs, toMs) into buckets (see the header for how the edges move). */
export function planWindow(range: TimeRange, nowMs: number): WindowPlan {
  const lastClosed = floorTo(nowMs, WINDOW_RESOLUTIONS['5m'].ms);
  const toIn = Math.min(range.toMs, lastClosed);
  const toMs = Math.min(nearest(toIn, WINDOW_RESOLUTIONS[edgeResolution(toIn, 'to', nowMs)].ms), lastClosed);
  // The start of a long window moves to the nearest hour at least: its 5-minute edge buckets
  // would be a quarter of a 24 h window's hashes (a HGETALL of every miner each) for at most
  // 30 minutes of a day's statistics. The covered range in the answer says where it starts.
  let fromEdge = edgeResolution(range.fromMs, 'from', nowMs);
  if (range.toMs - range.fromMs >= LONG_WINDOW_MS && fromEdge === '5m') fromEdge = '1h';
  const fromRes = WINDOW_RESOLUTIONS[fromEdge].ms;
  let fromMs = nearest(range.fromMs, fromRes);
  // A window shorter than half a bucket still gets the bucket it starts in.
  if (fromMs >= toMs) fromMs = floorTo(range.fromMs, fromRes);
  const units: WindowUnit[] = [];
  let t = fromMs;
  while (t < toMs) {
    const res = (['1d', '1h', '5m'] as const).find(r => {
      const ms = WINDOW_RESOLUTIONS[r].ms;
      return t % ms === 0 && t + ms <= toMs && kept(r, t, nowMs);
    });
    if (!res) break; // cannot happen for edges planned above; never loop forever
    units.push({ res, startMs: t });
    t += WINDOW_RESOLUTIONS[res].ms;
  }
  return { fromMs, toMs: units.length > 0 ? t : fromMs, units };
}

/** The finest resolution of per-miner statistics still kept for a window starting at t. */
export function finestResolutionAt(t: number, nowMs: number): WindowResolution {
  return edgeResolution(t, 'from', nowMs);
}

export interface ExactWindowPlan extends WindowPlan {
  /**
   * the open 5-minute bucket, read from the partials the collector writes every cycle; when set
   * it is the last of `units` and the plan ends at now
   */
  open: WindowUnit | null;
  /** parts of the window no 5-minute bucket holds (read from raw points: window-edges.ts) */
  edges: TimeRange[];
}

export interface ExactWindowOptions {
  /**
   * read edges between two boundaries from raw points (false: round them to the nearest
   * boundary, as planWindow does; a raw per-miner read costs a series per miner on InfluxDB)
   */
  rawEdges?: boolean;
}

/**
 * Like planWindow, but a window ending now ends at now: the open bucket is read from the
 * collector's partial (its polls so far). With rawEdges, an edge young enough for 5-minute
 * buckets is not moved: the part between it and the nearest boundary inside the window becomes
 * an edge read from raw points. Other edges are rounded as planWindow does (to the 5 minutes,
 * hour or day still kept at that age); the covered range says so.
 */
export function planExactWindow(range: TimeRange, nowMs: number, o: ExactWindowOptions = {}): ExactWindowPlan {
  const five = WINDOW_RESOLUTIONS['5m'].ms;
  const to = Math.min(range.toMs, nowMs);
  const from = range.fromMs;
  const rawEdges = o.rawEdges ?? true;
  if (from >= to) return { fromMs: from, toMs: from, units: [], open: null, edges: [] };
  const lastBoundary = floorTo(nowMs, five);
  const open: WindowUnit | null = to === nowMs && to > lastBoundary ? { res: '5m', startMs: lastBoundary } : null;
  const exactTo = edgeResolution(to, 'to', nowMs) === '5m';
  const exactFrom = rawEdges && exactTo && edgeResolution(from, 'from', nowMs) === '5m' && to - from < LONG_WINDOW_MS;
  const innerTo = open ? lastBoundary : exactTo && rawEdges ? floorTo(to, five) : to;
  const innerFrom = exactFrom ? Math.ceil(from / five) * five : from;
  const edges: TimeRange[] = [];
  if (exactFrom && innerFrom >= innerTo) {
    // no boundary inside, or only the open bucket's start: the open partial holds its whole bucket
    if (open && from < lastBoundary) return { fromMs: from, toMs: to, units: [open], open, edges: [{ fromMs: from, toMs: lastBoundary }] };
    return { fromMs: from, toMs: to, units: [], open: null, edges: [{ fromMs: from, toMs: to }] };
  }
  // Without raw edges, a window starting in the open bucket's half is the open bucket alone.
  if (open && !exactFrom && Math.round(from / five) * five >= lastBoundary && edgeResolution(from, 'from', nowMs) === '5m')
    return { fromMs: lastBoundary, toMs: to, units: [open], open, edges: [] };
  const inner = innerFrom < innerTo ? planWindow({ fromMs: innerFrom, toMs: innerTo }, nowMs) : { fromMs: innerTo, toMs: innerTo, units: [] };
  if (exactFrom && innerFrom > from) edges.push({ fromMs: from, toMs: innerFrom });
  if (!open && exactTo && rawEdges && to > innerTo) edges.push({ fromMs: inner.units.length > 0 ? inner.toMs : innerTo, toMs: to });
  const units = open ? [...inner.units, open] : inner.units;
  return {
    fromMs: exactFrom ? from : inner.units.length > 0 || !open ? inner.fromMs : lastBoundary,
    toMs: open ? to : exactTo && rawEdges ? to : inner.toMs,
    units,
    open,
    edges,
  };
}

/**
 * The buckets to read ahead so that windows inside the last `hours` find them in memory: every
 * kept hour and whole day (what windows of a day or more are made of; a window's start may round
 * up to 30 minutes earlier) and the 5-minute buckets since the last hour boundary (their end edge).
 */
export function preloadUnits(hours: number, nowMs: number): WindowUnit[] {
  const units: WindowUnit[] = [];
  const from = nowMs - hours * 3_600_000 - 30 * 60_000;
  const lastClosed = floorTo(nowMs, WINDOW_RESOLUTIONS['5m'].ms);
  for (const res of ['1d', '1h', '5m'] as const) {
    const ms = WINDOW_RESOLUTIONS[res].ms;
    const start = res === '5m' ? floorTo(nowMs, 3_600_000) : Math.ceil(from / ms) * ms;
    for (let t = start; t + ms <= lastClosed; t += ms)
      if (kept(res, t, nowMs)) units.push({ res, startMs: t });
  }
  return units;
}

export interface ReadWindowOptions {
  site?: string | undefined;
  /** hashes read at once (default 8): bounds the replies held in memory */
  concurrency?: number;
  /** the query's clock (which finer buckets are still kept) */
  nowMs?: number;
  /**
   * the collector's poll interval: where the plan's open bucket holds fewer polls of any miner
   * than the time since its start allows (a collector that stopped), the covered range ends
   * where those polls end, not at now
   */
  pollMs?: number;
}

/**
 * Where the data of an open bucket ends: its start plus the most polls any miner has in it
 * times the poll interval (two intervals of slack for the poll phase and the collector's
 * flush), at most `toMs`. A partial left by a stopped collector stops growing, so the window
 * it answers ends where its polls end.
 */
function openDataEnd(b: DecodedBucket, startMs: number, toMs: number, pollMs: number, size: number): number {
  const polls = new Float64Array(size);
  let most = 0;
  for (let r = 0; r < b.rows; r++) {
    const m = b.miners[r]!;
    polls[m]! += b.stats[r * STAT_COLUMNS + C.polls]!;
    if (polls[m]! > most) most = polls[m]!;
  }
  const end = startMs + most * pollMs;
  return end + 2 * pollMs >= toMs ? toMs : end;
}

const C = STAT_COLUMN;
/** the larger of two maxima, NaN standing for none */
const maxOf = (a: number, b: number): number => (Number.isNaN(a) || b > a ? b : a);

const FINER: Partial<Record<WindowUnit['res'], WindowUnit['res']>> = { '1d': '1h', '1h': '5m' };

/**
 * Where data starts (or ends) inside a coarse edge bucket: a day bucket holding 3 hours of
 * statistics covers those hours, not the day. Read from the finer buckets' sizes (no values);
 * where those have expired, the coarse bucket's edge is all that is known.
 */
async function dataEdge(buckets: WindowBuckets, tenant: string, unit: WindowUnit, side: 'from' | 'to', nowMs: number): Promise<number> {
  const unitMs = WINDOW_RESOLUTIONS[unit.res].ms;
  const coarse = side === 'from' ? unit.startMs : unit.startMs + unitMs;
  const res = FINER[unit.res];
  // Only where every finer bucket is still kept: an expired one is empty, not "no data".
  if (!res || !kept(res, unit.startMs, nowMs)) return coarse;
  const ms = WINDOW_RESOLUTIONS[res].ms;
  const subs: WindowUnit[] = [];
  for (let t = unit.startMs; t < unit.startMs + unitMs; t += ms) subs.push({ res, startMs: t });
  const sizes = await buckets.sizes(tenant, subs);
  const i = side === 'from' ? sizes.findIndex(n => n > 0) : sizes.findLastIndex(n => n > 0);
  if (i < 0) return coarse;
  return dataEdge(buckets, tenant, subs[i]!, side, nowMs);
}

/** Read the plan's buckets for one tenant and merge each miner's parts (WindowBuckets reads and keeps them). */
export async function readWindowStats(
  buckets: WindowBuckets,
  tenant: string,
  plan: WindowPlan,
  o: ReadWindowOptions = {},
): Promise<WindowStatsAnswer> {
  const parts = await buckets.read(tenant, plan.units, o.concurrency);
  const names = buckets.names;
  // -2: a site never seen matches no row
  const site = o.site === undefined ? -1 : names.find(o.site) === -1 ? -2 : names.find(o.site);
  // Each miner's running merge is a slot of STAT_COLUMNS numbers plus its site and model.
  const slotOf = new Int32Array(names.size).fill(-1);
  const minerOf: number[] = [];
  const siteOf: number[] = [];
  const modelOf: number[] = [];
  let acc = new Float64Array(1_024 * STAT_COLUMNS);
  for (const b of parts) {
    for (let r = 0; r < b.rows; r++) {
      if (site !== -1 && b.sites[r] !== site) continue;
      const miner = b.miners[r]!;
      const x = r * STAT_COLUMNS;
      let slot = slotOf[miner]!;
      if (slot < 0) {
        slot = minerOf.length;
        slotOf[miner] = slot;
        minerOf.push(miner);
        siteOf.push(b.sites[r]!);
        modelOf.push(b.models[r]!);
        if ((slot + 1) * STAT_COLUMNS > acc.length) {
          const grown = new Float64Array(acc.length * 2);
          grown.set(acc);
          acc = grown;
        }
        const y = slot * STAT_COLUMNS;
        for (let k = 0; k < STAT_COLUMNS; k++) acc[y + k] = b.stats[x + k]!;
        continue;
      }
      const y = slot * STAT_COLUMNS;
      // The site and model of the part with more polls than all before it win (mergeWindowStat).
      if (b.stats[x + C.polls]! > acc[y + C.polls]!) {
        siteOf[slot] = b.sites[r]!;
        modelOf[slot] = b.models[r]!;
      }
      for (let k = C.polls; k <= C.chipTempN; k++) acc[y + k]! += b.stats[x + k]!;
      acc[y + C.chipTempMax] = maxOf(acc[y + C.chipTempMax]!, b.stats[x + C.chipTempMax]!);
      acc[y + C.boardTempMax] = maxOf(acc[y + C.boardTempMax]!, b.stats[x + C.boardTempMax]!);
    }
  }
  const withData = parts.map(b => b.rows > 0);
  const open = plan.units.at(-1);
  const openEnd =
    o.pollMs !== undefined && open && open.res === '5m' && open.startMs + WINDOW_RESOLUTIONS['5m'].ms > plan.toMs && parts.at(-1)!.rows > 0
      ? openDataEnd(parts.at(-1)!, open.startMs, plan.toMs, o.pollMs, names.size)
      : plan.toMs;
  const first = withData.indexOf(true);
  const last = withData.lastIndexOf(true);
  const covered =
    first < 0
      ? null
      : {
          fromMs: await dataEdge(buckets, tenant, plan.units[first]!, 'from', o.nowMs ?? Date.now()),
          // the open bucket's data ends at the plan's end (now), not at the bucket's end
          toMs: Math.min(openEnd, await dataEdge(buckets, tenant, plan.units[last]!, 'to', o.nowMs ?? Date.now())),
        };
  const rows: GroupStats<WindowStatKey>[] = new Array(minerOf.length);
  for (let slot = 0; slot < minerOf.length; slot++)
    rows[slot] = rowOf(
      names.name(minerOf[slot]!),
      names.name(siteOf[slot]!),
      names.name(modelOf[slot]!),
      acc,
      slot * STAT_COLUMNS,
    );
  return { rows, covered, buckets: plan.units.length, bucketsWithData: withData.filter(Boolean).length };
}

function rowOf(
  miner: string,
  site: string,
  model: string,
  a: Float64Array,
  y: number,
): GroupStats<WindowStatKey> {
  const mean = (sum: number, n: number): number | null => (n > 0 ? a[y + sum]! / n : null);
  const polls = a[y + C.polls]!;
  const maxOrNull = (k: number): number | null => (Number.isNaN(a[y + k]!) ? null : a[y + k]!);
  return {
    key: miner,
    tags: { miner, site, ...(model ? { model } : {}) },
    v: {
      h: mean(C.hashrateSum, a[y + C.hashrateN]!),
      n: mean(C.nominalSum, a[y + C.nominalN]!),
      p: mean(C.powerSum, a[y + C.powerN]!),
      up: polls > 0 ? a[y + C.reached]! / polls : null,
      tmax: maxOrNull(C.chipTempMax),
      tmean: mean(C.chipTempSum, a[y + C.chipTempN]!),
      tboard: maxOrNull(C.boardTempMax),
    },
    n: {
      h: a[y + C.hashrateN]!,
      n: a[y + C.nominalN]!,
      p: a[y + C.powerN]!,
      up: polls,
      tmax: Number.isNaN(a[y + C.chipTempMax]!) ? 0 : 1,
      tmean: a[y + C.chipTempN]!,
      tboard: Number.isNaN(a[y + C.boardTempMax]!) ? 0 : 1,
    },
  };
}
