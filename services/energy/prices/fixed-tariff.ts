import { z } from 'zod';
import { FleetError } from '../../../core/errors.ts';
import { parseInput } from '../parse-input.ts';
import { currencySchema, makePriceCurve, type PriceCurve, type PriceInterval } from '../price-curve.ts';

/**
 * Fixed tariff with time-of-use periods. JSON config:
 *
 * ```json
 * {
 *   "name": "day-night",
 *   "currency": "EUR",
 *   "timezone": "Europe/Prague",
 *   "default_price_per_mwh": 80,
 *   "periods": [
 *     { "days": ["mon","tue","wed","thu","fri"], "from_hour": 7, "to_hour": 21, "price_per_mwh": 140 },
 *     { "days": ["sat","sun"], "from_hour": 17, "to_hour": 20, "price_per_mwh": 120 }
 *   ]
 * }
 * ```
 *
 * Hours are local wall-clock hours in `timezone`, [from_hour, to_hour) with to_hour up to 24;
 * a period with from_hour > to_hour wraps past midnight (22 → 6) and belongs to the day it
 * starts on. The first matching period wins; hours no period covers cost default_price_per_mwh.
 */

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
type DayName = (typeof DAY_NAMES)[number];

function validTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const periodSchema = z
  .strictObject({
    days: z
      .array(z.enum(DAY_NAMES, { error: 'expected a weekday: sun, mon, tue, wed, thu, fri or sat' }))
      .min(1, { error: 'expected at least one weekday' })
      .default([...DAY_NAMES]),
    from_hour: z.number().int({ error: 'expected a whole hour 0..23' }).min(0, { error: 'expected a whole hour 0..23' }).max(23, { error: 'expected a whole hour 0..23' }),
    to_hour: z.number().int({ error: 'expected a whole hour 1..24' }).min(1, { error: 'expected a whole hour 1..24' }).max(24, { error: 'expected a whole hour 1..24' }),
    price_per_mwh: z.number({ error: 'expected a price per MWh (a number)' }).finite(),
  })
  .refine(p => p.from_hour !== p.to_hour, { error: 'expected from_hour and to_hour to differ (an empty period)' });

export const fixedTariffSchema = z.strictObject({
  name: z.string().min(1).max(128).default('tariff'),
  currency: currencySchema,
  timezone: z.string().default('UTC').refine(validTimezone, { error: 'expected an IANA timezone such as Europe/Prague or UTC' }),
  default_price_per_mwh: z.number({ error: 'expected a price per MWh for hours no period covers' }).finite(),
  periods: z.array(periodSchema).max(200).default([]),
});

export type FixedTariffConfig = z.output<typeof fixedTariffSchema>;

export function parseFixedTariff(input: unknown): FixedTariffConfig {
  return parseInput(fixedTariffSchema, input, 'fixed tariff');
}

// Every timezone offset in use is a multiple of 15 minutes, so local hour boundaries fall on UTC
// quarter hours: stepping by 15 minutes finds every boundary.
const STEP_MS = 15 * 60_000;

function localClock(fmt: Intl.DateTimeFormat, t: number): { day: number; hour: number } {
  let weekday = '';
  let hour = 0;
  for (const p of fmt.formatToParts(t)) {
    if (p.type === 'weekday') weekday = p.value.toLowerCase();
    else if (p.type === 'hour') hour = Number(p.value) % 24;
  }
  return { day: DAY_NAMES.indexOf(weekday as DayName), hour };
}

function priceAt(cfg: FixedTariffConfig, day: number, hour: number): number {
  for (const p of cfg.periods) {
    const days = p.days.map(d => DAY_NAMES.indexOf(d));
    if (p.from_hour < p.to_hour) {
      if (days.includes(day) && hour >= p.from_hour && hour < p.to_hour) return p.price_per_mwh;
    } else {
      // wraps midnight: the evening part on the listed day, the morning part on the day after
      if (days.includes(day) && hour >= p.from_hour) return p.price_per_mwh;
      if (days.includes((day + 6) % 7) && hour < p.to_hour) return p.price_per_mwh;
    }
  }
  return cfg.default_price_per_mwh;
}

/** The tariff as a price curve over [from_ms, to_ms), equal neighbouring hours merged. */
export function fixedTariffCurve(cfg: FixedTariffConfig, range: { from_ms: number; to_ms: number; now_ms: number }): PriceCurve {
  if (!(range.to_ms > range.from_ms)) {
    throw new FleetError('invalid_argument', 'fixed tariff: expected to_ms after from_ms');
  }
  const fmt = new Intl.DateTimeFormat('en-US', { timeZone: cfg.timezone, weekday: 'short', hour: '2-digit', hourCycle: 'h23' });
  const intervals: PriceInterval[] = [];
  let t = Math.floor(range.from_ms / STEP_MS) * STEP_MS;
  while (t < range.to_ms) {
    const { day, hour } = localClock(fmt, t);
    const price = priceAt(cfg, day, hour);
    const start = Math.max(t, range.from_ms);
    const end = Math.min(t + STEP_MS, range.to_ms);
    const last = intervals.at(-1);
    if (last && last.price_per_mwh === price && last.end_ms === start) last.end_ms = end;
    else intervals.push({ start_ms: start, end_ms: end, price_per_mwh: price });
    t += STEP_MS;
  }
  // A tariff is known in advance and never goes stale; it is "fetched" whenever it is asked.
  return makePriceCurve(intervals, { currency: cfg.currency, source: `tariff:${cfg.name}`, fetched_at_ms: range.now_ms });
}
