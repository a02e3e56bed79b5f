import { describe, expect, it } from 'vitest';
import { breakEvenPricePerMwh, computeProfitability, losingMiners } from '../../../services/energy/profitability.ts';
import { H, T0 } from './fleet-fixture.ts';

// Every expected figure is worked out by hand from the inputs: hashprice 0.05 EUR/TH/s/day,
// power 60 EUR/MWh, one day.
const input = {
  from_ms: T0,
  to_ms: T0 + 24 * H,
  hashprice_per_ths_day: 0.05,
  energy_price_per_mwh: 60,
  currency: 'EUR',
  miners: [
    { id: 's9', site: 'a', model: 'S9', avg_hashrate_ghs: 14_000, avg_power_w: 1400 },
    { id: 's19', site: 'a', model: 'S19', avg_hashrate_ghs: 95_000, avg_power_w: 3250 },
    { id: 's21', site: 'b', model: 'S21', avg_hashrate_ghs: 200_000, avg_power_w: 3500 },
    { id: 'dead', site: 'b', model: 'S19', avg_hashrate_ghs: 0, avg_power_w: 100 },
  ],
};

describe('profitability', () => {
  const r = computeProfitability(input);
  const m = (id: string) => r.miners.find(x => x.id === id)!;

  it('per miner: revenue, power cost, margin, break-even', () => {
    // S9: 14 TH/s × 0.05 × 1 day = 0.70; 1.4 kW × 24 h = 0.0336 MWh × 60 = 2.016
    expect(m('s9').revenue).toBeCloseTo(0.7, 12);
    expect(m('s9').energy_mwh).toBeCloseTo(0.0336, 12);
    expect(m('s9').power_cost).toBeCloseTo(2.016, 12);
    expect(m('s9').margin).toBeCloseTo(-1.316, 12);
    expect(m('s9').break_even_price_per_mwh).toBeCloseTo(0.7 / 0.0336, 9);
    expect(m('s9').loses_money).toBe(true);
    // S19: 4.75 revenue, 0.078 MWh → 4.68, margin 0.07
    expect(m('s19').revenue).toBeCloseTo(4.75, 12);
    expect(m('s19').power_cost).toBeCloseTo(4.68, 12);
    expect(m('s19').margin).toBeCloseTo(0.07, 12);
    expect(m('s19').loses_money).toBe(false);
    // S21: 10 revenue, 0.084 MWh → 5.04
    expect(m('s21').margin).toBeCloseTo(4.96, 12);
    // a miner that hashes nothing only costs: 0.0024 MWh × 60
    expect(m('dead').revenue).toBe(0);
    expect(m('dead').margin).toBeCloseTo(-0.144, 12);
    expect(m('dead').break_even_price_per_mwh).toBe(0);
  });

  it('per site and fleet', () => {
    const a = r.sites.find(s => s.site === 'a')!;
    expect(a.revenue).toBeCloseTo(5.45, 12);
    expect(a.power_cost).toBeCloseTo(6.696, 12);
    expect(a.margin).toBeCloseTo(-1.246, 12);
    expect(a.losing_miners).toBe(1);
    expect(r.fleet.revenue).toBeCloseTo(15.45, 12);
    expect(r.fleet.power_cost).toBeCloseTo(11.88, 12);
    expect(r.fleet.margin).toBeCloseTo(3.57, 12);
    expect(r.fleet).toMatchObject({ miners: 4, losing_miners: 2 });
  });

  it('break-even price per model', () => {
    const s19 = r.models.find(x => x.model === 'S19')!;
    // both S19 together: 95 TH/s on 3.35 kW → 35.263 J/TH
    expect(s19.efficiency_jth).toBeCloseTo(3350 / 95, 9);
    expect(s19.break_even_price_per_mwh).toBeCloseTo(4.75 / ((3.35 * 24) / 1000), 9);
    expect(breakEvenPricePerMwh(3250 / 95, 0.05)).toBeCloseTo(4.75 / 0.078, 9);
    expect(r.models.find(x => x.model === 'S21')!.break_even_price_per_mwh).toBeCloseTo(10 / 0.084, 9);
  });

  it('which miners lose money at the current price, biggest loss first', () => {
    expect(losingMiners(r).map(x => x.id)).toEqual(['s9', 'dead']);
    // at 100 EUR/MWh the S19 loses too (break-even 60.9): 4.75 − 7.80 = −3.05 beats the S9's 0.70 − 3.36 = −2.66
    expect(losingMiners(computeProfitability({ ...input, energy_price_per_mwh: 100 })).map(x => x.id)).toEqual(['s19', 's9', 'dead']);
  });

  it('scales with the range', () => {
    const half = computeProfitability({ ...input, to_ms: T0 + 12 * H });
    expect(half.fleet.margin).toBeCloseTo(3.57 / 2, 12);
  });

  it('refuses bad input saying what is expected', () => {
    expect(() => computeProfitability({ ...input, to_ms: T0 })).toThrow(/to_ms: expected to_ms after from_ms/);
    expect(() => computeProfitability({ ...input, hashprice_per_ths_day: 'x' })).toThrow(/hashprice_per_ths_day: expected hashprice_per_ths_day: currency per TH\/s per day/);
  });
});
