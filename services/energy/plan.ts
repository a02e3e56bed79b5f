import type { PriceFallback } from './price-curve.ts';

/** The plain typed output of the planners: what to do when, and what it is worth. */

export type StepAction = 'power_target' | 'pause' | 'stop' | 'restore';

export interface PlanStepMiner {
  miner_id: string;
  action: StepAction;
  /** The power target to set for action power_target; null otherwise (restore = the state before the curtail). */
  power_target_w: number | null;
  /** kW taken off (curtail) or put back (restore). */
  kw: number;
  /** TH/s taken off or put back. */
  ths: number;
}

export interface PlanStep {
  at_ms: number;
  window_id: string;
  site: string;
  kind: 'curtail' | 'restore';
  miners: PlanStepMiner[];
  kw: number;
  ths: number;
}

/** Why a window curtails: a price above the strike, a fallback for missing/stale prices, or a grid signal. */
export type WindowReason = 'price_above_strike' | 'missing_price_fallback' | 'stale_price_fallback' | 'demand_response';

export type SkipReason =
  /** switched on too recently (minimum on time) */
  | 'min_on_time'
  /** method power_target but the miner's power target limits are unknown */
  | 'no_power_limits'
  /** already at or below the lowest power it could be taken to */
  | 'nothing_to_reduce'
  /** one miner alone is more than the ramp allows in a minute */
  | 'exceeds_ramp'
  /** the ramp could not reach it before the window ended */
  | 'ramp_too_slow';

export interface SitePlan {
  site: string;
  /** Site power (selected miners, exempt included) at the window start without this plan's curtailment. */
  power_before_kw: number;
  /** The power the target asks for. */
  target_kw: number;
  /** Reduction reached once every curtail step of the window has run. */
  reduction_kw: number;
  /** How far the reached power stays above the target (0 when met). */
  shortfall_kw: number;
  /** When the last curtail step runs (the target is reached then, or as close as it gets). */
  reached_at_ms: number | null;
  miners: number;
}

export interface PlanWindow {
  /** Stable: hash of policy (or signal) id, start and end. */
  id: string;
  start_ms: number;
  end_ms: number;
  reasons: WindowReason[];
  /** Highest known price in the window; null when no price is known in it. */
  max_price_per_mwh: number | null;
  /**
   * at_end: restore steps follow the end. deferred: the window ends in a `hold` fallback at the
   * end of the horizon, so miners stay curtailed until prices are known again (no restore planned).
   */
  restore: 'at_end' | 'deferred';
  sites: SitePlan[];
  miners_curtailed: number;
  /** Miners kept curtailed from the previous window instead of being restored and curtailed again. */
  miners_carried: number;
  reduction_kw: number;
  reduction_ths: number;
  energy_avoided_mwh: number;
  /** Over the time with a known price only; see unpriced_mwh. */
  cost_saved: number;
  /** Energy avoided during time without a known price (not in cost_saved). */
  unpriced_mwh: number;
  /** null when no hashprice was given. */
  revenue_forgone: number | null;
  /** cost_saved − revenue_forgone; null without hashprice. */
  net_saving: number | null;
  skipped: Array<{ miner_id: string; site: string; reason: SkipReason }>;
}

export interface PlanTotals {
  energy_avoided_mwh: number;
  cost_saved: number;
  unpriced_mwh: number;
  revenue_forgone: number | null;
  net_saving: number | null;
}

export interface PriceStatus {
  status: 'fresh' | 'partial' | 'missing' | 'stale' | 'not_used';
  /** The fallback that decided some of the horizon, or null when prices covered all of it. */
  fallback_applied: PriceFallback | null;
  source: string | null;
  fetched_at_ms: number | null;
  /** Stretches decided by the fallback. */
  gaps: Array<{ start_ms: number; end_ms: number; basis: 'missing' | 'stale'; fallback: PriceFallback }>;
}

export interface CurtailmentPlan {
  kind: 'price' | 'demand_response';
  /** The policy id, or the demand-response signal id. */
  source_id: string;
  computed_at_ms: number;
  from_ms: number;
  to_ms: number;
  currency: string | null;
  hashprice_per_ths_day: number | null;
  prices: PriceStatus;
  windows: PlanWindow[];
  /** Every step of every window, ordered by time, then site, then curtail before restore. */
  steps: PlanStep[];
  totals: PlanTotals;
  /** Selected miners never touched because of an exempt label. */
  exempt_miner_ids: string[];
}
