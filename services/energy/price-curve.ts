import { z } from 'zod';
import { FleetError } from '../../core/errors.ts';

/** One priced interval, [start_ms, end_ms). */
export interface PriceInterval {
  start_ms: number;
  end_ms: number;
  price_per_mwh: number;
}

/**
 * Energy prices over time from one source. Intervals are sorted, do not overlap and may leave
 * gaps (a gap is a time without a known price). Every adapter under prices/ returns this.
 */
export interface PriceCurve {
  intervals: PriceInterval[];
  /** ISO 4217 code as the source gives it, upper case (EUR, USD). */
  currency: string;
  /** Which adapter and which feed, e.g. `http:https://…` or `tariff:night-day`. */
  source: string;
  /** When the prices were obtained; staleness is measured from here. */
  fetched_at_ms: number;
}

export const currencySchema = z
  .string()
  .regex(/^[A-Za-z]{3}$/, { error: 'expected a three-letter currency code such as EUR or USD' })
  .transform(s => s.toUpperCase());

const intervalSchema = z
  .object({
    start_ms: z.number().int(),
    end_ms: z.number().int(),
    price_per_mwh: z.number().finite(),
  })
  .refine(i => i.end_ms > i.start_ms, { error: 'expected end_ms after start_ms' });

export const priceCurveSchema = z.object({
  intervals: z.array(intervalSchema),
  currency: currencySchema,
  source: z.string().min(1),
  fetched_at_ms: z.number().int(),
});

/**
 * Sorts intervals by start and refuses overlaps: two prices for the same minute cannot both be
 * true, and silently picking one would plan on a price nobody published.
 */
export function makePriceCurve(
  intervals: readonly PriceInterval[],
  meta: { currency: string; source: string; fetched_at_ms: number },
): PriceCurve {
  const sorted = [...intervals].sort((a, b) => a.start_ms - b.start_ms || a.end_ms - b.end_ms);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const cur = sorted[i]!;
    if (cur.start_ms < prev.end_ms) {
      throw new FleetError(
        'invalid_argument',
        `${meta.source}: price intervals overlap at ${new Date(cur.start_ms).toISOString()}; expected each time to have one price`,
        { details: { source: meta.source, start_ms: cur.start_ms } },
      );
    }
  }
  return { intervals: sorted, currency: meta.currency.toUpperCase(), source: meta.source, fetched_at_ms: meta.fetched_at_ms };
}

/** What to do when the price for a time is not known (missing) or too old (stale). */
export const PRICE_FALLBACKS = ['hold', 'run', 'curtail'] as const;
export type PriceFallback = (typeof PRICE_FALLBACKS)[number];

export interface StalenessRule {
  /** Prices fetched longer ago than this are stale. */
  max_age_ms: number;
  /** hold: keep the current state; run: no curtailment; curtail: curtail as if above the strike. */
  fallback: PriceFallback;
}

/** A stretch of time and how its price is known. */
export type PriceSegment =
  | { start_ms: number; end_ms: number; basis: 'price'; price_per_mwh: number }
  | { start_ms: number; end_ms: number; basis: 'missing' | 'stale'; fallback: PriceFallback };

export interface ResolvedPrices {
  /** fresh: every segment has a price; otherwise which reason applied somewhere. */
  status: 'fresh' | 'partial' | 'missing' | 'stale';
  /** The fallback applied somewhere in the range, or null when it was never needed. */
  fallback_applied: PriceFallback | null;
  segments: PriceSegment[];
  currency: string | null;
  source: string | null;
  fetched_at_ms: number | null;
}

/**
 * Covers [from_ms, to_ms) with segments: known prices where the curve has them, and the
 * configured fallback, labelled `missing` or `stale`, everywhere else. The fallback is always
 * named in the result so a caller cannot mistake "no price" for "cheap" or "expensive".
 */
export function resolvePrices(
  curve: PriceCurve | null,
  range: { from_ms: number; to_ms: number; now_ms: number },
  rule: StalenessRule,
): ResolvedPrices {
  const { from_ms, to_ms, now_ms } = range;
  if (!(to_ms > from_ms)) return { status: 'fresh', fallback_applied: null, segments: [], currency: curve?.currency ?? null, source: curve?.source ?? null, fetched_at_ms: curve?.fetched_at_ms ?? null };
  const meta = { currency: curve?.currency ?? null, source: curve?.source ?? null, fetched_at_ms: curve?.fetched_at_ms ?? null };
  if (curve === null || curve.intervals.length === 0) {
    return { status: 'missing', fallback_applied: rule.fallback, segments: [{ start_ms: from_ms, end_ms: to_ms, basis: 'missing', fallback: rule.fallback }], ...meta };
  }
  if (now_ms - curve.fetched_at_ms > rule.max_age_ms) {
    return { status: 'stale', fallback_applied: rule.fallback, segments: [{ start_ms: from_ms, end_ms: to_ms, basis: 'stale', fallback: rule.fallback }], ...meta };
  }
  const segments: PriceSegment[] = [];
  let t = from_ms;
  for (const iv of curve.intervals) {
    if (iv.end_ms <= t) continue;
    if (iv.start_ms >= to_ms) break;
    if (iv.start_ms > t) {
      segments.push({ start_ms: t, end_ms: iv.start_ms, basis: 'missing', fallback: rule.fallback });
      t = iv.start_ms;
    }
    const end = Math.min(iv.end_ms, to_ms);
    segments.push({ start_ms: t, end_ms: end, basis: 'price', price_per_mwh: iv.price_per_mwh });
    t = end;
  }
  if (t < to_ms) segments.push({ start_ms: t, end_ms: to_ms, basis: 'missing', fallback: rule.fallback });
  const gaps = segments.some(s => s.basis !== 'price');
  return { status: gaps ? 'partial' : 'fresh', fallback_applied: gaps ? rule.fallback : null, segments, ...meta };
}

/**
 * ∫ price dt over a curve, answered in O(log n) per query from prefix sums, so a plan over
 * thousands of miners can price each miner's off-time without walking the curve again.
 */
export class PriceIntegral {
  private readonly starts: Float64Array;
  private readonly ends: Float64Array;
  private readonly prices: Float64Array;
  /** cum[i] = ∫ price dt over intervals 0..i-1, in price·ms. */
  private readonly cum: Float64Array;
  /** cumMs[i] = priced milliseconds in intervals 0..i-1. */
  private readonly cumMs: Float64Array;

  constructor(segments: readonly PriceSegment[]) {
    const priced = segments.filter((s): s is Extract<PriceSegment, { basis: 'price' }> => s.basis === 'price');
    this.starts = Float64Array.from(priced, s => s.start_ms);
    this.ends = Float64Array.from(priced, s => s.end_ms);
    this.prices = Float64Array.from(priced, s => s.price_per_mwh);
    this.cum = new Float64Array(priced.length + 1);
    this.cumMs = new Float64Array(priced.length + 1);
    for (let i = 0; i < priced.length; i++) {
      const len = this.ends[i]! - this.starts[i]!;
      this.cum[i + 1] = this.cum[i]! + this.prices[i]! * len;
      this.cumMs[i + 1] = this.cumMs[i]! + len;
    }
  }

  /** How many priced intervals start before t. */
  private countStartingBefore(t: number): number {
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** ∫ price dt up to t (price·ms), counting only priced time. */
  private upTo(t: number): number {
    const lo = this.countStartingBefore(t);
    // intervals 0..lo-1 start before t; the last of them may be cut by t
    if (lo === 0) return 0;
    const i = lo - 1;
    return this.cum[i]! + this.prices[i]! * (Math.min(t, this.ends[i]!) - this.starts[i]!);
  }

  /** Energy cost in currency of `kw` kW drawn over [a, b), priced time only. */
  costOf(kw: number, a_ms: number, b_ms: number): number {
    if (!(b_ms > a_ms)) return 0;
    // price/MWh · kW · ms → currency: kW·ms / (1000 kW/MW · 3.6e6 ms/h)
    return (kw * (this.upTo(b_ms) - this.upTo(a_ms))) / 3.6e9;
  }

  /** Milliseconds of [a, b) that have no known price. */
  unpricedMs(a_ms: number, b_ms: number): number {
    if (!(b_ms > a_ms)) return 0;
    return b_ms - a_ms - (this.pricedUpTo(b_ms) - this.pricedUpTo(a_ms));
  }

  private pricedUpTo(t: number): number {
    const lo = this.countStartingBefore(t);
    if (lo === 0) return 0;
    const i = lo - 1;
    return this.cumMs[i]! + (Math.min(t, this.ends[i]!) - this.starts[i]!);
  }
}
