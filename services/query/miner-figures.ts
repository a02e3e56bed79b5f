import type { MinerDetailsInfo, MinerSample } from '../../core/samples.ts';

/**
 * The two figures every fleet answer builds on, derived in one place: how much a miner hashes
 * now, and how much it should hash. List, summary, by_model, underperformers and control dry
 * runs all read them from here so they cannot disagree.
 *
 * Expected hashrate counts every board the miner has. A miner's own nominal drops with a dead
 * board (an S9 with 2 of 3 boards hashing reports 2/3 of its nominal and looks like 105 %), so
 * a missing board must be a shortfall, not an excuse. The collector's `hashrate_nominal_ghs`
 * already counts every board (the miner's own figure is `hashrate_nominal_reported_ghs`); this
 * guards samples written before it did. In order:
 *  1. the per-board nominal of the boards that report one, times boards_total;
 *  2. the model's sticker hashrate (details);
 * never below the sample's `hashrate_nominal_ghs`.
 */

/** A sample as the figures need it. */
export type FiguresSample = Pick<
  MinerSample,
  'status' | 'miner_status' | 'hashrate_ghs' | 'hashrate_nominal_ghs' | 'boards_hashing' | 'boards_total' | 'hashboards'
>;

/** Miner states in which it hashes nothing, whatever its (lagging) hashrate windows still say. */
const IDLE_STATUS = new Set(['paused', 'stopped']);
const IDLE_MINER_STATUS = new Set(['paused', 'not_started', 'suspended']);

/** Is the miner hashing now: not paused, stopped or suspended, and (when it reports boards) some board hashing. */
export function isHashing(s: FiguresSample): boolean {
  if (IDLE_STATUS.has(s.status) || IDLE_MINER_STATUS.has(s.miner_status)) return false;
  return !(s.boards_total > 0 && s.boards_hashing === 0);
}

/** Current hashrate, GH/s: 0 for a miner that is not hashing (its 1-minute window lags by design). */
export function currentHashrateGhs(s: FiguresSample): number {
  return isHashing(s) ? s.hashrate_ghs : 0;
}

/** Expected hashrate of the whole miner, GH/s (see the header); null when nothing says. */
export function expectedHashrateGhs(
  s: FiguresSample,
  details?: Pick<MinerDetailsInfo, 'sticker_hashrate_ghs'> | null,
): number | null {
  const reported = s.hashrate_nominal_ghs > 0 ? s.hashrate_nominal_ghs : 0;
  const withNominal = (s.hashboards ?? []).filter(b => b.hashrate_nominal_ghs > 0);
  const boards = Math.max(s.boards_total, s.hashboards?.length ?? 0);
  if (withNominal.length > 0 && boards > 0) {
    const perBoard = withNominal.reduce((a, b) => a + b.hashrate_nominal_ghs, 0) / withNominal.length;
    return Math.max(perBoard * boards, reported);
  }
  const sticker = details?.sticker_hashrate_ghs;
  if (typeof sticker === 'number' && sticker > 0 && reported < sticker) return sticker;
  return reported > 0 ? reported : null;
}

/** Expected hashrate of one board, GH/s: the miner's expected figure shared by its boards. */
export function expectedBoardHashrateGhs(
  s: FiguresSample,
  details?: Pick<MinerDetailsInfo, 'sticker_hashrate_ghs'> | null,
): number | null {
  const whole = expectedHashrateGhs(s, details);
  const boards = Math.max(s.boards_total, s.hashboards?.length ?? 0);
  return whole !== null && boards > 0 ? whole / boards : null;
}

/**
 * Expected hashrate over a window: the mean nominal the miner reported then, scaled by how much
 * its reported nominal now falls short of its expected figure (a board missing from it), and
 * never above the larger of the two: a board dead the whole window lowered the reported mean,
 * while a nominal that changed with tuning is left as the miner reported it.
 */
export function expectedOverWindowGhs(
  windowNominalGhs: number | null,
  expectedNowGhs: number | null,
  ratioNow: number | null,
): number | null {
  const pos = (v: number | null): number | null => (v !== null && Number.isFinite(v) && v > 0 ? v : null);
  const w = pos(windowNominalGhs);
  const now = pos(expectedNowGhs);
  if (w === null) return now;
  const scaled = w * Math.max(1, pos(ratioNow) ?? 1);
  return now === null ? scaled : Math.min(scaled, Math.max(w, now));
}
