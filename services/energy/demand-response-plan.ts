import type { EnergyMiner } from './energy-miner.ts';
import type { CurtailmentPlan } from './plan.ts';
import { windowId, type CurtailmentPolicy } from './policy.ts';
import { PriceIntegral, resolvePrices, type PriceCurve } from './price-curve.ts';
import type { DemandResponseSignal } from './prices/demand-response.ts';
import { scheduleWindows, type SchedulingRules } from './window-scheduler.ts';

/**
 * Plans a demand-response signal: one window on the signal's site from its start to its end,
 * capped (or reduced) as the signal says, with the ramp, order, methods, minimum on/off times
 * and exemptions of the site's policy. The price curve and hashprice only value the plan.
 */
export interface DemandResponsePlanInput {
  miners: readonly EnergyMiner[];
  signal: DemandResponseSignal;
  /** The tenant the signal was given for: site names are only unique within a tenant. */
  tenant: string;
  /** How to curtail; its selector, strike and target are not used (the signal decides). */
  rules: Omit<SchedulingRules, 'selector'> & Partial<Pick<CurtailmentPolicy, 'currency' | 'max_price_age_minutes'>>;
  curve?: PriceCurve | null;
  hashprice_per_ths_day?: number | null;
  now_ms: number;
}

export function planDemandResponse(input: DemandResponsePlanInput): CurtailmentPlan {
  const { signal, now_ms } = input;
  const curve = input.curve ?? null;
  const resolved = curve
    ? resolvePrices(curve, { from_ms: signal.start_ms, to_ms: signal.end_ms, now_ms }, { max_age_ms: (input.rules.max_price_age_minutes ?? 24 * 60) * 60_000, fallback: 'hold' })
    : null;
  const hashprice = input.hashprice_per_ths_day ?? null;
  const target = signal.target.kind === 'cap_kw' ? { kind: 'cap_kw' as const, cap_kw: signal.target.cap_kw } : { kind: 'reduce_percent' as const, percent: signal.target.percent };
  const prices = resolved?.segments.filter(s => s.basis === 'price') ?? [];
  // A signal planned after it started ramps from now; its id stays that of the signal's window.
  const start_ms = Math.min(Math.max(signal.start_ms, now_ms), signal.end_ms);
  const scheduled = scheduleWindows({
    miners: input.miners,
    rules: { ...input.rules, selector: { tenant: input.tenant, site: signal.site } },
    windows: [
      {
        id: windowId(`dr:${signal.id}`, signal.start_ms, signal.end_ms),
        start_ms,
        end_ms: signal.end_ms,
        target,
        reasons: ['demand_response'],
        max_price_per_mwh: prices.length > 0 ? Math.max(...prices.map(s => s.price_per_mwh)) : null,
        restore: 'at_end',
        sites: [signal.site],
      },
    ],
    prices: resolved ? new PriceIntegral(resolved.segments) : null,
    hashprice_per_ths_day: hashprice,
  });
  return {
    kind: 'demand_response',
    source_id: signal.id,
    computed_at_ms: now_ms,
    from_ms: signal.start_ms,
    to_ms: signal.end_ms,
    currency: curve?.currency ?? input.rules.currency ?? null,
    hashprice_per_ths_day: hashprice,
    prices: resolved
      ? {
          status: resolved.status,
          fallback_applied: null,
          source: resolved.source,
          fetched_at_ms: resolved.fetched_at_ms,
          gaps: [],
        }
      : { status: 'not_used', fallback_applied: null, source: null, fetched_at_ms: null, gaps: [] },
    ...scheduled,
  };
}
