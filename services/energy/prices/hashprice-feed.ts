import { z } from 'zod';
import { FleetError } from '../../../core/errors.ts';
import { parseInput } from '../parse-input.ts';
import { currencySchema } from '../price-curve.ts';
import { fetchJson } from './fetch-json.ts';
import { readPath } from './http-feed.ts';

/**
 * Hashprice (revenue per unit of hashrate per day) from a configured value or an HTTP JSON feed.
 *
 * ```json
 * { "kind": "fixed", "value": 0.048, "currency": "USD", "unit": "ths_day" }
 * { "kind": "http", "url": "https://hashprice.example/api/now", "value_path": "data.usd_per_ph_day",
 *   "currency": "USD", "unit": "phs_day", "timeout_ms": 5000 }
 * ```
 *
 * `unit` is per TH/s per day (ths_day) or per PH/s per day (phs_day, as most indices quote it);
 * the result is always per TH/s per day.
 */

const unitSchema = z.enum(['ths_day', 'phs_day'], { error: 'expected ths_day (per TH/s per day) or phs_day (per PH/s per day)' }).default('ths_day');

export const hashpriceSourceSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('fixed'), value: z.number().min(0, { error: 'expected a hashprice >= 0' }), currency: currencySchema, unit: unitSchema }),
    z.strictObject({
      kind: z.literal('http'),
      url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }),
      value_path: z.string().min(1, { error: 'expected the path of the hashprice in the JSON answer' }),
      currency: currencySchema,
      unit: unitSchema,
      timeout_ms: z.number().int().positive().max(120_000).default(10_000),
    }),
  ],
  { error: 'expected kind "fixed" or "http"' },
);
export type HashpriceSource = z.output<typeof hashpriceSourceSchema>;

export interface Hashprice {
  per_ths_day: number;
  currency: string;
  source: string;
  fetched_at_ms: number;
}

export function parseHashpriceSource(input: unknown): HashpriceSource {
  return parseInput(hashpriceSourceSchema, input, 'hashprice source');
}

const perThs = (v: number, unit: 'ths_day' | 'phs_day') => (unit === 'phs_day' ? v / 1000 : v);

export async function readHashprice(src: HashpriceSource, opts: { now?: () => number } = {}): Promise<Hashprice> {
  const now = opts.now ?? Date.now;
  if (src.kind === 'fixed') return { per_ths_day: perThs(src.value, src.unit), currency: src.currency, source: 'fixed', fetched_at_ms: now() };
  const host = new URL(src.url).host;
  const body = await fetchJson(src.url, src.timeout_ms, 'hashprice feed');
  const raw = readPath(body, src.value_path);
  const v = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
  if (!Number.isFinite(v) || v < 0) {
    throw new FleetError('unavailable', `hashprice feed ${host}: "${src.value_path}" is ${raw === undefined ? 'missing' : JSON.stringify(raw)}; expected a number >= 0`);
  }
  return { per_ths_day: perThs(v, src.unit), currency: src.currency, source: `http:${host}`, fetched_at_ms: now() };
}
