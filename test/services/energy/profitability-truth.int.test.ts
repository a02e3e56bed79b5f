import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetError } from '../../../core/errors.ts';
import type { Caller } from '../../../services/context.ts';
import { profitabilityConfigSchema } from '../../../services/energy/profitability-config.ts';
import { ProfitabilityService } from '../../../services/energy/profitability-service.ts';
import { FleetQuery } from '../../../services/query/fleet-query.ts';
import { parseConfig } from '../../../runtime/config-loader.ts';
import { BACKENDS } from '../../store/backends.ts';
import { POLL_MS, openProfitFixture, type ProfitFixture, type TruthMiner } from './profit-fixture.ts';

// Profitability over a simulated fleet polled through the collector's poller and writers, on
// both storage backends. Every expected figure is computed here from the simulator's ground
// truth (fleet.truth, read after each poll) and the prices given, never through the service.

const acme: Caller = { sub: 'alice', tenant: 'acme', roles: ['viewer'] };
const globex: Caller = { sub: 'bob', tenant: 'globex', roles: ['viewer'] };
const HASHPRICE = 0.05; // USD per TH/s per day
const PRICE = 60; // USD per MWh

/** Relative closeness: stored means carry the simulator's reading noise (< 1 % per poll). */
function near(actual: number, expected: number, rel = 0.005): void {
  expect(Math.abs(actual - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(Math.abs(expected) * rel + 1e-6);
}

const revenue = (ms: TruthMiner[], hours: number, hp = HASHPRICE): number => ms.reduce((a, m) => a + (m.hashrate_ghs / 1000) * hp * (hours / 24), 0);
const cost = (ms: TruthMiner[], hours: number, price = PRICE): number => ms.reduce((a, m) => a + (m.power_w / 1e6) * hours * price, 0);
const jth = (ms: TruthMiner[]): number => ms.reduce((a, m) => a + m.power_w, 0) / (ms.reduce((a, m) => a + m.hashrate_ghs, 0) / 1000);

describe.each(BACKENDS)('profitability against the simulator truth (%s store)', backend => {
  let fx: ProfitFixture;
  let fq: FleetQuery;
  let svc: ProfitabilityService;
  let range: { from: number; to: number };
  let mine: TruthMiner[];

  beforeAll(async () => {
    fx = await openProfitFixture(backend);
    fq = new FleetQuery({ store: fx.store }, { pollIntervalMs: POLL_MS, now: () => fx.nowMs });
    const config = parseConfig(profitabilityConfigSchema, {
      HASHPRICE_SOURCE: JSON.stringify({ kind: 'fixed', value: HASHPRICE, currency: 'USD' }),
      ENERGY_PRICE_SOURCE: JSON.stringify({ kind: 'fixed', price_per_mwh: PRICE, currency: 'usd' }),
    });
    svc = new ProfitabilityService({ fleetQuery: fq, config, now: () => fx.nowMs });
    range = { from: fx.startMs, to: fx.lastClosedMs };
    mine = fx.truth.filter(m => m.tenant === 'acme');
  }, 120_000);

  afterAll(async () => {
    await fq?.close();
    await fx?.close();
  });

  it('fleet and per-site revenue, power cost and margin equal the truth at the configured prices', async () => {
    const r = await svc.profitability(acme, range);
    expect(r.window).toEqual({ from: new Date(fx.startMs).toISOString(), to: new Date(fx.lastClosedMs).toISOString() });
    expect(r.hours).toBe(1);
    expect(r.source).toBe('window_stats');
    expect(r.prices.currency).toBe('USD');
    expect(r.prices.hashprice_per_ths_day).toMatchObject({ value: HASHPRICE, source: 'fixed', stale: false });
    expect(r.prices.energy_price_per_mwh).toMatchObject({ value: PRICE, source: 'fixed' });
    expect(r.fleet.miners).toBe(mine.length);
    near(r.fleet.revenue, revenue(mine, 1));
    near(r.fleet.power_cost, cost(mine, 1));
    near(r.fleet.margin, revenue(mine, 1) - cost(mine, 1), 0.02);
    near(r.fleet.power_kw, mine.reduce((a, m) => a + m.power_w, 0) / 1000);
    const sites = [...new Set(mine.map(m => m.site))].sort();
    expect(r.groups.map(g => g.key)).toEqual(sites);
    for (const g of r.groups) {
      const here = mine.filter(m => m.site === g.key);
      expect(g.miners).toBe(here.length);
      near(g.revenue, revenue(here, 1));
      near(g.power_cost, cost(here, 1));
    }
  });

  it('per miner, worst margin first, and one miner by id', async () => {
    const r = await svc.profitability(acme, { ...range, group_by: 'miner' });
    expect(r.groups).toHaveLength(mine.length);
    const margins = r.groups.map(g => g.margin);
    expect(margins).toEqual([...margins].sort((a, b) => a - b));
    for (const g of r.groups) {
      const t = mine.find(m => m.id === g.key)!;
      near(g.revenue, revenue([t], 1));
      near(g.power_cost, cost([t], 1));
      near(g.break_even_price_per_mwh!, (HASHPRICE * 1e6) / (24 * jth([t])));
    }
    const one = mine[0]!;
    const r1 = await svc.profitability(acme, { ...range, miner: one.id });
    expect(r1.groups.map(g => g.key)).toEqual([one.id]);
    near(r1.fleet.revenue, revenue([one], 1));
  });

  it('a price between the models break-even prices: the inefficient models lose money, the others do not', async () => {
    // Between the worst and the best model's break-even price, from the truth.
    const models = [...new Set(mine.map(m => m.model))];
    const be = models.map(model => ({ model, price: (HASHPRICE * 1e6) / (24 * jth(mine.filter(m => m.model === model))) })).sort((a, b) => a.price - b.price);
    const price = (be[0]!.price + be[1]!.price) / 2;
    const r = await svc.losingMiners(acme, { ...range, energy_price_per_mwh: price });
    const expected = mine.filter(m => (m.hashrate_ghs / 1000) * HASHPRICE / 24 < (m.power_w / 1e6) * price).map(m => m.id).sort();
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(mine.length);
    expect(r.items.map(i => i.miner).sort()).toEqual(expected);
    expect(new Set(r.items.map(i => i.model))).toEqual(new Set(mine.filter(m => expected.includes(m.id)).map(m => m.model)));
    expect(r.prices.energy_price_per_mwh.source).toBe('request');
    expect(r.evaluated).toBe(mine.length);
    expect(r.loss).toBeCloseTo(r.items.reduce((a, i) => a + i.margin, 0), 3);
    for (let i = 1; i < r.items.length; i++) expect(r.items[i]!.margin).toBeGreaterThanOrEqual(r.items[i - 1]!.margin);
    // at the configured 60 USD/MWh only the models whose break-even is below it lose
    const now = await svc.losingMiners(acme, range);
    expect(now.items.map(i => i.model).every(m => be.find(b => b.model === m)!.price < PRICE)).toBe(true);
  });

  it('break-even energy price per model equals hashprice / (24 h × J/TH) from the truth', async () => {
    const r = await svc.breakEven(acme, range);
    const models = [...new Set(mine.map(m => m.model))].sort();
    expect(r.models.map(m => m.model).sort()).toEqual(models);
    for (const m of r.models) {
      const here = mine.filter(t => t.model === m.model);
      expect(m.miners).toBe(here.length);
      near(m.efficiency_jth!, jth(here));
      near(m.break_even_price_per_mwh!, (HASHPRICE * 1e6) / (24 * jth(here)));
      expect(m.loses_money).toBe(m.break_even_price_per_mwh! < PRICE);
    }
    const prices = r.models.map(m => m.break_even_price_per_mwh!);
    expect(prices).toEqual([...prices].sort((a, b) => a - b));
  });

  it('a tenant sees only its own miners; another tenant\'s miner does not exist for it', async () => {
    const theirs = fx.truth.filter(m => m.tenant === 'globex');
    const r = await svc.profitability(globex, { ...range, group_by: 'miner' });
    expect(r.groups.map(g => g.key).sort()).toEqual(theirs.map(m => m.id).sort());
    near(r.fleet.revenue, revenue(theirs, 1));
    const err = await svc.profitability(globex, { ...range, miner: mine[0]!.id }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FleetError);
    expect((err as FleetError).code).toBe('not_found');
    const losing = await svc.losingMiners(globex, { ...range, energy_price_per_mwh: 1_000 });
    expect(losing.items.map(i => i.miner).sort()).toEqual(theirs.map(m => m.id).sort());
  });
});
