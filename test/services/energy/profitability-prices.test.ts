// The prices profitability uses: the HTTP hashprice feed (polled, last good value kept, age and
// failures in Prometheus), a tariff priced over a range and now, configuration errors that say
// what is expected, and missing or mismatched prices refused rather than guessed.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetError } from '../../../core/errors.ts';
import { ConfigError, parseConfig } from '../../../runtime/config-loader.ts';
import type { Caller } from '../../../services/context.ts';
import { HashpriceProvider } from '../../../services/energy/hashprice-provider.ts';
import { profitabilityConfigSchema } from '../../../services/energy/profitability-config.ts';
import { ProfitabilityService } from '../../../services/energy/profitability-service.ts';
import type { FleetQuery, MinerMeans } from '../../../services/query/fleet-query.ts';

const caller: Caller = { sub: 'a', tenant: 'acme', roles: ['viewer'] };
const HOUR = 3_600_000;

let server: Server;
let url: string;
let answer: { status: number; body: string } = { status: 200, body: '{"data":{"usd_per_ph_day":52.5}}' };
let hits = 0;

beforeAll(async () => {
  server = createServer((_req, res) => {
    hits++;
    res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
  });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hashprice`;
});
afterAll(async () => {
  await new Promise(r => server.close(r));
});

async function gauge(reg: Registry, name: string): Promise<number | undefined> {
  const m = (await reg.getMetricsAsJSON()).find(x => x.name === name);
  return (m as { values?: { value: number }[] } | undefined)?.values?.[0]?.value;
}

describe('HTTP hashprice feed', () => {
  it('converts per PH/s to per TH/s, keeps the last good value through failures, and reports its age', async () => {
    let now = 1_800_000_000_000;
    const reg = new Registry();
    const p = new HashpriceProvider({
      source: { kind: 'http', url, value_path: 'data.usd_per_ph_day', currency: 'USD', unit: 'phs_day', timeout_ms: 2_000 },
      refreshMs: 60_000,
      maxAgeMs: 10 * 60_000,
      now: () => now,
      registry: reg,
    });
    // before any answer the age counts from start, so a feed that never answers alerts
    now += 90_000;
    expect(await gauge(reg, 'bosfleet_hashprice_age_seconds')).toBe(90);
    expect(await gauge(reg, 'bosfleet_hashprice_last_success_timestamp_seconds')).toBe(0);
    answer = { status: 200, body: '{"data":{"usd_per_ph_day":52.5}}' };
    const first = await p.current();
    expect(first).toMatchObject({ per_ths_day: 0.0525, currency: 'USD', source: `http:${new URL(url).host}`, fetched_at_ms: now, stale: false });
    const fetchedAt = now;
    // within refreshMs: no new fetch
    const before = hits;
    now += 30_000;
    await p.current();
    expect(hits).toBe(before);
    // the feed breaks: the previous value stays, with its age; stale once past maxAgeMs
    answer = { status: 502, body: 'bad gateway' };
    now += 15 * 60_000;
    const kept = await p.current();
    expect(kept).toMatchObject({ per_ths_day: 0.0525, fetched_at_ms: fetchedAt, stale: true });
    expect(p.error).toMatch(/HTTP 502/);
    expect(await gauge(reg, 'bosfleet_hashprice_age_seconds')).toBe((now - fetchedAt) / 1000);
    expect(await gauge(reg, 'bosfleet_hashprice_last_success_timestamp_seconds')).toBe(fetchedAt / 1000);
    expect(await gauge(reg, 'bosfleet_hashprice_fetch_failures_total')).toBe(1);
    // a wrong answer is a failure too, not a zero
    answer = { status: 200, body: '{"data":{"usd_per_ph_day":"n/a"}}' };
    now += 60_000;
    expect((await p.current()).per_ths_day).toBe(0.0525);
    expect(p.error).toMatch(/usd_per_ph_day/);
    // recovered
    answer = { status: 200, body: '{"data":{"usd_per_ph_day":48}}' };
    now += 60_000;
    expect(await p.current()).toMatchObject({ per_ths_day: 0.048, stale: false, fetched_at_ms: now });
    expect(await gauge(reg, 'bosfleet_hashprice_age_seconds')).toBe(0);
  });

  it('a feed that never answered is an error naming the feed, not a made-up price', async () => {
    answer = { status: 500, body: '' };
    const p = new HashpriceProvider({ source: { kind: 'http', url, value_path: 'x', currency: 'USD', unit: 'ths_day', timeout_ms: 2_000 }, refreshMs: 60_000, maxAgeMs: 60_000 });
    const err = await p.current().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FleetError);
    expect((err as FleetError).code).toBe('unavailable');
    expect((err as FleetError).message).toMatch(/hashprice feed 127\.0\.0\.1:\d+: answered HTTP 500/);
  });
});

/** A FleetQuery stand-in answering fixed per-miner means (the store side is tested elsewhere). */
function fakeQuery(window: { fromMs: number; toMs: number }): FleetQuery {
  const means: MinerMeans = {
    window,
    source: 'window_stats',
    rows: [
      { miner: 's9', site: 'a', model: 'S9', hashrate_ghs: 14_000, power_w: 1_400, up: 1 },
      { miner: 's21', site: 'a', model: 'S21', hashrate_ghs: 200_000, power_w: 3_500, up: 0.5 },
      { miner: 'paused', site: 'a', model: 'S21', hashrate_ghs: 0, power_w: 40, up: 1 },
    ],
  };
  return { minerMeans: async () => means, resolveMinerId: async (_c: Caller, ref: string) => ref } as unknown as FleetQuery;
}

describe('energy price sources and configuration', () => {
  const from = Date.UTC(2026, 11, 7, 0, 0);
  const tariff = {
    kind: 'tariff',
    tariff: { name: 'night', currency: 'EUR', timezone: 'UTC', default_price_per_mwh: 100, periods: [{ from_hour: 0, to_hour: 6, price_per_mwh: 40 }] },
  };
  const config = (energy: unknown, hash: unknown = { kind: 'fixed', value: 0.05, currency: 'EUR' }) =>
    parseConfig(profitabilityConfigSchema, { HASHPRICE_SOURCE: JSON.stringify(hash), ENERGY_PRICE_SOURCE: JSON.stringify(energy) });

  it('a tariff is priced at its time-weighted mean over the range, and at its current price for "now" answers', async () => {
    // 00:00-12:00: 6 h at 40 and 6 h at 100 -> 70; now (08:00) costs 100
    const window = { fromMs: from, toMs: from + 12 * HOUR };
    const svc = new ProfitabilityService({ fleetQuery: fakeQuery(window), config: config(tariff), now: () => from + 8 * HOUR });
    const r = await svc.profitability(caller, {});
    expect(r.prices.energy_price_per_mwh).toMatchObject({ value: 70, source: 'tariff:night' });
    // the S21 was reachable half the time: 1.75 kW mean, 21 kWh over 12 h
    const s21 = (await svc.profitability(caller, { group_by: 'miner' })).groups.find(g => g.key === 's21')!;
    expect(s21.power_kw).toBe(1.75);
    expect(s21.energy_mwh).toBe(0.021);
    expect(s21.power_cost).toBeCloseTo(0.021 * 70, 6);
    expect(s21.revenue).toBeCloseTo(100 * 0.05 * 0.5, 6);
    const losing = await svc.losingMiners(caller, {});
    expect(losing.prices.energy_price_per_mwh.value).toBe(100);
    // S9: 14 TH/s earn 0.7 EUR/day, 1.4 kW cost 3.36 EUR/day at 100
    expect(losing.items.map(i => i.miner)).toEqual(['s9']);
    // a paused miner loses its idle power but is no curtailment candidate: counted, not listed
    expect(losing.evaluated).toBe(3);
    expect(losing.hint).toMatch(/1 miners did not hash/);
  });

  it('break-even needs only the hashprice; margins are left out without an energy price', async () => {
    const window = { fromMs: from, toMs: from + 24 * HOUR };
    const cfg = parseConfig(profitabilityConfigSchema, { HASHPRICE_SOURCE: '{"kind":"fixed","value":0.05,"currency":"USD"}' });
    const svc = new ProfitabilityService({ fleetQuery: fakeQuery(window), config: cfg });
    const be = await svc.breakEven(caller, {});
    const s9 = be.models.find(m => m.model === 'S9')!;
    expect(s9.break_even_price_per_mwh).toBeCloseTo((0.05 * 1e6) / (24 * 100), 2);
    expect(s9.loses_money).toBeNull();
    expect(be.prices.energy_price_per_mwh).toBeNull();
    const err = await svc.profitability(caller, {}).catch((e: unknown) => e);
    expect((err as FleetError).code).toBe('precondition_failed');
    expect((err as FleetError).message).toMatch(/ENERGY_PRICE_SOURCE or pass energy_price_per_mwh/);
  });

  it('prices in two currencies are refused; bad configuration says what is expected', async () => {
    const window = { fromMs: from, toMs: from + HOUR };
    const svc = new ProfitabilityService({ fleetQuery: fakeQuery(window), config: config({ kind: 'fixed', price_per_mwh: 50, currency: 'USD' }) });
    const err = await svc.profitability(caller, {}).catch((e: unknown) => e);
    expect((err as FleetError).code).toBe('precondition_failed');
    expect((err as FleetError).message).toMatch(/EUR .* USD/);
    const bad = (env: Record<string, string>): string => {
      try {
        parseConfig(profitabilityConfigSchema, env);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as ConfigError).problems.join('\n');
      }
      throw new Error('accepted');
    };
    expect(bad({ ENERGY_PRICE_SOURCE: '60' })).toMatch(/ENERGY_PRICE_SOURCE.*expected kind "fixed"/);
    expect(bad({ ENERGY_PRICE_SOURCE: '{price' })).toMatch(/ENERGY_PRICE_SOURCE.*expected JSON such as/);
    expect(bad({ HASHPRICE_SOURCE: '{"kind":"fixed","value":-1,"currency":"USD"}' })).toMatch(/HASHPRICE_SOURCE.*value.*>= 0/);
    expect(bad({ HASHPRICE_SOURCE: '{"kind":"http","url":"ftp://x","value_path":"a","currency":"USD"}' })).toMatch(/url.*http/);
  });
});
