import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFleetError } from '../../../core/errors.ts';
import { parseHashpriceSource, readHashprice } from '../../../services/energy/prices/hashprice-feed.ts';
import { fetchHttpPriceFeed, parseHttpFeedConfig } from '../../../services/energy/prices/http-feed.ts';

// The HTTP JSON feed adapter against a real server on 127.0.0.1: good, malformed and slow answers.

const HOUR = 3_600_000;
const T = Date.UTC(2026, 11, 7, 0, 0, 0);

const routes: Record<string, (res: http.ServerResponse) => void> = {
  '/ok': res => {
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        data: {
          prices: [
            { start: '2026-12-07T01:00:00Z', value: { eur_mwh: 120.5 } },
            { start: '2026-12-07T00:00:00Z', value: { eur_mwh: 80 } },
            { start: '2026-12-07T03:00:00+01:00', value: { eur_mwh: '95' } },
          ],
        },
      }),
    );
  },
  '/kwh-epoch': res => res.end(JSON.stringify([{ t: T / 1000, p: 0.1 }, { t: T / 1000 + 3600, p: 0.25 }])),
  '/dup': res => res.end(JSON.stringify({ data: { prices: [{ start: '2026-12-07T01:00:00Z', end: '2026-12-07T02:00:00Z', value: { eur_mwh: 1 } }, { start: '2026-12-07T02:00:00+01:00', end: '2026-12-07T03:00:00+01:00', value: { eur_mwh: 2 } }] } })),
  '/hashprice': res => res.end(JSON.stringify({ data: { usd_per_ph_day: 48.5 } })),
  '/not-json': res => res.end('<html>maintenance</html>'),
  '/no-array': res => res.end(JSON.stringify({ data: { prices: { oops: 1 } } })),
  '/bad-price': res => res.end(JSON.stringify({ data: { prices: [{ start: '2026-12-07T00:00:00Z', value: { eur_mwh: 'n/a' } }, { start: '2026-12-07T01:00:00Z', value: { eur_mwh: 1 } }] } })),
  '/no-zone': res => res.end(JSON.stringify({ data: { prices: [{ start: '2026-12-07T00:00:00', value: { eur_mwh: 1 } }] } })),
  '/500': res => {
    res.statusCode = 500;
    res.end('{}');
  },
  // headers never come
  '/slow': () => undefined,
  // headers come, the body stalls half way
  '/slow-body': res => {
    res.setHeader('content-type', 'application/json');
    res.write('{"data":{"prices":[');
  },
};

let server: http.Server;
let base = '';

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const route = routes[req.url ?? ''];
    if (route) route(res);
    else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>(resolve => server.close(() => resolve()));
});

const cfg = (path: string, over: Record<string, unknown> = {}) =>
  parseHttpFeedConfig({ url: `${base}${path}`, items_path: 'data.prices', time_path: 'start', price_path: 'value.eur_mwh', currency: 'eur', timeout_ms: 2000, ...over });

async function failure(p: Promise<unknown>) {
  try {
    await p;
  } catch (err) {
    if (isFleetError(err)) return err;
    throw err;
  }
  throw new Error('expected the feed to fail');
}

describe('HTTP JSON price feed', () => {
  it('parses a feed into a sorted curve; each item lasts until the next', async () => {
    const curve = await fetchHttpPriceFeed(cfg('/ok'), { now: () => 42 });
    expect(curve).toEqual({
      currency: 'EUR',
      source: `http:${new URL(base).host}`,
      fetched_at_ms: 42,
      intervals: [
        { start_ms: T, end_ms: T + HOUR, price_per_mwh: 80 },
        { start_ms: T + HOUR, end_ms: T + 2 * HOUR, price_per_mwh: 120.5 },
        // 03:00+01:00 is 02:00Z; the last item lasts as long as the one before it
        { start_ms: T + 2 * HOUR, end_ms: T + 3 * HOUR, price_per_mwh: 95 },
      ],
    });
  });

  it('reads a top-level array, epoch seconds and prices per kWh', async () => {
    const curve = await fetchHttpPriceFeed(cfg('/kwh-epoch', { items_path: '', time_path: 't', price_path: 'p', price_unit: 'kwh', interval_minutes: 60 }));
    expect(curve.intervals).toEqual([
      { start_ms: T, end_ms: T + HOUR, price_per_mwh: 100 },
      { start_ms: T + HOUR, end_ms: T + 2 * HOUR, price_per_mwh: 250 },
    ]);
  });

  it('refuses two prices for the same time', async () => {
    const err = await failure(fetchHttpPriceFeed(cfg('/dup', { end_path: 'end' })));
    expect(err.code).toBe('unavailable');
    expect(err.message).toMatch(/overlap .* expected each time to have one price/);
  });

  it.each([
    ['/not-json', /the answer is not JSON; expected a JSON body/],
    ['/no-array', /expected an array at "data.prices", found object/],
    ['/bad-price', /item 0 .*: price is "n\/a"; expected a number \(per MWh\)/],
    ['/no-zone', /expected ISO 8601 with a timezone offset or Z/],
    ['/500', /answered HTTP 500; expected 2xx/],
    ['/missing', /answered HTTP 404/],
  ])('malformed answer %s fails saying what is wrong and what is expected', async (path, message) => {
    const err = await failure(fetchHttpPriceFeed(cfg(path)));
    expect(err.code).toBe('unavailable');
    expect(err.message).toMatch(message);
    expect(err.message).toContain(new URL(base).host);
  });

  it.each(['/slow', '/slow-body'])('a slow answer (%s) times out after timeout_ms', async path => {
    const started = performance.now();
    const err = await failure(fetchHttpPriceFeed(cfg(path, { timeout_ms: 300 })));
    const took = performance.now() - started;
    expect(err.code).toBe('timeout');
    expect(err.message).toMatch(/no complete answer within 300 ms/);
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(5000);
  });

  it('a closed port fails as unavailable', async () => {
    const closed = http.createServer();
    await new Promise<void>(r => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>(r => closed.close(() => r()));
    const err = await failure(fetchHttpPriceFeed(parseHttpFeedConfig({ url: `http://127.0.0.1:${port}/x`, time_path: 't', price_path: 'p', currency: 'EUR' })));
    expect(err.code).toBe('unavailable');
  });

  it('refuses a bad config saying what is expected', () => {
    expect(() => parseHttpFeedConfig({ url: 'ftp://x/y', time_path: 't', price_path: 'p', currency: 'EUR' })).toThrow(/url: expected an http:\/\/ or https:\/\/ URL/);
    expect(() => parseHttpFeedConfig({ url: 'http://x/y', time_path: 't', price_path: 'p', currency: 'euro' })).toThrow(/currency: expected a three-letter currency code/);
    expect(() => parseHttpFeedConfig({ url: 'http://x/y', price_path: 'p', currency: 'EUR' })).toThrow(/time_path/);
  });
});

describe('hashprice source', () => {
  it('reads a feed quoted per PH/s per day as per TH/s per day', async () => {
    const src = parseHashpriceSource({ kind: 'http', url: `${base}/hashprice`, value_path: 'data.usd_per_ph_day', currency: 'USD', unit: 'phs_day' });
    expect(await readHashprice(src, { now: () => 9 })).toEqual({ per_ths_day: 0.0485, currency: 'USD', source: `http:${new URL(base).host}`, fetched_at_ms: 9 });
  });

  it('fails on a missing value, a slow answer, and takes a fixed value as is', async () => {
    const missing = await failure(readHashprice(parseHashpriceSource({ kind: 'http', url: `${base}/hashprice`, value_path: 'data.eur', currency: 'EUR' })));
    expect(missing.message).toMatch(/"data.eur" is missing; expected a number >= 0/);
    const slow = await failure(readHashprice(parseHashpriceSource({ kind: 'http', url: `${base}/slow`, value_path: 'x', currency: 'EUR', timeout_ms: 200 })));
    expect(slow.code).toBe('timeout');
    expect((await readHashprice(parseHashpriceSource({ kind: 'fixed', value: 0.05, currency: 'eur' }))).per_ths_day).toBe(0.05);
    expect(() => parseHashpriceSource({ kind: 'fixed', value: 1, currency: 'EUR', unit: 'eh_day' })).toThrow(/unit: expected ths_day \(per TH\/s per day\) or phs_day/);
  });
});
