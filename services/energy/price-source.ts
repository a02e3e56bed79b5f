import { z } from 'zod';
import { FleetError } from '../../core/errors.ts';
import type { StoredPrices } from '../../store/ports/energy.ts';
import { priceCurveSchema, type PriceCurve } from './price-curve.ts';
import { dayAheadOptionsSchema, parseDayAheadCsv, parseDayAheadJson } from './prices/day-ahead-file.ts';
import { fixedTariffCurve, fixedTariffSchema } from './prices/fixed-tariff.ts';
import { httpFeedSchema } from './prices/http-feed.ts';

/**
 * Where a policy's prices come from. JSON, one of:
 *
 * ```json
 * { "kind": "tariff", "tariff": { …fixed tariff, see prices/fixed-tariff.ts… } }
 * { "kind": "http", "feed": { …HTTP JSON feed, see prices/http-feed.ts… }, "poll_minutes": 15 }
 * { "kind": "day_ahead", "format": "csv", "content": "start,price\n…", "options": { "currency": "EUR" } }
 * { "kind": "none" }
 * ```
 *
 * A day-ahead file is uploaded as the source's content (no path on the server is read). `none`
 * leaves every time without a price: the policy's fallback decides (demand response only).
 */
export const priceSourceSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('tariff'), tariff: fixedTariffSchema }),
    z.strictObject({
      kind: z.literal('http'),
      feed: httpFeedSchema,
      poll_minutes: z.number({ error: 'expected poll_minutes as a number' }).min(0.05).max(24 * 60).default(15),
    }),
    z.strictObject({
      kind: z.literal('day_ahead'),
      format: z.enum(['csv', 'json'], { error: 'expected format csv or json' }),
      content: z.union([z.string().max(5_000_000), z.record(z.string(), z.unknown())], { error: 'expected content: the CSV text, or the JSON document' }),
      options: dayAheadOptionsSchema.partial().default({}),
    }),
    z.strictObject({ kind: z.literal('none') }),
  ],
  { error: 'expected price_source.kind: tariff, http, day_ahead or none' },
);
export type PriceSource = z.output<typeof priceSourceSchema>;

/** Checks a day-ahead upload parses now, so a bad file is refused when given, not at a window. */
export function checkPriceSource(src: PriceSource, now_ms: number): void {
  if (src.kind === 'day_ahead') dayAheadCurve(src, now_ms);
}

function dayAheadCurve(src: Extract<PriceSource, { kind: 'day_ahead' }>, fetched_at_ms: number): PriceCurve {
  if (src.format === 'csv') {
    if (typeof src.content !== 'string') throw new FleetError('invalid_argument', 'price_source.content: expected the CSV text for format csv');
    if (src.options.currency === undefined) throw new FleetError('invalid_argument', 'price_source.options.currency: expected a currency for a CSV day-ahead file');
    return parseDayAheadCsv(src.content, { time_format: 'auto', price_unit: 'mwh', ...src.options, currency: src.options.currency }, 'day-ahead csv', fetched_at_ms);
  }
  const body = typeof src.content === 'string' ? parseJsonText(src.content) : src.content;
  return parseDayAheadJson(body, src.options, 'day-ahead json', fetched_at_ms);
}

function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new FleetError('invalid_argument', 'price_source.content: not valid JSON; expected { "currency", "prices": [...] }', { cause: err });
  }
}

const DAY_MS = 86_400_000;

export interface CurveAt {
  curve: PriceCurve | null;
  /** when prices went missing altogether (anchors the fallback window's id) */
  missing_since_ms: number | null;
}

/**
 * The curve a plan at `now_ms` uses. A tariff is laid out from two days back (at a UTC day
 * boundary) so an expensive period's start, which a window id is anchored to, is the same at
 * every evaluation. A day-ahead upload counts as fetched when it was uploaded.
 */
export function curveAt(src: PriceSource, o: { now_ms: number; to_ms: number; uploaded_ms: number; stored: StoredPrices | null; created_ms: number }): CurveAt {
  switch (src.kind) {
    case 'tariff': {
      const from = Math.floor(o.now_ms / DAY_MS) * DAY_MS - 2 * DAY_MS;
      return { curve: fixedTariffCurve(src.tariff, { from_ms: from, to_ms: Math.max(o.to_ms, o.now_ms + DAY_MS), now_ms: o.now_ms }), missing_since_ms: null };
    }
    case 'day_ahead':
      return { curve: dayAheadCurve(src, o.uploaded_ms), missing_since_ms: null };
    case 'http': {
      const parsed = o.stored?.curve ? priceCurveSchema.safeParse(o.stored.curve) : null;
      if (parsed?.success) return { curve: parsed.data, missing_since_ms: null };
      return { curve: null, missing_since_ms: o.stored?.missing_since_ms ?? o.created_ms };
    }
    case 'none':
      return { curve: null, missing_since_ms: o.created_ms };
  }
}
