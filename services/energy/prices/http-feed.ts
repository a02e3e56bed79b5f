import { z } from 'zod';
import { FleetError, isFleetError } from '../../../core/errors.ts';
import { parseInput } from '../parse-input.ts';
import { currencySchema, makePriceCurve, type PriceCurve } from '../price-curve.ts';
import { fetchJson } from './fetch-json.ts';
import { pointOptionsSchema, pointsToIntervals, type RawPoint } from './price-points.ts';

/**
 * HTTP JSON price feed. Config:
 *
 * ```json
 * {
 *   "url": "https://prices.example/api/day-ahead?area=CZ",
 *   "items_path": "data.prices",
 *   "time_path": "start",
 *   "end_path": "end",
 *   "price_path": "value.eur_mwh",
 *   "currency": "EUR",
 *   "price_unit": "mwh",
 *   "time_format": "auto",
 *   "timeout_ms": 5000
 * }
 * ```
 *
 * For that config the feed answers `{"data":{"prices":[{"start":"2026-12-07T10:00:00Z",
 * "end":"2026-12-07T11:00:00Z","value":{"eur_mwh":95.1}}, …]}}`. Paths are dot separated
 * (array indexes as numbers); `items_path` "" means the body itself is the array. Without
 * `end_path` an item lasts until the next one starts (or `interval_minutes`). Times: ISO 8601
 * with an offset, or epoch seconds/ms. The answer must be 2xx JSON.
 */

export const httpFeedSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }),
  items_path: z.string().default(''),
  time_path: z.string().min(1, { error: 'expected the path of the time field inside each item' }),
  end_path: z.string().min(1).optional(),
  price_path: z.string().min(1, { error: 'expected the path of the price field inside each item' }),
  currency: currencySchema,
  timeout_ms: z.number().int().positive().max(120_000).default(10_000),
  ...pointOptionsSchema.shape,
});

export type HttpFeedConfig = z.output<typeof httpFeedSchema>;

export function parseHttpFeedConfig(input: unknown): HttpFeedConfig {
  return parseInput(httpFeedSchema, input, 'HTTP price feed');
}

/** Reads a dot path (`a.b.0.c`); undefined when any step is missing. "" is the value itself. */
export function readPath(value: unknown, path: string): unknown {
  if (path === '') return value;
  let cur: unknown = value;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

function feedError(cfg: HttpFeedConfig, message: string, cause?: unknown): FleetError {
  // the URL may carry a token in its query: name the host only
  const host = new URL(cfg.url).host;
  return new FleetError('unavailable', `price feed ${host}: ${message}`, { details: { host }, cause });
}

/** Turns a parsed feed body into a price curve; errors say which item and field is wrong. */
export function priceCurveFromFeedBody(cfg: HttpFeedConfig, body: unknown, fetched_at_ms: number): PriceCurve {
  const items = readPath(body, cfg.items_path);
  if (!Array.isArray(items)) {
    throw feedError(cfg, `expected an array at ${cfg.items_path === '' ? 'the top of the answer' : `"${cfg.items_path}"`}, found ${items === undefined ? 'nothing' : typeof items}`);
  }
  const points: RawPoint[] = items.map(item => ({
    time: readPath(item, cfg.time_path),
    price: readPath(item, cfg.price_path),
    ...(cfg.end_path === undefined ? {} : { end: readPath(item, cfg.end_path) }),
  }));
  try {
    const intervals = pointsToIntervals(points, cfg, i => `item ${i} (${cfg.time_path}/${cfg.price_path})`);
    return makePriceCurve(intervals, { currency: cfg.currency, source: `http:${new URL(cfg.url).host}`, fetched_at_ms });
  } catch (err) {
    if (isFleetError(err)) throw feedError(cfg, err.message, err);
    throw err;
  }
}

/** Fetches the feed once (global fetch, aborted after timeout_ms) and parses it. */
export async function fetchHttpPriceFeed(cfg: HttpFeedConfig, opts: { now?: () => number } = {}): Promise<PriceCurve> {
  const body = await fetchJson(cfg.url, cfg.timeout_ms, 'price feed');
  return priceCurveFromFeedBody(cfg, body, (opts.now ?? Date.now)());
}
