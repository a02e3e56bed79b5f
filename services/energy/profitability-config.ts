import { z } from 'zod';
import { cfg } from '../../runtime/config-loader.ts';
import { currencySchema } from './price-curve.ts';
import { fixedTariffSchema } from './prices/fixed-tariff.ts';
import { hashpriceSourceSchema } from './prices/hashprice-feed.ts';

/**
 * Where profitability takes its two prices from, as API configuration (environment):
 *
 *   HASHPRICE_SOURCE='{"kind":"fixed","value":0.05,"currency":"USD"}'
 *   HASHPRICE_SOURCE='{"kind":"http","url":"https://…","value_path":"data.usd_per_ph_day","currency":"USD","unit":"phs_day"}'
 *   ENERGY_PRICE_SOURCE='{"kind":"fixed","price_per_mwh":60,"currency":"USD"}'
 *   ENERGY_PRICE_SOURCE='{"kind":"tariff","tariff":{…fixed tariff, see prices/fixed-tariff.ts…}}'
 *
 * Unset means "not configured": answers then need the prices in the request.
 */

export const energyPriceSourceSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({
      kind: z.literal('fixed'),
      price_per_mwh: z.number({ error: 'expected a price per MWh (a number)' }).finite(),
      currency: currencySchema,
    }),
    z.strictObject({ kind: z.literal('tariff'), tariff: fixedTariffSchema }),
  ],
  { error: 'expected kind "fixed" (price_per_mwh, currency) or "tariff" (tariff: a time-of-use tariff)' },
);
export type EnergyPriceSource = z.output<typeof energyPriceSourceSchema>;

/** An optional environment value holding JSON that `schema` parses; issues name the JSON field. */
function jsonSetting<S extends z.ZodType>(schema: S, example: string) {
  return z
    .string()
    .optional()
    .transform((raw, ctx): z.output<S> | undefined => {
      if (raw === undefined || raw.trim() === '') return undefined;
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch {
        ctx.addIssue({ code: 'custom', message: `expected JSON such as ${example}` });
        return z.NEVER;
      }
      const parsed = schema.safeParse(value);
      if (parsed.success) return parsed.data;
      for (const i of parsed.error.issues)
        ctx.addIssue({ code: 'custom', message: i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message });
      return z.NEVER;
    });
}

export const profitabilityConfigShape = {
  /** Hashprice: a fixed value or an HTTP JSON feed (services/energy/prices/hashprice-feed.ts). */
  HASHPRICE_SOURCE: jsonSetting(hashpriceSourceSchema, '{"kind":"fixed","value":0.05,"currency":"USD"}'),
  /** How often an HTTP hashprice feed is fetched. */
  HASHPRICE_REFRESH_MS: cfg.int(10 * 60_000, 10_000, 86_400_000),
  /** A hashprice older than this is reported stale (answers still use it and say so). */
  HASHPRICE_MAX_AGE_MS: cfg.int(3 * 3_600_000, 60_000, 7 * 86_400_000),
  /** Energy price for profitability: a fixed price or a time-of-use tariff. */
  ENERGY_PRICE_SOURCE: jsonSetting(energyPriceSourceSchema, '{"kind":"fixed","price_per_mwh":60,"currency":"USD"}'),
};

export const profitabilityConfigSchema = z.object(profitabilityConfigShape);
export type ProfitabilityConfig = z.output<typeof profitabilityConfigSchema>;
