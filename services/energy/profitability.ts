import { z } from 'zod';
import { parseInput } from './parse-input.ts';

/**
 * Revenue, power cost and margin per miner, site, model and fleet over a range, from average
 * hashrate and power (the caller reads them from stored series) and two prices: hashprice
 * (currency per TH/s per day) and energy (currency per MWh), in the same currency.
 *
 *   revenue    = TH/s × hashprice × days
 *   power cost = kW × hours / 1000 × price per MWh
 *   break-even price per MWh = revenue / MWh used = hashprice × 10⁶ / (24 × J/TH)
 */

export const profitabilityInputSchema = z.object({
  from_ms: z.number().int(),
  to_ms: z.number().int(),
  hashprice_per_ths_day: z.number({ error: 'expected hashprice_per_ths_day: currency per TH/s per day' }).min(0),
  energy_price_per_mwh: z.number({ error: 'expected energy_price_per_mwh: currency per MWh' }).finite(),
  currency: z.string().min(1),
  miners: z.array(
    z.object({
      id: z.string().min(1),
      site: z.string().min(1),
      model: z.string().nullable(),
      avg_hashrate_ghs: z.number().min(0),
      avg_power_w: z.number().min(0),
    }),
  ),
}).refine(i => i.to_ms > i.from_ms, { error: 'expected to_ms after from_ms', path: ['to_ms'] });

export type ProfitabilityInput = z.output<typeof profitabilityInputSchema>;

export interface Economics {
  hashrate_ths: number;
  power_kw: number;
  energy_mwh: number;
  revenue: number;
  power_cost: number;
  margin: number;
  /** Energy price at which the margin is zero; null without power use. */
  break_even_price_per_mwh: number | null;
}

export interface MinerEconomics extends Economics {
  id: string;
  site: string;
  model: string | null;
  loses_money: boolean;
}

export interface ProfitabilityReport {
  from_ms: number;
  to_ms: number;
  hours: number;
  currency: string;
  hashprice_per_ths_day: number;
  energy_price_per_mwh: number;
  miners: MinerEconomics[];
  sites: Array<Economics & { site: string; miners: number; losing_miners: number }>;
  models: Array<Economics & { model: string | null; miners: number; efficiency_jth: number | null }>;
  fleet: Economics & { miners: number; losing_miners: number };
}

function economics(ths: number, kw: number, hours: number, hashprice: number, price: number): Economics {
  const energy_mwh = (kw * hours) / 1000;
  const revenue = (ths * hashprice * hours) / 24;
  const power_cost = energy_mwh * price;
  return {
    hashrate_ths: ths,
    power_kw: kw,
    energy_mwh,
    revenue,
    power_cost,
    margin: revenue - power_cost,
    break_even_price_per_mwh: energy_mwh > 0 ? revenue / energy_mwh : null,
  };
}

export function computeProfitability(raw: unknown): ProfitabilityReport {
  const input = parseInput(profitabilityInputSchema, raw, 'profitability');
  const hours = (input.to_ms - input.from_ms) / 3_600_000;
  const hp = input.hashprice_per_ths_day;
  const price = input.energy_price_per_mwh;
  const miners: MinerEconomics[] = input.miners.map(m => {
    const e = economics(m.avg_hashrate_ghs / 1000, m.avg_power_w / 1000, hours, hp, price);
    return { id: m.id, site: m.site, model: m.model, ...e, loses_money: e.margin < 0 };
  });
  const group = <K extends string | null>(key: (m: MinerEconomics) => K) => {
    const g = new Map<K, MinerEconomics[]>();
    for (const m of miners) {
      const k = key(m);
      const list = g.get(k);
      if (list) list.push(m);
      else g.set(k, [m]);
    }
    return [...g.entries()].sort(([a], [b]) => String(a).localeCompare(String(b)));
  };
  const sumOf = (list: MinerEconomics[]) =>
    economics(
      list.reduce((a, m) => a + m.hashrate_ths, 0),
      list.reduce((a, m) => a + m.power_kw, 0),
      hours,
      hp,
      price,
    );
  return {
    from_ms: input.from_ms,
    to_ms: input.to_ms,
    hours,
    currency: input.currency,
    hashprice_per_ths_day: hp,
    energy_price_per_mwh: price,
    miners,
    sites: group(m => m.site).map(([site, list]) => ({ site, miners: list.length, losing_miners: list.filter(m => m.loses_money).length, ...sumOf(list) })),
    models: group(m => m.model).map(([model, list]) => {
      const e = sumOf(list);
      return { model, miners: list.length, efficiency_jth: e.hashrate_ths > 0 ? (e.power_kw * 1000) / e.hashrate_ths : null, ...e };
    }),
    fleet: { miners: miners.length, losing_miners: miners.filter(m => m.loses_money).length, ...sumOf(miners) },
  };
}

/** Miners whose margin is negative at the report's prices, the biggest loss first. */
export function losingMiners(report: ProfitabilityReport): MinerEconomics[] {
  return report.miners.filter(m => m.loses_money).sort((a, b) => a.margin - b.margin || a.id.localeCompare(b.id));
}

/** Break-even energy price (per MWh) of a miner running at `efficiency_jth` at a hashprice. */
export function breakEvenPricePerMwh(efficiency_jth: number, hashprice_per_ths_day: number): number {
  return (hashprice_per_ths_day * 1e6) / (24 * efficiency_jth);
}
