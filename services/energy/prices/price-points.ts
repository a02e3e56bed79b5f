import { z } from 'zod';
import { FleetError } from '../../../core/errors.ts';
import type { PriceInterval } from '../price-curve.ts';

/**
 * Shared by the feed and file adapters: turns rows of (time, price[, end]) into intervals.
 * Times are ISO 8601 with an offset or `Z`, or epoch numbers (`time_format`); prices are per
 * MWh or per kWh (`price_unit`, converted to per MWh).
 */

export const TIME_FORMATS = ['auto', 'iso', 'epoch_s', 'epoch_ms'] as const;
export type TimeFormat = (typeof TIME_FORMATS)[number];
export const PRICE_UNITS = ['mwh', 'kwh'] as const;
export type PriceUnit = (typeof PRICE_UNITS)[number];

export const pointOptionsSchema = z.object({
  time_format: z.enum(TIME_FORMATS, { error: 'expected auto, iso, epoch_s or epoch_ms' }).default('auto'),
  price_unit: z.enum(PRICE_UNITS, { error: 'expected mwh or kwh (the price is per MWh or per kWh)' }).default('mwh'),
  /** Length of each interval when rows have no end; otherwise each row ends where the next starts. */
  interval_minutes: z.number().positive().max(24 * 60).optional(),
});
export type PointOptions = z.output<typeof pointOptionsSchema>;

export interface RawPoint {
  time: unknown;
  price: unknown;
  end?: unknown;
}

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i;

function bad(where: string, message: string): FleetError {
  return new FleetError('invalid_argument', `${where}: ${message}`);
}

export function parseTimeValue(value: unknown, format: TimeFormat, where: string): number {
  if (typeof value === 'number' || (typeof value === 'string' && format.startsWith('epoch') && /^\d+(\.\d+)?$/.test(value.trim()))) {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw bad(where, `time ${JSON.stringify(value)} is not a valid epoch number`);
    if (format === 'iso') throw bad(where, `time ${JSON.stringify(value)} is a number; expected an ISO 8601 string (time_format is iso)`);
    // auto: seconds until the year 5138, milliseconds after 1973; nothing real sits in between
    const asSeconds = format === 'epoch_s' || (format === 'auto' && n < 1e11);
    return Math.round(asSeconds ? n * 1000 : n);
  }
  if (typeof value === 'string') {
    const s = value.trim();
    if (format.startsWith('epoch')) throw bad(where, `time ${JSON.stringify(value)} is not an epoch number (time_format is ${format})`);
    if (!ISO_WITH_ZONE.test(s)) {
      throw bad(where, `time ${JSON.stringify(value)}: expected ISO 8601 with a timezone offset or Z, e.g. 2026-12-07T10:00:00Z`);
    }
    const t = Date.parse(s);
    if (Number.isNaN(t)) throw bad(where, `time ${JSON.stringify(value)} is not a valid date`);
    return t;
  }
  throw bad(where, `time is ${value === undefined ? 'missing' : JSON.stringify(value)}; expected an ISO 8601 string or an epoch number`);
}

export function parsePriceValue(value: unknown, unit: PriceUnit, where: string): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value.trim()) : Number.NaN;
  if (!Number.isFinite(n)) {
    throw bad(where, `price is ${value === undefined ? 'missing' : JSON.stringify(value)}; expected a number (per ${unit === 'kwh' ? 'kWh' : 'MWh'})`);
  }
  return unit === 'kwh' ? n * 1000 : n;
}

/** Rows → intervals; `where(i)` names row i in error messages (`feed item 3`, `line 5`). */
export function pointsToIntervals(points: readonly RawPoint[], opts: PointOptions, where: (i: number) => string): PriceInterval[] {
  const rows = points.map((p, i) => ({
    start_ms: parseTimeValue(p.time, opts.time_format, where(i)),
    end_ms: p.end === undefined || p.end === null || p.end === '' ? null : parseTimeValue(p.end, opts.time_format, where(i)),
    price_per_mwh: parsePriceValue(p.price, opts.price_unit, where(i)),
    i,
  }));
  rows.sort((a, b) => a.start_ms - b.start_ms);
  const fixedMs = opts.interval_minutes === undefined ? null : opts.interval_minutes * 60_000;
  const out: PriceInterval[] = [];
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k]!;
    let end = r.end_ms ?? (fixedMs !== null ? r.start_ms + fixedMs : null);
    if (end === null) {
      const next = rows[k + 1];
      const prev = rows[k - 1];
      if (next) end = next.start_ms;
      else if (prev) end = r.start_ms + (r.start_ms - prev.start_ms);
      else throw bad(where(r.i), 'a single price without an end; expected an end time or interval_minutes');
    }
    if (!(end > r.start_ms)) throw bad(where(r.i), 'the interval ends before it starts (or two rows share a start time); expected increasing times');
    out.push({ start_ms: r.start_ms, end_ms: end, price_per_mwh: r.price_per_mwh });
  }
  return out;
}
