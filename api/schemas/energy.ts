import { z } from 'zod';
import { GROUP_BYS } from '../../services/energy/profitability-service.ts';
import { IsoTime, ListMeta, SiteName, TagFilter, TimeParam, WindowSchema, errorResponses, limitParam } from './common.ts';

/**
 * Profitability: revenue (hashrate × hashprice), power cost (energy × energy price) and margin
 * over a range, from each miner's stored mean hashrate and power. Money is in `prices.currency`.
 */

const fromParam = TimeParam.optional().describe('Start of the range (default: 24 h before `to`; 1 h for losing-miners).');
const toParam = TimeParam.optional().describe('End of the range (default: now).');
const hashpriceParam = z.coerce
  .number({ error: 'expected a number >= 0 (currency per TH/s per day)' })
  .min(0, { error: 'expected a number >= 0 (currency per TH/s per day)' })
  .max(1_000_000, { error: 'expected a number <= 1000000' })
  .optional()
  .describe('Hashprice to use instead of the configured one, currency per TH/s per day ("what if").');
const energyParam = z.coerce
  .number({ error: 'expected a number (currency per MWh)' })
  .min(-1_000_000, { error: 'expected a number >= -1000000' })
  .max(1_000_000, { error: 'expected a number <= 1000000' })
  .optional()
  .describe('Energy price to use instead of the configured one, currency per MWh ("what if"; may be negative).');

export const ENERGY_ERRORS = errorResponses(400, 401, 403, 404, 409, 429, 500, 503);

export const ProfitabilityQuery = z.strictObject({
  from: fromParam,
  to: toParam,
  site: SiteName.optional(),
  miner: TagFilter.optional().describe('One miner (id or hostname): its figures only.'),
  group_by: z.enum(GROUP_BYS, { error: 'expected site, model or miner' }).optional().describe('Groups in `groups` (default site; miner when `miner` is given).'),
  hashprice_per_ths_day: hashpriceParam,
  energy_price_per_mwh: energyParam,
  limit: limitParam(200, 10_000),
});

export const LosingMinersQuery = z.strictObject({
  from: fromParam,
  to: toParam,
  site: SiteName.optional(),
  hashprice_per_ths_day: hashpriceParam,
  energy_price_per_mwh: energyParam,
  limit: limitParam(50, 10_000),
});

export const BreakEvenQuery = z.strictObject({
  from: fromParam,
  to: toParam,
  site: SiteName.optional(),
  hashprice_per_ths_day: hashpriceParam,
  energy_price_per_mwh: energyParam,
});

const PriceUsed = z.object({
  value: z.number(),
  source: z.string().describe('fixed, tariff:<name>, http:<host>, or request (given in the call).'),
  as_of: IsoTime.describe('When the price was obtained.'),
  age_s: z.number().int(),
  stale: z.boolean().describe('True when a fetched hashprice is older than HASHPRICE_MAX_AGE_MS.'),
});

export const PricesUsed = z.object({
  currency: z.string(),
  hashprice_per_ths_day: PriceUsed,
  energy_price_per_mwh: PriceUsed.describe('For a range: a tariff\'s time-weighted mean over it; for "now" answers: the price now.'),
});

const Money = {
  hashrate_ths: z.number().describe('Mean hashrate over the range (unreachable polls count as 0).'),
  power_kw: z.number().describe('Mean power over the range.'),
  energy_mwh: z.number(),
  revenue: z.number(),
  power_cost: z.number(),
  margin: z.number().describe('revenue - power_cost'),
  break_even_price_per_mwh: z.number().nullable().describe('Energy price at which the margin is zero; null without power use.'),
};

const StatsSource = z.string().describe('window_stats (per-miner window statistics) or the InfluxDB measurement read.');

export const Profitability = z.object({
  window: WindowSchema,
  hours: z.number(),
  source: StatsSource,
  prices: PricesUsed,
  group_by: z.enum(GROUP_BYS),
  fleet: z.object({ ...Money, miners: z.number().int(), losing_miners: z.number().int() }),
  groups: z.array(
    z.object({
      key: z.string().nullable().describe('Site, model (null: unknown) or miner id.'),
      site: z.string().nullable(),
      model: z.string().nullable(),
      miners: z.number().int(),
      losing_miners: z.number().int(),
      ...Money,
    }),
  ),
  ...ListMeta,
});

export const LosingMiners = z.object({
  window: WindowSchema,
  hours: z.number(),
  source: StatsSource,
  prices: PricesUsed,
  evaluated: z.number().int().describe('Miners with data in the range.'),
  items: z.array(z.object({ miner: z.string(), site: z.string(), model: z.string().nullable(), efficiency_jth: z.number().nullable(), ...Money })),
  loss: z.number().describe('Margin of all losing miners together over the range (negative).'),
  ...ListMeta,
});

export const BreakEven = z.object({
  window: WindowSchema,
  source: StatsSource,
  prices: PricesUsed.extend({ energy_price_per_mwh: PriceUsed.nullable().describe('null: no energy price configured or given (margins not computed).') }),
  models: z.array(
    z.object({
      model: z.string().nullable(),
      miners: z.number().int(),
      efficiency_jth: z.number().nullable(),
      break_even_price_per_mwh: z.number().nullable(),
      margin_per_miner_day: z.number().nullable().describe('Margin per miner per day at the prices used; null without an energy price.'),
      loses_money: z.boolean().nullable(),
    }),
  ),
  hint: z.string().optional(),
});
