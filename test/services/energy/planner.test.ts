import { describe, expect, it } from 'vitest';
import { planCurtailment } from '../../../services/energy/planner.ts';
import type { CurtailmentPlan } from '../../../services/energy/plan.ts';
import { windowId } from '../../../services/energy/policy.ts';
import { H, MIN, T0, miner, mixedFleet, policy, twoPeakCurve } from './fleet-fixture.ts';

const HASHPRICE = 0.05; // EUR per TH/s per day

const plan = (over: Partial<Parameters<typeof planCurtailment>[0]> = {}) =>
  planCurtailment({ miners: mixedFleet(), policy: policy(), curve: twoPeakCurve(), hashprice_per_ths_day: HASHPRICE, now_ms: T0, ...over });

const idsAt = (p: CurtailmentPlan, at: number, kind: 'curtail' | 'restore') =>
  p.steps.filter(s => s.at_ms === at && s.kind === kind).flatMap(s => s.miners.map(m => m.miner_id));

/** Largest change of site power in any one minute, summing curtail and restore steps. */
function maxKwPerMinute(p: CurtailmentPlan, site: string): number {
  const byMinute = new Map<number, number>();
  for (const s of p.steps.filter(x => x.site === site)) {
    const k = Math.floor(s.at_ms / MIN);
    byMinute.set(k, (byMinute.get(k) ?? 0) + s.kw);
  }
  return Math.max(0, ...byMinute.values());
}

describe('price planner over a mixed fleet and two expensive windows', () => {
  const p = plan();

  it('finds the two windows with stable ids', () => {
    expect(p.windows.map(w => [w.start_ms, w.end_ms])).toEqual([
      [T0 + 2 * H, T0 + 3 * H],
      [T0 + 6 * H, T0 + 7 * H],
    ]);
    expect(p.windows[0]!.id).toBe(windowId('pol-a', T0 + 2 * H, T0 + 3 * H));
    expect(p.windows[0]!.id).not.toBe(p.windows[1]!.id);
    expect(p.windows.map(w => w.max_price_per_mwh)).toEqual([200, 250]);
    expect(p.windows.every(w => w.reasons.join() === 'price_above_strike' && w.restore === 'at_end')).toBe(true);
    expect(p.prices).toMatchObject({ status: 'fresh', fallback_applied: null, gaps: [] });
  });

  it('curtails least efficient first, hottest first among equals, within the ramp', () => {
    // need 16.12 − 9 = 7.12 kW; s19-3 was switched on 5 min before (min on 15 min)
    expect(idsAt(p, T0 + 2 * H, 'curtail')).toEqual(['a-s9-2', 'a-s9-1']);
    expect(idsAt(p, T0 + 2 * H + MIN, 'curtail')).toEqual(['a-s19-1']);
    expect(idsAt(p, T0 + 2 * H + 2 * MIN, 'curtail')).toEqual(['a-s21-1']);
    const w1 = p.windows[0]!;
    expect(w1.skipped).toEqual([{ miner_id: 'a-s19-3', site: 'a', reason: 'min_on_time' }]);
    expect(w1.sites).toEqual([
      expect.objectContaining({ site: 'a', target_kw: 9, shortfall_kw: 0, reached_at_ms: T0 + 2 * H + 2 * MIN, miners: 4 }),
    ]);
    expect(w1.sites[0]!.power_before_kw).toBeCloseTo(16.12, 9);
    expect(w1.reduction_kw).toBeCloseTo(1.4 + 1.4 + 3.25 + 1.5, 9);
    const s21 = p.steps.flatMap(s => s.miners).find(m => m.miner_id === 'a-s21-1')!;
    expect(s21).toMatchObject({ action: 'power_target', power_target_w: 2000 });
    expect(s21.kw).toBeCloseTo(1.5, 9);
    expect(p.steps.flatMap(s => s.miners).find(m => m.miner_id === 'a-s9-2')!.action).toBe('pause');
  });

  it('restores at the end of each window, most valuable first, within the ramp', () => {
    expect(idsAt(p, T0 + 3 * H, 'restore')).toEqual(['a-s21-1']);
    expect(idsAt(p, T0 + 3 * H + MIN, 'restore')).toEqual(['a-s19-1']);
    expect(idsAt(p, T0 + 3 * H + 2 * MIN, 'restore')).toEqual(['a-s9-1', 'a-s9-2']);
    // every miner curtailed in a window is restored once, after its curtail
    for (const w of p.windows) {
      const cur = p.steps.filter(s => s.window_id === w.id && s.kind === 'curtail').flatMap(s => s.miners.map(m => m.miner_id)).sort();
      const res = p.steps.filter(s => s.window_id === w.id && s.kind === 'restore').flatMap(s => s.miners.map(m => m.miner_id)).sort();
      expect(res).toEqual(cur);
      expect(Math.min(...p.steps.filter(s => s.window_id === w.id && s.kind === 'restore').map(s => s.at_ms))).toBeGreaterThanOrEqual(w.end_ms);
    }
    expect(maxKwPerMinute(p, 'a')).toBeLessThanOrEqual(4);
  });

  it('uses the miner switched on too recently in the second window', () => {
    expect(idsAt(p, T0 + 6 * H, 'curtail')).toEqual(['a-s9-2', 'a-s9-1']);
    expect(idsAt(p, T0 + 6 * H + MIN, 'curtail')).toEqual(['a-s19-3']);
    expect(idsAt(p, T0 + 6 * H + 2 * MIN, 'curtail')).toEqual(['a-s19-1']);
    expect(p.windows[1]!.skipped).toEqual([]);
  });

  it('never touches exempt, unselected or already-off miners', () => {
    const touched = new Set(p.steps.flatMap(s => s.miners.map(m => m.miner_id)));
    for (const id of ['a-s19-2', 'a-s19-off', 'b-s9-1', 'x-s9-1']) expect(touched.has(id)).toBe(false);
    expect(p.exempt_miner_ids).toEqual(['a-s19-2']);
  });

  it('values each window from the prices and the hashprice', () => {
    // window 1, by hand: kW × hours at each price; revenue = TH/s × hashprice × days
    const kwh = (kw: number, min200: number, min50: number) => kw * (min200 / 60) * 200 / 1000 + kw * (min50 / 60) * 50 / 1000;
    const cost = kwh(1.4, 60, 2) * 2 + kwh(3.25, 59, 1) + kwh(1.5, 58, 0);
    const mwh = (1.4 * 62 * 2 + 3.25 * 60 + 1.5 * 58) / 60 / 1000;
    const ths21 = 200 * (1500 / 3500);
    const revenue = ((14 * 62 * 2 + 95 * 60 + ths21 * 58) / 1440) * HASHPRICE;
    const w1 = p.windows[0]!;
    expect(w1.energy_avoided_mwh).toBeCloseTo(mwh, 12);
    expect(w1.cost_saved).toBeCloseTo(cost, 12);
    expect(w1.revenue_forgone).toBeCloseTo(revenue, 12);
    expect(w1.net_saving).toBeCloseTo(cost - revenue, 12);
    expect(w1.unpriced_mwh).toBe(0);
    expect(p.totals.cost_saved).toBeCloseTo(w1.cost_saved + p.windows[1]!.cost_saved, 12);
  });

  it('is deterministic: same input (in any order) gives the same plan', () => {
    const shuffled = [...mixedFleet()].reverse();
    expect(plan({ miners: shuffled })).toEqual(p);
    expect(plan()).toEqual(p);
  });

  it('keeps a window id when replanned from inside the window', () => {
    const later = plan({ now_ms: T0 + 2 * H + 30 * MIN, curve: twoPeakCurve(T0 + 2 * H) });
    expect(later.windows[0]!.start_ms).toBe(T0 + 2 * H + 30 * MIN);
    expect(later.windows[0]!.id).toBe(p.windows[0]!.id);
  });
});

describe('price planner: close windows, ramp and minimum times', () => {
  it('keeps miners off through a short cheap gap instead of restoring and curtailing again', () => {
    // windows [2 h, 3 h) and [3 h 5 min, 4 h): restore of the first would land in the second
    const curve = twoPeakCurve();
    for (const iv of curve.intervals) if (iv.start_ms >= T0 + 3 * H + 5 * MIN && iv.start_ms < T0 + 4 * H) iv.price_per_mwh = 300;
    const p = plan({ curve, policy: policy({ min_off_minutes: 10 }) , miners: [miner('s9', { model: 'S9', power_w: 1400, hashrate_ghs: 14_000 }), miner('s19', {})] });
    // 4.65 kW, cap 9: nothing to do
    expect(p.steps).toEqual([]);
    const q = plan({
      curve,
      policy: policy({ target: { kind: 'reduce_percent', percent: 100 }, min_off_minutes: 70, ramp_kw_per_min: 2 }),
      miners: [miner('s9', { model: 'S9', power_w: 1400, hashrate_ghs: 14_000 }), miner('s9b', { model: 'S9', power_w: 1400, hashrate_ghs: 14_000, temp_chip_max_c: 60 })],
    });
    expect(q.windows.map(w => w.start_ms)).toEqual([T0 + 2 * H, T0 + 3 * H + 5 * MIN, T0 + 6 * H]);
    // 2 kW/min: one S9 per minute; min off 70 min puts the restores at 3 h 10 and 3 h 11, inside
    // the second window, so both stay off and are restored after it
    expect(q.steps.filter(s => s.window_id === q.windows[0]!.id).map(s => [s.at_ms - T0, s.kind])).toEqual([
      [2 * H, 'curtail'],
      [2 * H + MIN, 'curtail'],
    ]);
    expect(q.windows[1]!.miners_carried).toBe(2);
    expect(q.steps.filter(s => s.window_id === q.windows[1]!.id).map(s => [s.at_ms - T0, s.kind])).toEqual([
      [4 * H, 'restore'],
      [4 * H + MIN, 'restore'],
    ]);
  });

  it('counts carried miners per site', () => {
    const curve = twoPeakCurve();
    for (const iv of curve.intervals) if (iv.start_ms >= T0 + 3 * H + 5 * MIN && iv.start_ms < T0 + 4 * H) iv.price_per_mwh = 300;
    const q = plan({
      curve,
      policy: policy({ selector: { tenant: 't1' }, target: { kind: 'reduce_percent', percent: 100 }, min_off_minutes: 70 }),
      miners: [miner('a1', { model: 'S9', power_w: 1400, hashrate_ghs: 14_000 }), miner('b1', { site: 'b', model: 'S9', power_w: 1400, hashrate_ghs: 14_000 })],
    });
    expect(q.windows[1]!.miners_carried).toBe(2);
    expect(q.windows[1]!.sites.map(s => [s.site, s.miners])).toEqual([
      ['a', 1],
      ['b', 1],
    ]);
  });

  it('skips a miner restored less than min_on before the next window', () => {
    const curve = twoPeakCurve();
    // second window 10 min after the first; min on 15 min; min off 0 so the restore is not carried
    for (const iv of curve.intervals) if (iv.start_ms >= T0 + 3 * H + 10 * MIN && iv.start_ms < T0 + 3 * H + 40 * MIN) iv.price_per_mwh = 300;
    const p = plan({
      curve,
      policy: policy({ target: { kind: 'reduce_percent', percent: 100 }, min_off_minutes: 0, min_on_minutes: 15 }),
      miners: [miner('s9', { model: 'S9', power_w: 1400, hashrate_ghs: 14_000 })],
    });
    expect(p.windows).toHaveLength(3);
    expect(p.steps.filter(s => s.window_id === p.windows[0]!.id).map(s => [s.at_ms - T0, s.kind])).toEqual([
      [2 * H, 'curtail'],
      [3 * H, 'restore'],
    ]);
    expect(p.windows[1]!.skipped).toEqual([{ miner_id: 's9', site: 'a', reason: 'min_on_time' }]);
    expect(p.steps.some(s => s.window_id === p.windows[1]!.id)).toBe(false);
  });

  it('holds a miner off for its minimum off time past a short window', () => {
    const curve = twoPeakCurve();
    for (const iv of curve.intervals) if (iv.start_ms >= T0 + 6 * H) iv.price_per_mwh = 50;
    for (const iv of curve.intervals) if (iv.start_ms >= T0 + 2 * H + 5 * MIN && iv.start_ms < T0 + 3 * H) iv.price_per_mwh = 50;
    const p = plan({ curve, policy: policy({ target: { kind: 'reduce_percent', percent: 100 }, min_off_minutes: 30 }), miners: [miner('s9', { model: 'S9', power_w: 1400, hashrate_ghs: 14_000 })] });
    expect(p.windows.map(w => [w.start_ms - T0, w.end_ms - T0])).toEqual([[2 * H, 2 * H + 5 * MIN]]);
    expect(p.steps.map(s => [s.at_ms - T0, s.kind])).toEqual([
      [2 * H, 'curtail'],
      [2 * H + 30 * MIN, 'restore'],
    ]);
  });

  it('reports a miner larger than the ramp instead of breaking the ramp', () => {
    const p = plan({ policy: policy({ ramp_kw_per_min: 3, target: { kind: 'reduce_percent', percent: 100 } }) });
    expect(p.windows[0]!.skipped).toContainEqual({ miner_id: 'a-s19-1', site: 'a', reason: 'exceeds_ramp' });
    expect(maxKwPerMinute(p, 'a')).toBeLessThanOrEqual(3);
  });

  it('skips power_target miners whose limits are unknown', () => {
    const fleet = mixedFleet().map(m => (m.id === 'a-s21-1' ? { ...m, power_target_min_w: null } : m));
    const p = plan({ miners: fleet, policy: policy({ target: { kind: 'reduce_percent', percent: 100 } }) });
    expect(p.windows[0]!.skipped).toContainEqual({ miner_id: 'a-s21-1', site: 'a', reason: 'no_power_limits' });
  });

  it('refuses a curve in another currency than the policy', () => {
    const curve = { ...twoPeakCurve(), currency: 'USD' };
    expect(() => plan({ curve })).toThrow(/in USD but policy pol-a is in EUR/);
  });
});

describe('curtailment policy input', () => {
  it('says what is wrong and what is expected', () => {
    expect(() => policy({ target: { kind: 'cap', cap_kw: 5 } })).toThrow(/curtailment policy: target.kind: expected target \{ kind: "cap_kw", cap_kw \} or \{ kind: "reduce_percent", percent \}/);
    expect(() => policy({ ramp_kw_per_min: 0 })).toThrow(/ramp_kw_per_min: expected ramp_kw_per_min above 0/);
    expect(() => policy({ method: { default: 'sleep' } })).toThrow(/method.default: expected power_target, pause or stop/);
    expect(() => policy({ fallback: 'panic' })).toThrow(/fallback: expected hold, run or curtail/);
    expect(() => policy({ target: { kind: 'reduce_percent', percent: 0 } })).toThrow(/target.percent: expected percent above 0/);
  });
});
