import type { EnergyMiner } from '../../../services/energy/energy-miner.ts';
import { parseCurtailmentPolicy, type CurtailmentPolicy } from '../../../services/energy/policy.ts';
import { makePriceCurve, type PriceCurve } from '../../../services/energy/price-curve.ts';

/** A mixed fleet on one site; T0 is a whole hour so steps land on the minutes worked out by hand. */
export const T0 = Date.UTC(2026, 11, 7, 0, 0, 0);
export const MIN = 60_000;
export const H = 60 * MIN;

export function miner(id: string, over: Partial<EnergyMiner>): EnergyMiner {
  return {
    id,
    tenant: 't1',
    site: 'a',
    model: 'S19',
    labels: {},
    power_w: 3250,
    hashrate_ghs: 95_000,
    efficiency_jth: null,
    temp_chip_max_c: 70,
    power_target_min_w: null,
    power_target_max_w: null,
    state: 'running',
    state_since_ms: null,
    ...over,
  };
}

/**
 * Total 16.12 kW. Least efficient first: s9-2 (100 J/TH, 85 °C), s9-1 (100 J/TH, 80 °C),
 * s19-3 (34.7), s19-1 (34.2), s21-1 (17.5, power target down to 2000 W); s19-2 is exempt,
 * s19-off is paused by someone else; another site's miner and another tenant's are not selected.
 */
export function mixedFleet(): EnergyMiner[] {
  return [
    miner('a-s9-1', { model: 'S9', power_w: 1400, hashrate_ghs: 14_000, temp_chip_max_c: 80 }),
    miner('a-s9-2', { model: 'S9', power_w: 1400, hashrate_ghs: 14_000, temp_chip_max_c: 85 }),
    miner('a-s19-1', {}),
    miner('a-s19-2', { labels: { role: 'critical' } }),
    miner('a-s19-3', { power_w: 3300, state_since_ms: T0 + 115 * MIN }),
    miner('a-s21-1', { model: 'S21', power_w: 3500, hashrate_ghs: 200_000, power_target_min_w: 2000, power_target_max_w: 4000 }),
    miner('a-s19-off', { power_w: 20, hashrate_ghs: 0, state: 'paused', state_since_ms: T0 - H }),
    miner('b-s9-1', { site: 'b', model: 'S9', power_w: 1400, hashrate_ghs: 14_000 }),
    miner('x-s9-1', { tenant: 't2', model: 'S9', power_w: 1400, hashrate_ghs: 14_000 }),
  ];
}

export function policy(over: Record<string, unknown> = {}): CurtailmentPolicy {
  return parseCurtailmentPolicy({
    id: 'pol-a',
    selector: { tenant: 't1', site: 'a' },
    currency: 'EUR',
    strike_price_per_mwh: 100,
    target: { kind: 'cap_kw', cap_kw: 9 },
    method: { default: 'pause', by_model: { S21: 'power_target' } },
    ramp_kw_per_min: 4,
    min_on_minutes: 15,
    min_off_minutes: 10,
    exempt_labels: { role: 'critical' },
    max_price_age_minutes: 60,
    fallback: 'hold',
    ...over,
  });
}

/** 12 h at 5-minute resolution: 50 EUR/MWh, 200 in [2 h, 3 h), 250 in [6 h, 7 h). */
export function twoPeakCurve(fetched_at_ms = T0): PriceCurve {
  const intervals = [];
  for (let t = T0; t < T0 + 12 * H; t += 5 * MIN) {
    const price = t >= T0 + 2 * H && t < T0 + 3 * H ? 200 : t >= T0 + 6 * H && t < T0 + 7 * H ? 250 : 50;
    intervals.push({ start_ms: t, end_ms: t + 5 * MIN, price_per_mwh: price });
  }
  return makePriceCurve(intervals, { currency: 'EUR', source: 'test', fetched_at_ms });
}
