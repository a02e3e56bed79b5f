import { describe, expect, it } from 'vitest';
import { planDemandResponse } from '../../../services/energy/demand-response-plan.ts';
import { parseDemandResponseSignal } from '../../../services/energy/prices/demand-response.ts';
import { H, MIN, T0, mixedFleet, policy } from './fleet-fixture.ts';

const START = T0 + 4 * H;

/** Site power after each step, from the steps alone. */
function powerTrace(steps: Array<{ at_ms: number; kind: string; kw: number }>, before_kw: number): Array<[number, number]> {
  let p = before_kw;
  return steps.map(s => {
    p += s.kind === 'curtail' ? -s.kw : s.kw;
    return [s.at_ms, p];
  });
}

describe('demand-response signal', () => {
  const rules = policy();
  it('caps site power within the ramp, then restores at the end', () => {
    const signal = parseDemandResponseSignal({ id: 'grid-1', site: 'a', cap_kw: 6, duration_minutes: 30, start: new Date(START).toISOString() }, T0);
    const p = planDemandResponse({ miners: mixedFleet(), signal, tenant: 't1', rules, now_ms: START });
    expect(p.kind).toBe('demand_response');
    expect(p.windows).toHaveLength(1);
    const w = p.windows[0]!;
    expect(w.reasons).toEqual(['demand_response']);
    const site = w.sites[0]!;
    // 16.12 kW down to 6: 10.12 kW at 4 kW/min takes at least 3 minutes
    expect(site.power_before_kw).toBeCloseTo(16.12, 9);
    expect(site.shortfall_kw).toBe(0);
    expect(site.reached_at_ms).toBe(START + 3 * MIN);
    const curtails = p.steps.filter(s => s.kind === 'curtail');
    const trace = powerTrace(curtails, 16.12);
    expect(trace.at(-1)![1]).toBeLessThanOrEqual(6);
    let prev = 16.12;
    for (const [, kw] of trace) {
      expect(prev - kw).toBeLessThanOrEqual(4 + 1e-9);
      prev = kw;
    }
    expect(curtails.map(s => s.at_ms - START)).toEqual([0, MIN, 2 * MIN, 3 * MIN]);
    // restore after the 30 minutes, ramped too, all miners back
    const restores = p.steps.filter(s => s.kind === 'restore');
    expect(restores[0]!.at_ms).toBe(START + 30 * MIN);
    expect(restores.flatMap(s => s.miners.map(m => m.miner_id)).sort()).toEqual(curtails.flatMap(s => s.miners.map(m => m.miner_id)).sort());
    expect(Math.max(...restores.map(s => s.kw))).toBeLessThanOrEqual(4);
    // exempt, and another tenant's miner on a site of the same name
    for (const id of ['a-s19-2', 'x-s9-1']) expect(p.steps.some(s => s.miners.some(m => m.miner_id === id))).toBe(false);
  });

  it('a signal planned after its start ramps from now and keeps its window id', () => {
    const signal = parseDemandResponseSignal({ id: 'grid-1', site: 'a', cap_kw: 6, duration_minutes: 30, start: START }, T0);
    const onTime = planDemandResponse({ miners: mixedFleet(), signal, tenant: 't1', rules, now_ms: START });
    const late = planDemandResponse({ miners: mixedFleet(), signal, tenant: 't1', rules, now_ms: START + 5 * MIN + 1 });
    expect(late.windows[0]!.id).toBe(onTime.windows[0]!.id);
    expect(late.steps[0]!.at_ms).toBe(START + 6 * MIN);
    expect(late.steps.filter(s => s.kind === 'curtail').every(s => s.at_ms >= START + 5 * MIN)).toBe(true);
  });

  it('reduce by a percentage of site power', () => {
    const signal = parseDemandResponseSignal({ id: 'grid-2', site: 'a', reduce_percent: 20, duration_minutes: 15 }, START);
    const p = planDemandResponse({ miners: mixedFleet(), signal, tenant: 't1', rules, now_ms: START });
    const site = p.windows[0]!.sites[0]!;
    expect(site.target_kw).toBeCloseTo(16.12 * 0.8, 9);
    // 3.224 kW: the two S9 (2.8) then the next in order
    expect(p.steps[0]!.miners.map(m => m.miner_id)).toEqual(['a-s9-2', 'a-s9-1']);
    expect(site.reduction_kw).toBeGreaterThanOrEqual(16.12 * 0.2);
  });

  it('reports a cap the site cannot reach instead of pretending', () => {
    const signal = parseDemandResponseSignal({ id: 'grid-3', site: 'a', cap_kw: 1, duration_minutes: 30 }, START);
    const p = planDemandResponse({ miners: mixedFleet(), signal, tenant: 't1', rules, now_ms: START });
    // exempt s19-2 (3.25), the paused miner (0.02) and the S21 at its minimum (2.0) stay on
    expect(p.windows[0]!.sites[0]!.shortfall_kw).toBeCloseTo(3.25 + 0.02 + 2.0 - 1, 9);
  });

  it('refuses a malformed signal saying what is expected', () => {
    expect(() => parseDemandResponseSignal({ id: 'x', site: 'a', cap_kw: 5, reduce_percent: 10, duration_minutes: 5 }, 0)).toThrow(/exactly one of cap_kw .* and reduce_percent/);
    expect(() => parseDemandResponseSignal({ id: 'x', site: 'a', cap_kw: 5 }, 0)).toThrow(/duration_minutes/);
    expect(() => parseDemandResponseSignal({ id: 'x', site: 'a', reduce_percent: 120, duration_minutes: 5 }, 0)).toThrow(/reduce_percent: expected reduce_percent at most 100/);
    expect(() => parseDemandResponseSignal({ id: 'x', site: 'a', cap_kw: 5, duration_minutes: 5, start: '2026-12-07 10:00' }, 0)).toThrow(/start: expected start as ISO 8601/);
  });
});
