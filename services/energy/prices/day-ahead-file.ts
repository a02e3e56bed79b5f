import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { FleetError } from '../../../core/errors.ts';
import { parseInput } from '../parse-input.ts';
import { currencySchema, makePriceCurve, type PriceCurve } from '../price-curve.ts';
import { pointOptionsSchema, pointsToIntervals, type PointOptions } from './price-points.ts';

/**
 * Day-ahead prices from a file, CSV or JSON.
 *
 * CSV: a header row naming the columns `start`, `price` and optionally `end` (any order, other
 * columns ignored), comma or semicolon separated, `#` comment lines and blank lines skipped:
 *
 * ```csv
 * start,end,price
 * 2026-12-07T00:00:00+01:00,2026-12-07T01:00:00+01:00,92.4
 * 2026-12-07T01:00:00+01:00,2026-12-07T02:00:00+01:00,88.10
 * ```
 *
 * JSON: `{ "currency": "EUR", "price_unit": "mwh", "interval_minutes": 60,
 *          "prices": [ { "start": "2026-12-07T00:00:00Z", "price": 92.4, "end": "…" } ] }`
 * (`end` optional; without it a price lasts until the next start, or `interval_minutes`).
 *
 * Currency and units come from the options for CSV and from the file (else the options) for JSON.
 */

export const dayAheadOptionsSchema = z.object({
  currency: currencySchema,
  ...pointOptionsSchema.shape,
});
export type DayAheadOptions = z.output<typeof dayAheadOptionsSchema>;

const jsonFileSchema = z.object({
  currency: currencySchema.optional(),
  ...pointOptionsSchema.partial().shape,
  prices: z
    .array(
      z.object({
        start: z.union([z.string(), z.number()], { error: 'expected start as an ISO 8601 string or an epoch number' }),
        end: z.union([z.string(), z.number()]).optional(),
        price: z.union([z.number(), z.string()], { error: 'expected price as a number' }),
      }),
      { error: 'expected "prices": an array of { start, price, end? }' },
    )
    .min(1, { error: 'expected at least one price' }),
});

const MAX_FILE_BYTES = 10 * 1024 * 1024;

function splitCsvLine(line: string, sep: string): string[] {
  // No quoting: day-ahead files hold times and numbers, neither contains the separator.
  return line.split(sep).map(c => c.trim().replace(/^"(.*)"$/, '$1'));
}

export function parseDayAheadCsv(text: string, options: DayAheadOptions, source = 'csv', fetched_at_ms = Date.now()): PriceCurve {
  const lines = text.split(/\r?\n/).map((l, i) => ({ l: l.trim(), n: i + 1 })).filter(x => x.l !== '' && !x.l.startsWith('#'));
  const header = lines[0];
  if (!header) throw new FleetError('invalid_argument', `${source}: the file is empty; expected a header row "start,price[,end]" and one row per interval`);
  const sep = header.l.includes(';') && !header.l.includes(',') ? ';' : ',';
  const cols = splitCsvLine(header.l, sep).map(c => c.toLowerCase());
  const iStart = cols.indexOf('start');
  const iPrice = cols.indexOf('price');
  const iEnd = cols.indexOf('end');
  if (iStart < 0 || iPrice < 0) {
    throw new FleetError('invalid_argument', `${source}: line ${header.n}: header is "${header.l}"; expected columns named start and price (and optionally end)`);
  }
  const rows = lines.slice(1);
  if (rows.length === 0) throw new FleetError('invalid_argument', `${source}: no price rows after the header`);
  const points = rows.map(({ l, n }) => {
    const cells = splitCsvLine(l, sep);
    if (cells.length < cols.length) {
      throw new FleetError('invalid_argument', `${source}: line ${n}: ${cells.length} columns; expected ${cols.length} like the header`);
    }
    return { time: cells[iStart], price: cells[iPrice], ...(iEnd >= 0 ? { end: cells[iEnd] } : {}) };
  });
  const opts: PointOptions = options;
  const intervals = pointsToIntervals(points, opts, i => `${source}: line ${rows[i]!.n}`);
  return makePriceCurve(intervals, { currency: options.currency, source, fetched_at_ms });
}

export function parseDayAheadJson(body: unknown, options: Partial<DayAheadOptions>, source = 'json', fetched_at_ms = Date.now()): PriceCurve {
  const file = parseInput(jsonFileSchema, body, source);
  const currency = file.currency ?? options.currency;
  if (currency === undefined) throw new FleetError('invalid_argument', `${source}: no currency; expected "currency" in the file or in the options`);
  const opts = parseInput(pointOptionsSchema, { ...stripUndefined(options), ...stripUndefined(file), prices: undefined }, source);
  const intervals = pointsToIntervals(
    file.prices.map(p => ({ time: p.start, price: p.price, end: p.end })),
    opts,
    i => `${source}: prices.${i}`,
  );
  return makePriceCurve(intervals, { currency, source, fetched_at_ms });
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([k, v]) => v !== undefined && k !== 'currency' && k !== 'prices')) as Partial<T>;
}

/** Reads a .csv or .json file; fetched_at_ms is the file's modification time. */
export async function readDayAheadFile(file: string, options: Partial<DayAheadOptions>): Promise<PriceCurve> {
  const st = await stat(file).catch((err: unknown) => {
    throw new FleetError('not_found', `day-ahead file ${path.basename(file)}: cannot read it`, { cause: err });
  });
  if (st.size > MAX_FILE_BYTES) throw new FleetError('invalid_argument', `day-ahead file ${path.basename(file)}: ${st.size} bytes; expected at most ${MAX_FILE_BYTES}`);
  const text = await readFile(file, 'utf8');
  const source = `file:${path.basename(file)}`;
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv') return parseDayAheadCsv(text, parseInput(dayAheadOptionsSchema, options, source), source, Math.round(st.mtimeMs));
  if (ext === '.json') {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      throw new FleetError('invalid_argument', `${source}: not valid JSON; expected { "currency", "prices": [...] }`, { cause: err });
    }
    return parseDayAheadJson(body, options, source, Math.round(st.mtimeMs));
  }
  throw new FleetError('invalid_argument', `${source}: extension "${ext}"; expected .csv or .json`);
}
