import { FleetError } from '../../core/errors.ts';
import type { EnergyMiner } from './energy-miner.ts';
import type { CurtailmentPlan, PriceStatus, WindowReason } from './plan.ts';
import { windowId, type CurtailmentPolicy } from './policy.ts';
import { PriceIntegral, resolvePrices, type PriceCurve, type PriceSegment } from './price-curve.ts';
import { scheduleWindows, type WindowSpec } from './window-scheduler.ts';

/**
 * Plans curtailment against a price curve: a window is a run of time where the price is above
 * the policy's strike, or where the price is missing/stale and the fallback says `curtail`. A
 * `hold` fallback keeps whatever state the time before it had (it extends a window it follows,
 * and starts none); `run` ends a window. Pure: same input, same plan.
 */

export interface PricePlanInput {
  miners: readonly EnergyMiner[];
  policy: CurtailmentPolicy;
  /** null when no price is available at all (the fallback then decides the whole horizon). */
  curve: PriceCurve | null;
  /** Currency per TH/s per day, in the policy's currency; null to leave revenue out. */
  hashprice_per_ths_day: number | null;
  now_ms: number;
  /** Horizon; from defaults to now_ms, to defaults to the end of the curve. */
  from_ms?: number;
  to_ms?: number;
  /**
   * Since when no price at all has been known (the caller's record): anchors the id of a window
   * opened by the missing-price fallback, which otherwise starts wherever the horizon starts.
   */
  missing_since_ms?: number;
}

type Decision = 'curtail' | 'run' | 'hold';

function decide(seg: PriceSegment, strike: number): Decision {
  if (seg.basis === 'price') return seg.price_per_mwh > strike ? 'curtail' : 'run';
  return seg.fallback;
}

function reasonOf(seg: PriceSegment): WindowReason {
  if (seg.basis === 'price') return 'price_above_strike';
  return seg.basis === 'stale' ? 'stale_price_fallback' : 'missing_price_fallback';
}

/** The curve interval index containing t, or -1. */
function intervalAt(curve: PriceCurve, t: number): number {
  return curve.intervals.findIndex(iv => iv.start_ms <= t && t < iv.end_ms);
}

/**
 * Where the expensive run containing `t` began in the curve, so a window that started before
 * the horizon keeps the id it had when it was first planned.
 */
function expensiveRunStart(curve: PriceCurve, t: number, strike: number): number {
  let i = intervalAt(curve, t);
  if (i < 0) return t;
  let start = curve.intervals[i]!.start_ms;
  while (i > 0) {
    const prev = curve.intervals[i - 1]!;
    if (prev.end_ms !== start || !(prev.price_per_mwh > strike)) break;
    start = prev.start_ms;
    i--;
  }
  return start;
}

/** Where the expensive run containing `t` ends in the curve, wherever the horizon cuts it. */
function expensiveRunEnd(curve: PriceCurve, t: number, strike: number): number {
  let i = intervalAt(curve, t);
  if (i < 0) return t;
  let end = curve.intervals[i]!.end_ms;
  while (i + 1 < curve.intervals.length) {
    const next = curve.intervals[i + 1]!;
    if (next.start_ms !== end || !(next.price_per_mwh > strike)) break;
    end = next.end_ms;
    i++;
  }
  return end;
}

/**
 * The time a window's first segment is anchored to, independent of when the plan is computed:
 * an expensive run's start in the curve, the moment the curve went stale, or where the prices
 * ran out. Window ids hash anchors, never the horizon, so every replica at any time agrees.
 */
function startAnchor(seg: PriceSegment, curve: PriceCurve | null, policy: CurtailmentPolicy, missingSince: number | undefined): number {
  if (seg.basis === 'price') return curve ? expensiveRunStart(curve, seg.start_ms, policy.strike_price_per_mwh) : seg.start_ms;
  if (seg.basis === 'stale' && curve) return curve.fetched_at_ms + policy.max_price_age_minutes * 60_000;
  if (curve) {
    // the last known price before the gap
    let end: number | null = null;
    for (const iv of curve.intervals) if (iv.end_ms <= seg.start_ms) end = iv.end_ms;
    if (end !== null) return end;
  }
  return missingSince ?? seg.start_ms;
}

export function planCurtailment(input: PricePlanInput): CurtailmentPlan {
  const { policy, curve, now_ms } = input;
  if (curve && curve.currency !== policy.currency) {
    throw new FleetError(
      'invalid_argument',
      `prices from ${curve.source} are in ${curve.currency} but policy ${policy.id} is in ${policy.currency}; expected the same currency`,
    );
  }
  const from_ms = input.from_ms ?? now_ms;
  const to_ms = input.to_ms ?? (curve && curve.intervals.length > 0 ? curve.intervals.at(-1)!.end_ms : from_ms);
  const resolved = resolvePrices(curve, { from_ms, to_ms, now_ms }, { max_age_ms: policy.max_price_age_minutes * 60_000, fallback: policy.fallback });

  const windows: WindowSpec[] = [];
  let open: {
    start_ms: number;
    end_ms: number;
    reasons: Set<WindowReason>;
    max: number | null;
    endsHeld: boolean;
    anchor: number;
    /** start of the last expensive price segment (for the run's end in the curve) */
    lastExpensive: number | null;
  } | null = null;
  const close = () => {
    if (!open) return;
    const deferred = open.endsHeld && open.end_ms >= to_ms;
    // A window opened only by prices ends where its expensive run ends in the curve; one that a
    // fallback opened or prolonged has no known end, so its id rests on its start alone.
    const onlyPrice = curve !== null && open.lastExpensive !== null && [...open.reasons].every(r => r === 'price_above_strike');
    const idEnd = onlyPrice ? expensiveRunEnd(curve, open.lastExpensive!, policy.strike_price_per_mwh) : -1;
    windows.push({
      id: windowId(policy.id, open.anchor, idEnd),
      start_ms: open.start_ms,
      end_ms: open.end_ms,
      target: policy.target,
      reasons: [...open.reasons].sort(),
      max_price_per_mwh: open.max,
      restore: deferred ? 'deferred' : 'at_end',
    });
    open = null;
  };
  for (const seg of resolved.segments) {
    const d = decide(seg, policy.strike_price_per_mwh);
    if (d === 'run' || (d === 'hold' && !open)) {
      close();
      continue;
    }
    if (!open) open = { start_ms: seg.start_ms, end_ms: seg.end_ms, reasons: new Set(), max: null, endsHeld: false, anchor: startAnchor(seg, curve, policy, input.missing_since_ms), lastExpensive: null };
    open.end_ms = seg.end_ms;
    open.endsHeld = d === 'hold';
    if (d === 'curtail') open.reasons.add(reasonOf(seg));
    if (d === 'curtail' && seg.basis === 'price') open.lastExpensive = seg.start_ms;
    if (seg.basis === 'price') open.max = open.max === null ? seg.price_per_mwh : Math.max(open.max, seg.price_per_mwh);
  }
  close();

  const scheduled = scheduleWindows({
    miners: input.miners,
    rules: policy,
    windows,
    prices: new PriceIntegral(resolved.segments),
    hashprice_per_ths_day: input.hashprice_per_ths_day,
  });
  const prices: PriceStatus = {
    status: resolved.status,
    fallback_applied: resolved.fallback_applied,
    source: resolved.source,
    fetched_at_ms: resolved.fetched_at_ms,
    gaps: resolved.segments.flatMap(s => (s.basis === 'price' ? [] : [{ start_ms: s.start_ms, end_ms: s.end_ms, basis: s.basis, fallback: s.fallback }])),
  };
  return {
    kind: 'price',
    source_id: policy.id,
    computed_at_ms: now_ms,
    from_ms,
    to_ms,
    currency: policy.currency,
    hashprice_per_ths_day: input.hashprice_per_ths_day,
    prices,
    ...scheduled,
  };
}
