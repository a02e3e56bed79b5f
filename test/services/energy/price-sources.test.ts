import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PriceIntegral, makePriceCurve, resolvePrices } from '../../../services/energy/price-curve.ts';
import { parseDayAheadCsv, parseDayAheadJson, readDayAheadFile } from '../../../services/energy/prices/day-ahead-file.ts';
import { fixedTariffCurve, parseFixedTariff } from '../../../services/energy/prices/fixed-tariff.ts';

const HOUR = 3_600_000;

describe('fixed tariff with time-of-use periods', () => {
  const cfg = parseFixedTariff({
    name: 'day-night',
    currency: 'eur',
    timezone: 'Europe/Prague',
    default_price_per_mwh: 80,
    periods: [
      { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from_hour: 7, to_hour: 21, price_per_mwh: 140 },
      { days: ['sun'], from_hour: 22, to_hour: 6, price_per_mwh: 40 },
    ],
  });

  it('follows local hours and weekdays in its timezone', () => {
    // Sunday 2026-12-06 00:00 Prague (UTC+1) = Saturday 23:00 UTC; two days
    const from = Date.UTC(2026, 11, 5, 23, 0, 0);
    const curve = fixedTariffCurve(cfg, { from_ms: from, to_ms: from + 48 * HOUR, now_ms: 7 });
    expect(curve.source).toBe('tariff:day-night');
    expect(curve.currency).toBe('EUR');
    expect(curve.fetched_at_ms).toBe(7);
    const local = (h: number) => from + h * HOUR; // hours after Sunday 00:00 local
    expect(curve.intervals).toEqual([
      { start_ms: local(0), end_ms: local(22), price_per_mwh: 80 }, // Sunday
      { start_ms: local(22), end_ms: local(24 + 6), price_per_mwh: 40 }, // Sunday night into Monday
      { start_ms: local(24 + 6), end_ms: local(24 + 7), price_per_mwh: 80 },
      { start_ms: local(24 + 7), end_ms: local(24 + 21), price_per_mwh: 140 }, // Monday day
      { start_ms: local(24 + 21), end_ms: local(48), price_per_mwh: 80 },
    ]);
  });

  it('keeps local hours across a daylight-saving change', () => {
    // Monday 2026-03-30 in Prague is CEST (UTC+2) after the change on Sunday 29 March
    const from = Date.UTC(2026, 2, 29, 22, 0, 0); // Monday 00:00 local
    const curve = fixedTariffCurve(cfg, { from_ms: from, to_ms: from + 24 * HOUR, now_ms: 0 });
    expect(curve.intervals.find(i => i.price_per_mwh === 140)).toEqual({ start_ms: from + 7 * HOUR, end_ms: from + 21 * HOUR, price_per_mwh: 140 });
    // and the Sunday night period before it ends at 06:00 CEST = 04:00 UTC
    expect(curve.intervals[0]).toEqual({ start_ms: from, end_ms: from + 6 * HOUR, price_per_mwh: 40 });
  });

  it('handles a timezone with a half-hour offset', () => {
    const india = parseFixedTariff({ currency: 'INR', timezone: 'Asia/Kolkata', default_price_per_mwh: 1, periods: [{ from_hour: 0, to_hour: 1, price_per_mwh: 2 }] });
    // 00:00 in Kolkata (UTC+5:30) is 18:30 UTC the day before
    const from = Date.UTC(2026, 11, 6, 18, 0, 0);
    const curve = fixedTariffCurve(india, { from_ms: from, to_ms: from + 2 * HOUR, now_ms: 0 });
    expect(curve.intervals.map(i => [i.start_ms - from, i.end_ms - from, i.price_per_mwh])).toEqual([
      [0, HOUR / 2, 1],
      [HOUR / 2, HOUR + HOUR / 2, 2],
      [HOUR + HOUR / 2, 2 * HOUR, 1],
    ]);
  });

  it('refuses a bad config saying what is expected', () => {
    expect(() => parseFixedTariff({ currency: 'EUR', default_price_per_mwh: 1, timezone: 'Mars/Olympus' })).toThrow(/timezone: expected an IANA timezone/);
    expect(() => parseFixedTariff({ currency: 'EUR', default_price_per_mwh: 1, periods: [{ days: ['monday'], from_hour: 1, to_hour: 2, price_per_mwh: 1 }] })).toThrow(
      /periods.0.days.0: expected a weekday: sun, mon/,
    );
    expect(() => parseFixedTariff({ currency: 'EUR', default_price_per_mwh: 1, periods: [{ from_hour: 24, to_hour: 2, price_per_mwh: 1 }] })).toThrow(/periods.0.from_hour: expected a whole hour 0..23/);
    expect(() => parseFixedTariff({ currency: 'EUR' })).toThrow(/default_price_per_mwh: expected a price per MWh/);
  });
});

describe('day-ahead file', () => {
  const T = Date.UTC(2026, 11, 7, 0, 0, 0);
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'energy-da-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('CSV with start,end,price, comments and any column order', () => {
    const csv = '# day-ahead CZ\nprice;start;end\n92.4;2026-12-07T01:00:00+01:00;2026-12-07T02:00:00+01:00\n\n88.1;2026-12-07T02:00:00+01:00;2026-12-07T03:00:00+01:00\n';
    const c = parseDayAheadCsv(csv, { currency: 'EUR', time_format: 'auto', price_unit: 'mwh' }, 'csv', 5);
    expect(c.intervals).toEqual([
      { start_ms: T, end_ms: T + HOUR, price_per_mwh: 92.4 },
      { start_ms: T + HOUR, end_ms: T + 2 * HOUR, price_per_mwh: 88.1 },
    ]);
  });

  it('CSV errors name the line and what is expected', () => {
    const opts = { currency: 'EUR', time_format: 'auto' as const, price_unit: 'mwh' as const };
    expect(() => parseDayAheadCsv('time,value\n1,2\n', opts, 'x.csv')).toThrow(/x.csv: line 1: header is "time,value"; expected columns named start and price/);
    expect(() => parseDayAheadCsv('start,price\n2026-12-07T00:00:00Z,abc\n2026-12-07T01:00:00Z,1\n', opts, 'x.csv')).toThrow(/x.csv: line 2: price is "abc"; expected a number/);
    expect(() => parseDayAheadCsv('start,price\n2026-12-07T00:00:00Z,1\n', opts, 'x.csv')).toThrow(/line 2: a single price without an end; expected an end time or interval_minutes/);
    expect(() => parseDayAheadCsv('', opts, 'x.csv')).toThrow(/the file is empty/);
  });

  it('JSON with interval_minutes and kWh prices', () => {
    const c = parseDayAheadJson(
      { currency: 'usd', price_unit: 'kwh', interval_minutes: 15, prices: [{ start: T, price: 0.05 }, { start: T + HOUR / 4, price: '0.07' }] },
      {},
      'j',
      1,
    );
    expect(c.currency).toBe('USD');
    expect(c.intervals).toEqual([
      { start_ms: T, end_ms: T + HOUR / 4, price_per_mwh: 50 },
      { start_ms: T + HOUR / 4, end_ms: T + HOUR / 2, price_per_mwh: 70 },
    ]);
    expect(() => parseDayAheadJson({ prices: [{ start: T, price: 1 }] }, {}, 'j')).toThrow(/no currency; expected "currency"/);
    expect(() => parseDayAheadJson({ currency: 'EUR', prices: 'x' }, {}, 'j')).toThrow(/prices: expected "prices": an array of \{ start, price, end\? \}/);
  });

  it('reads .csv and .json files; fetched_at is the file time', async () => {
    const csv = path.join(dir, 'da.csv');
    await writeFile(csv, 'start,price\n2026-12-07T00:00:00Z,10\n2026-12-07T01:00:00Z,20\n');
    const c = await readDayAheadFile(csv, { currency: 'EUR' });
    expect(c.source).toBe('file:da.csv');
    expect(c.intervals.map(i => i.price_per_mwh)).toEqual([10, 20]);
    expect(Math.abs(c.fetched_at_ms - Date.now())).toBeLessThan(60_000);
    const json = path.join(dir, 'da.json');
    await writeFile(json, JSON.stringify({ currency: 'EUR', prices: [{ start: '2026-12-07T00:00:00Z', end: '2026-12-07T01:00:00Z', price: 5 }] }));
    expect((await readDayAheadFile(json, {})).intervals).toEqual([{ start_ms: T, end_ms: T + HOUR, price_per_mwh: 5 }]);
    await writeFile(path.join(dir, 'da.txt'), 'x');
    await expect(readDayAheadFile(path.join(dir, 'da.txt'), { currency: 'EUR' })).rejects.toThrow(/expected .csv or .json/);
    await expect(readDayAheadFile(path.join(dir, 'none.csv'), { currency: 'EUR' })).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('price integral', () => {
  it('prices energy over priced time only', () => {
    const curve = makePriceCurve(
      [
        { start_ms: 0, end_ms: HOUR, price_per_mwh: 100 },
        { start_ms: 2 * HOUR, end_ms: 3 * HOUR, price_per_mwh: 300 },
      ],
      { currency: 'EUR', source: 't', fetched_at_ms: 0 },
    );
    const r = resolvePrices(curve, { from_ms: 0, to_ms: 3 * HOUR, now_ms: 0 }, { max_age_ms: HOUR, fallback: 'hold' });
    const pi = new PriceIntegral(r.segments);
    // 2 kW: half an hour at 100 (0.1), an unpriced hour, half an hour at 300 (0.3)
    expect(pi.costOf(2, HOUR / 2, 2.5 * HOUR)).toBeCloseTo(0.1 + 0.3, 12);
    expect(pi.unpricedMs(HOUR / 2, 2.5 * HOUR)).toBe(HOUR);
  });
});
