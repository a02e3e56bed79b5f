// Builders for the API's unit wrappers and shared messages, in the API's units: GH/s for real and
// nominal hashrate, MH/s for error hashrate, TH/s for targets, Hz, V, integer W, °C.
import type {
  PoolStatsInput,
  RealHashrateInput,
  SaveAction,
  TimestampInput,
  WorkSolverStatsInput,
} from '../../proto/types.ts';
import { poolAlive, type PoolGroupRuntime, type PoolRuntime } from '../pools.ts';
import { WINDOW_FIELDS } from '../virtual-miner.ts';

export const ghs = (v: number): { gigahash_per_second: number } => ({ gigahash_per_second: round(v, 3) });
export const mhs = (v: number): { megahash_per_second: number } => ({ megahash_per_second: round(v, 3) });
export const ths = (v: number): { terahash_per_second: number } => ({ terahash_per_second: round(v, 3) });
export const hz = (v: number): { hertz: number } => ({ hertz: Math.round(v) });
export const volt = (v: number): { volt: number } => ({ volt: round(v, 3) });
export const watt = (v: number): { watt: number } => ({ watt: Math.max(0, Math.round(v)) });
export const celsius = (v: number): { degree_c: number } => ({ degree_c: round(v, 1) });
export const hours = (v: number): { hours: number } => ({ hours: Math.round(v) });

export function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export function timestamp(ms: number): TimestampInput {
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 };
}

/** MinerError.timestamp: ISO 8601 UTC without fraction (the API leaves the format undocumented). */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function realHashrate(windows: readonly number[], sinceRestart: number): RealHashrateInput {
  const out: Record<string, { gigahash_per_second: number }> = {};
  WINDOW_FIELDS.forEach((field, i) => {
    out[field] = ghs(windows[i] ?? 0);
  });
  out.since_restart = ghs(sinceRestart);
  return out as RealHashrateInput;
}

export function workSolverStats(s: {
  realGhs: readonly number[];
  sinceRestartGhs: number;
  nominalGhs: number;
  errorMhs: number;
  bestShare: number;
}): WorkSolverStatsInput {
  return {
    real_hashrate: realHashrate(s.realGhs, s.sinceRestartGhs),
    nominal_hashrate: ghs(s.nominalGhs),
    error_hashrate: mhs(s.errorMhs),
    found_blocks: 0,
    best_share: s.bestShare,
    best_share_str: String(s.bestShare),
  };
}

export function poolStats(pools: readonly PoolRuntime[]): PoolStatsInput {
  let accepted = 0;
  let rejected = 0;
  let stale = 0;
  let work = 0;
  let best = 0;
  let lastDifficulty = 0;
  let lastShare: number | null = null;
  for (const p of pools) {
    accepted += Math.floor(p.accepted);
    rejected += Math.floor(p.rejected);
    stale += Math.floor(p.stale);
    work += Math.floor(p.diff1Work);
    best = Math.max(best, p.bestShare);
    if (p.lastShareMs !== null && (lastShare === null || p.lastShareMs > lastShare)) {
      lastShare = p.lastShareMs;
      lastDifficulty = p.lastDifficulty;
    }
    if (lastShare === null) lastDifficulty = Math.max(lastDifficulty, p.lastDifficulty);
  }
  return {
    accepted_shares: accepted,
    rejected_shares: rejected,
    stale_shares: stale,
    last_difficulty: lastDifficulty,
    best_share: best,
    generated_work: work,
    ...(lastShare !== null ? { last_share_time: timestamp(lastShare) } : {}),
    best_share_str: String(best),
  };
}

export function allPools(groups: readonly PoolGroupRuntime[]): PoolRuntime[] {
  return groups.flatMap(g => g.pools);
}

export { poolAlive };

/** Whether a modifying request's save_action asks to apply now (UNSPECIFIED counts as apply). */
export function applies(saveAction: SaveAction | undefined): boolean {
  return saveAction !== 'SAVE_ACTION_SAVE';
}
