import type { Redis } from 'ioredis';
import { FleetError } from '../../collector/errors.ts';
import type { RedisKeys } from '../../collector/redis-keys.ts';
import {
  WINDOW_RESOLUTIONS,
  emptyWindowStat,
  foldEncodedWindowStat,
  minerOfField,
  type WindowResolution,
  type WindowStat,
} from '../../collector/window-stats.ts';
import type { GroupStats } from './stats.ts';
import type { TimeRange } from './time.ts';

/**
 * Per-miner statistics over any window from the collector's window-statistics hashes in Redis
 * (collector/window-stats.ts): the window is cut into the largest aligned buckets inside it
 * (days, then hours, then 5-minute buckets at the edges), their hashes are read (HGETALL) and
 * each miner's parts merged exactly (means weighted by their counts). A 24 h window is about 24
 * hashes, 30 d about 30 days plus the hours and 5-minute buckets of the last day.
 *
 * The covered range is not always the requested one, and answers say so:
 *  - the newest, unfinished 5 minutes are in no bucket yet: the window ends at the last
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

/** HGETALL as a flat [field, value, ...] array (cheaper than ioredis' object reply at 10,000 fields). */
async function hgetallFlat(redis: Redis, key: string): Promise<string[]> {
  return (await redis.call('HGETALL', key)) as string[];
}

export interface ReadWindowOptions {
  site?: string | undefined;
  /** hashes read at once (default 8): bounds the replies held in memory */
  concurrency?: number;
}

/** Read and merge the plan's buckets for one tenant. */
export async function readWindowStats(
  redis: Redis,
  keys: RedisKeys,
  tenant: string,
  plan: WindowPlan,
  o: ReadWindowOptions = {},
): Promise<WindowStatsAnswer> {
  const merged = new Map<string, WindowStat>();
  const withData: boolean[] = plan.units.map(() => false);
  const concurrency = Math.max(1, o.concurrency ?? 8);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < plan.units.length) {
      const i = next++;
      const u = plan.units[i]!;
      let flat: string[];
      try {
        flat = await hgetallFlat(redis, keys.windowStats(tenant, u.res, u.startMs));
      } catch (err) {
        throw new FleetError('unavailable', 'Redis is not available', { cause: err });
      }
      if (flat.length > 0) withData[i] = true;
      for (let j = 0; j + 1 < flat.length; j += 2) {
        const miner = minerOfField(flat[j]!);
        let m = merged.get(miner);
        if (!m) m = emptyWindowStat();
        // A row is kept only once a value of it was folded (other sites and malformed values are not).
        if (foldEncodedWindowStat(m, flat[j + 1]!, o.site) && !merged.has(miner)) merged.set(miner, m);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, plan.units.length) }, worker));
  const first = withData.indexOf(true);
  const last = withData.lastIndexOf(true);
  const covered =
    first < 0
      ? null
      : {
          fromMs: plan.units[first]!.startMs,
          toMs: plan.units[last]!.startMs + WINDOW_RESOLUTIONS[plan.units[last]!.res].ms,
        };
  return {
    rows: [...merged].map(([miner, s]) => rowOf(miner, s)),
    covered,
    buckets: plan.units.length,
    bucketsWithData: withData.filter(Boolean).length,
  };
}

const meanOf = (a: { sum: number; n: number }): number | null => (a.n > 0 ? a.sum / a.n : null);

function rowOf(miner: string, s: WindowStat): GroupStats<WindowStatKey> {
  return {
    key: miner,
    tags: { miner, site: s.site, ...(s.model ? { model: s.model } : {}) },
    v: {
      h: meanOf(s.hashrate_ghs),
      n: meanOf(s.hashrate_nominal_ghs),
      p: meanOf(s.power_w),
      up: s.polls > 0 ? s.reached / s.polls : null,
      tmax: s.temp_chip_max_max_c,
      tmean: meanOf(s.temp_chip_max_c),
      tboard: s.temp_board_max_c,
    },
    n: {
      h: s.hashrate_ghs.n,
      n: s.hashrate_nominal_ghs.n,
      p: s.power_w.n,
      up: s.polls,
      tmax: s.temp_chip_max_max_c === null ? 0 : 1,
      tmean: s.temp_chip_max_c.n,
      tboard: s.temp_board_max_c === null ? 0 : 1,
    },
  };
}
