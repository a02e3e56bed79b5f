import { describe, expect, it } from 'vitest';
import { planCurtailment } from '../../../services/energy/planner.ts';
import { H, MIN, T0, mixedFleet, policy, twoPeakCurve } from './fleet-fixture.ts';

// The executor keys "run this window exactly once" on the window id, across API replicas and
// restarts that evaluate the plan at different times and over different horizons: the id must
// not depend on when the plan was computed or how far it looks.
describe('window ids are stable between evaluations', () => {
  it('a stale-price fallback window keeps its id as time advances', () => {
    const pol = policy({ fallback: 'curtail' });
    const curve = twoPeakCurve(T0); // max age 60 min: stale from T0 + 1 h
    const at = (now: number) => planCurtailment({ miners: mixedFleet(), policy: pol, curve, hashprice_per_ths_day: null, now_ms: now, to_ms: now + 4 * H });
    const a = at(T0 + 4 * H);
    const b = at(T0 + 4 * H + 7 * MIN);
    expect(a.windows).toHaveLength(1);
    expect(b.windows).toHaveLength(1);
    expect(b.windows[0]!.reasons).toEqual(['stale_price_fallback']);
    expect(b.windows[0]!.id).toBe(a.windows[0]!.id);
  });

  it('an expensive window cut by the horizon keeps its id when the horizon moves', () => {
    const plan = (to: number) => planCurtailment({ miners: mixedFleet(), policy: policy(), curve: twoPeakCurve(T0), hashprice_per_ths_day: null, now_ms: T0, to_ms: to });
    const cut = plan(T0 + 2 * H + 30 * MIN);
    const whole = plan(T0 + 12 * H);
    expect(cut.windows[0]!.end_ms).toBe(T0 + 2 * H + 30 * MIN);
    expect(cut.windows[0]!.id).toBe(whole.windows[0]!.id);
  });

  it('a missing-price fallback window keeps its id as time advances (prices missing since a known time)', () => {
    const pol = policy({ fallback: 'curtail' });
    const at = (now: number) => planCurtailment({ miners: mixedFleet(), policy: pol, curve: null, hashprice_per_ths_day: null, now_ms: now, to_ms: now + H, missing_since_ms: T0 });
    expect(at(T0 + 5 * MIN).windows[0]!.id).toBe(at(T0 + 9 * MIN).windows[0]!.id);
  });
});
