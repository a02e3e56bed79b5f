import { describe, expect, it } from 'vitest';
import { planCurtailment } from '../../../services/energy/planner.ts';
import { resolvePrices } from '../../../services/energy/price-curve.ts';
import { H, MIN, T0, mixedFleet, policy, twoPeakCurve } from './fleet-fixture.ts';

// Missing or stale prices resolve to the policy's fallback, named in the plan.

const fresh = twoPeakCurve(T0);
const NOW_STALE = T0 + 3 * H; // fetched at T0, max age 60 min

describe('price staleness and fallback', () => {
  it('a stale feed with fallback hold plans nothing and says why', () => {
    const p = planCurtailment({ miners: mixedFleet(), policy: policy({ fallback: 'hold' }), curve: fresh, hashprice_per_ths_day: 0.05, now_ms: NOW_STALE });
    expect(p.prices).toMatchObject({ status: 'stale', fallback_applied: 'hold', source: 'test', fetched_at_ms: T0 });
    expect(p.prices.gaps).toEqual([{ start_ms: NOW_STALE, end_ms: T0 + 12 * H, basis: 'stale', fallback: 'hold' }]);
    expect(p.windows).toEqual([]);
    expect(p.steps).toEqual([]);
  });

  it('a stale feed with fallback run plans nothing, explicitly', () => {
    const p = planCurtailment({ miners: mixedFleet(), policy: policy({ fallback: 'run' }), curve: fresh, hashprice_per_ths_day: 0.05, now_ms: NOW_STALE });
    expect(p.prices).toMatchObject({ status: 'stale', fallback_applied: 'run' });
    expect(p.windows).toEqual([]);
  });

  it('a stale feed with fallback curtail curtails to the policy target, not everything, labelled as fallback', () => {
    const p = planCurtailment({ miners: mixedFleet(), policy: policy({ fallback: 'curtail' }), curve: fresh, hashprice_per_ths_day: 0.05, now_ms: NOW_STALE });
    expect(p.prices).toMatchObject({ status: 'stale', fallback_applied: 'curtail' });
    expect(p.windows).toHaveLength(1);
    const w = p.windows[0]!;
    expect(w).toMatchObject({ start_ms: NOW_STALE, end_ms: T0 + 12 * H, reasons: ['stale_price_fallback'], max_price_per_mwh: null, restore: 'at_end' });
    expect(w.sites[0]!.target_kw).toBe(9);
    // no price is known: nothing saved is claimed, all avoided energy is unpriced
    expect(w.cost_saved).toBe(0);
    expect(w.unpriced_mwh).toBeCloseTo(w.energy_avoided_mwh, 12);
    expect(w.energy_avoided_mwh).toBeGreaterThan(0);
  });

  it('no curve at all resolves to the fallback over the whole horizon', () => {
    const p = planCurtailment({ miners: mixedFleet(), policy: policy({ fallback: 'hold' }), curve: null, hashprice_per_ths_day: null, now_ms: T0, to_ms: T0 + 6 * H });
    expect(p.prices).toMatchObject({ status: 'missing', fallback_applied: 'hold', gaps: [{ start_ms: T0, end_ms: T0 + 6 * H, basis: 'missing', fallback: 'hold' }] });
    expect(p.windows).toEqual([]);
  });

  it('a gap after an expensive window with fallback hold keeps miners curtailed; at the horizon end the restore is deferred', () => {
    const curve = twoPeakCurve(T0);
    curve.intervals = curve.intervals.filter(iv => iv.start_ms < T0 + 3 * H);
    const p = planCurtailment({ miners: mixedFleet(), policy: policy({ fallback: 'hold' }), curve, hashprice_per_ths_day: 0.05, now_ms: T0, to_ms: T0 + 5 * H });
    expect(p.prices.status).toBe('partial');
    expect(p.prices.fallback_applied).toBe('hold');
    expect(p.windows).toHaveLength(1);
    expect(p.windows[0]).toMatchObject({ start_ms: T0 + 2 * H, end_ms: T0 + 5 * H, restore: 'deferred', reasons: ['price_above_strike'] });
    expect(p.steps.every(s => s.kind === 'curtail')).toBe(true);
    // priced hour 2–3, unpriced 3–5
    expect(p.windows[0]!.unpriced_mwh).toBeGreaterThan(0);
  });

  it('a gap inside the curve with fallback run ends the window and restores', () => {
    const curve = twoPeakCurve(T0);
    curve.intervals = curve.intervals.filter(iv => !(iv.start_ms >= T0 + 2 * H + 30 * MIN && iv.start_ms < T0 + 2 * H + 45 * MIN));
    const p = planCurtailment({ miners: mixedFleet(), policy: policy({ fallback: 'run', min_off_minutes: 0 }), curve, hashprice_per_ths_day: 0.05, now_ms: T0, to_ms: T0 + 4 * H });
    expect(p.windows.map(w => [w.start_ms - T0, w.end_ms - T0])).toEqual([
      [2 * H, 2 * H + 30 * MIN],
      [2 * H + 45 * MIN, 3 * H],
    ]);
    expect(p.prices.gaps).toEqual([{ start_ms: T0 + 2 * H + 30 * MIN, end_ms: T0 + 2 * H + 45 * MIN, basis: 'missing', fallback: 'run' }]);
  });

  it('resolvePrices marks gaps and staleness', () => {
    const r = resolvePrices(fresh, { from_ms: T0 - H, to_ms: T0 + 13 * H, now_ms: T0 }, { max_age_ms: H, fallback: 'curtail' });
    expect(r.status).toBe('partial');
    expect(r.segments[0]).toEqual({ start_ms: T0 - H, end_ms: T0, basis: 'missing', fallback: 'curtail' });
    expect(r.segments.at(-1)).toEqual({ start_ms: T0 + 12 * H, end_ms: T0 + 13 * H, basis: 'missing', fallback: 'curtail' });
    expect(resolvePrices(fresh, { from_ms: T0, to_ms: T0 + H, now_ms: T0 + H + 1 }, { max_age_ms: H, fallback: 'run' }).status).toBe('stale');
    expect(resolvePrices(fresh, { from_ms: T0, to_ms: T0 + H, now_ms: T0 + H }, { max_age_ms: H, fallback: 'run' }).status).toBe('fresh');
  });
});
