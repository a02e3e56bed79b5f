import { MEASUREMENTS } from '../../core/samples.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from './time.ts';

/**
 * Which stored tier answers a time range (raw points, 1-minute or 1-hour rollups) and the
 * default step. The series port (store/ports/series.ts) renders the queries themselves.
 */

/** Number or null from a result cell. */
export function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
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
