import { FleetError } from '../../core/errors.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { Registry } from 'prom-client';
import type { Caller } from '../context.ts';
import type { FleetQuery, MinerMeans } from '../query/fleet-query.ts';
import { iso, type TimeRange } from '../query/time.ts';
import { HashpriceProvider, type CurrentHashprice } from './hashprice-provider.ts';
import type { EnergyPriceSource, ProfitabilityConfig } from './profitability-config.ts';
import { breakEvenPricePerMwh, computeProfitability, losingMiners, type Economics, type MinerEconomics, type ProfitabilityReport } from './profitability.ts';
import { fixedTariffCurve } from './prices/fixed-tariff.ts';

/**
 * Revenue, power cost and margin of a tenant's miners over a range, from stored statistics
 * (FleetQuery.minerMeans: the collector's per-miner window statistics, else the rollups) and the
 * configured prices (or prices given in the request, for "what if").
 *
 * A miner's figures are its mean hashrate and power over the polls that reached it, times the
 * share of polls that did: an unreachable stretch earns nothing and is assumed to draw nothing
 * (its power is unknown). A time-of-use tariff is priced at its time-weighted mean over the
 * range (power assumed steady across it); "now" questions use the tariff's price at this moment.
 */

export const GROUP_BYS = ['site', 'model', 'miner'] as const;
export type GroupBy = (typeof GROUP_BYS)[number];
type TimeInput = string | number;

export interface PriceOverrides {
  /** currency per TH/s per day, instead of the configured hashprice */
  hashprice_per_ths_day?: number | undefined;
  /** currency per MWh, instead of the configured energy price */
  energy_price_per_mwh?: number | undefined;
}

export interface ProfitabilityOptions extends PriceOverrides {
  from?: TimeInput | undefined;
  to?: TimeInput | undefined;
  site?: string | undefined;
  /** one miner (id or hostname) */
  miner?: string | undefined;
  group_by?: GroupBy | undefined;
  limit?: number | undefined;
}

export interface LosingMinersOptions extends PriceOverrides {
  /** the range whose mean hashrate and power are priced (default the last hour) */
  from?: TimeInput | undefined;
  to?: TimeInput | undefined;
  site?: string | undefined;
  limit?: number | undefined;
}

export interface BreakEvenOptions extends PriceOverrides {
  /** the range whose mean efficiency per model is used (default the last 24 h) */
  from?: TimeInput | undefined;
  to?: TimeInput | undefined;
  site?: string | undefined;
}

export interface PriceUsed {
  value: number;
  /** fixed, tariff:<name>, http:<host>, or request (given in the call) */
  source: string;
  as_of: string;
  age_s: number;
  stale: boolean;
}

export interface PricesUsed {
  currency: string;
  hashprice_per_ths_day: PriceUsed;
  energy_price_per_mwh: PriceUsed;
}

/** One group's (or miner's) economics, rounded for answers. */
export type Money = Economics;

export interface ProfitGroup extends Money {
  /** site name, model (null: unknown) or miner id */
  key: string | null;
  site: string | null;
  model: string | null;
  miners: number;
  losing_miners: number;
}

export interface ProfitabilityAnswer {
  window: { from: string; to: string };
  hours: number;
  source: string;
  prices: PricesUsed;
  group_by: GroupBy;
  fleet: Money & { miners: number; losing_miners: number };
  groups: ProfitGroup[];
  total: number;
  limit: number;
  truncated: boolean;
  hint?: string;
}

export interface LosingMiner extends Money {
  miner: string;
  site: string;
  model: string | null;
  efficiency_jth: number | null;
}

export interface LosingMinersAnswer {
  window: { from: string; to: string };
  hours: number;
  source: string;
  prices: PricesUsed;
  evaluated: number;
  items: LosingMiner[];
  /** margin of all losing miners together (negative) over the window */
  loss: number;
  total: number;
  limit: number;
  truncated: boolean;
  hint?: string;
}

export interface BreakEvenModel {
  model: string | null;
  miners: number;
  efficiency_jth: number | null;
  break_even_price_per_mwh: number | null;
  /** margin per miner per day at the prices used; null without an energy price */
  margin_per_miner_day: number | null;
  loses_money: boolean | null;
}

export interface BreakEvenAnswer {
  window: { from: string; to: string };
  source: string;
  prices: Omit<PricesUsed, 'energy_price_per_mwh'> & { energy_price_per_mwh: PriceUsed | null };
  models: BreakEvenModel[];
  hint?: string;
}

export interface ProfitabilityServiceDeps {
  fleetQuery: FleetQuery;
  config: ProfitabilityConfig;
  log?: Logger | undefined;
  now?: () => number;
  registry?: Registry | undefined;
}

const HOUR_MS = 3_600_000;
const round = (v: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};
const money = (e: Economics): Money => ({
  hashrate_ths: round(e.hashrate_ths, 3),
  power_kw: round(e.power_kw, 3),
  energy_mwh: round(e.energy_mwh, 6),
  revenue: round(e.revenue, 4),
  power_cost: round(e.power_cost, 4),
  margin: round(e.margin, 4),
  break_even_price_per_mwh: e.break_even_price_per_mwh === null ? null : round(e.break_even_price_per_mwh, 2),
});
const windowOf = (r: TimeRange): { from: string; to: string } => ({ from: iso(r.fromMs), to: iso(r.toMs) });

function checkLimit(v: number | undefined, def: number, max: number): number {
  const n = v ?? def;
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new FleetError('invalid_argument', `limit: expected an integer 1..${max}`, { details: { field: 'limit' } });
  return n;
}

export class ProfitabilityService {
  readonly hashprice: HashpriceProvider;
  private readonly fleetQuery: FleetQuery;
  private readonly energy: EnergyPriceSource | null;
  private readonly now: () => number;
  private readonly hashpriceCurrency: string | null;

  constructor(deps: ProfitabilityServiceDeps) {
    this.hashpriceCurrency = deps.config.HASHPRICE_SOURCE?.currency ?? null;
    this.fleetQuery = deps.fleetQuery;
    this.energy = deps.config.ENERGY_PRICE_SOURCE ?? null;
    this.now = deps.now ?? Date.now;
    this.hashprice = new HashpriceProvider({
      source: deps.config.HASHPRICE_SOURCE ?? null,
      refreshMs: deps.config.HASHPRICE_REFRESH_MS,
      maxAgeMs: deps.config.HASHPRICE_MAX_AGE_MS,
      log: deps.log,
      now: this.now,
      registry: deps.registry,
    });
  }

  start(): void {
    this.hashprice.start();
  }

  close(): void {
    this.hashprice.stop();
  }

  async profitability(caller: Caller, o: ProfitabilityOptions = {}): Promise<ProfitabilityAnswer> {
    const groupBy = o.group_by ?? (o.miner !== undefined ? 'miner' : 'site');
    const limit = checkLimit(o.limit, groupBy === 'miner' ? 50 : 200, 10_000);
    const means = await this.fleetQuery.minerMeans(caller, { from: o.from, to: o.to, site: o.site });
    let rows = means.rows;
    if (o.miner !== undefined) {
      const id = await this.fleetQuery.resolveMinerId(caller, o.miner);
      rows = rows.filter(r => r.miner === id);
      if (rows.length === 0)
        throw new FleetError('not_found', `miner '${o.miner}': no such miner, or no data for it in ${iso(means.window.fromMs)} .. ${iso(means.window.toMs)}`, {
          details: { field: 'miner' },
        });
    }
    const prices = await this.prices(o, means.window, 'range');
    const report = this.report({ ...means, rows }, prices);
    const groups = groupsOf(report, groupBy);
    const hint = hintOf(means, report);
    return {
      window: windowOf(means.window),
      hours: round(report.hours, 4),
      source: means.source,
      prices,
      group_by: groupBy,
      fleet: { miners: report.fleet.miners, losing_miners: report.fleet.losing_miners, ...money(report.fleet) },
      groups: groups.slice(0, limit),
      total: groups.length,
      limit,
      truncated: groups.length > limit,
      ...(hint ? { hint } : {}),
    };
  }

  /** Miners whose margin is negative at the current prices, over a recent range (default 1 h). */
  async losingMiners(caller: Caller, o: LosingMinersOptions = {}): Promise<LosingMinersAnswer> {
    const limit = checkLimit(o.limit, 50, 10_000);
    const means = await this.fleetQuery.minerMeans(caller, { from: o.from, to: o.to, site: o.site, defaultRangeMs: HOUR_MS });
    const prices = await this.prices(o, means.window, 'now');
    const report = this.report(means, prices);
    // A miner that did not hash (paused, curtailed, stopped) loses its idle power, but is not a
    // candidate for curtailment: it is left out and counted in the hint.
    const all = losingMiners(report);
    const losing = all.filter(m => m.hashrate_ths > 0);
    const idle = all.length - losing.length;
    const items = losing.map(minerItem);
    const hints = [hintOf(means, report), idle > 0 ? `${idle} miners did not hash in the window (paused, stopped or idle) and are not listed` : undefined].filter(Boolean);
    const hint = hints.length > 0 ? hints.join('; ') : undefined;
    return {
      window: windowOf(means.window),
      hours: round(report.hours, 4),
      source: means.source,
      prices,
      evaluated: report.miners.length,
      items: items.slice(0, limit),
      loss: round(
        losing.reduce((a, m) => a + m.margin, 0),
        4,
      ),
      total: items.length,
      limit,
      truncated: items.length > limit,
      ...(hint ? { hint } : {}),
    };
  }

  /** Per model: the energy price at which it stops earning, at the hashprice used. */
  async breakEven(caller: Caller, o: BreakEvenOptions = {}): Promise<BreakEvenAnswer> {
    const means = await this.fleetQuery.minerMeans(caller, { from: o.from, to: o.to, site: o.site });
    const prices = await this.pricesOrNoEnergy(o, means.window, 'now');
    // Break-even needs the hashprice only; margins need an energy price too.
    const report = this.report(means, { ...prices, energy_price_per_mwh: prices.energy_price_per_mwh ?? { value: 0, source: 'none', as_of: '', age_s: 0, stale: false } });
    const priced = prices.energy_price_per_mwh !== null;
    const hp = prices.hashprice_per_ths_day.value;
    const models: BreakEvenModel[] = report.models.map(m => {
      const be = m.efficiency_jth !== null && m.efficiency_jth > 0 ? breakEvenPricePerMwh(m.efficiency_jth, hp) : null;
      return {
        model: m.model,
        miners: m.miners,
        efficiency_jth: m.efficiency_jth === null ? null : round(m.efficiency_jth, 2),
        break_even_price_per_mwh: be === null ? null : round(be, 2),
        margin_per_miner_day: priced && report.hours > 0 && m.miners > 0 ? round((m.margin / m.miners) * (24 / report.hours), 4) : null,
        loses_money: priced ? m.margin < 0 : null,
      };
    });
    models.sort((a, b) => (a.break_even_price_per_mwh ?? -1) - (b.break_even_price_per_mwh ?? -1) || String(a.model).localeCompare(String(b.model)));
    const hints = [hintOf(means, report), priced ? undefined : 'no energy price configured (ENERGY_PRICE_SOURCE) or given: margins are not computed'].filter(Boolean);
    return { window: windowOf(means.window), source: means.source, prices, models, ...(hints.length > 0 ? { hint: hints.join('; ') } : {}) };
  }

  private report(means: Pick<MinerMeans, 'window' | 'rows'>, prices: PricesUsed): ProfitabilityReport {
    return computeProfitability({
      from_ms: means.window.fromMs,
      to_ms: Math.max(means.window.toMs, means.window.fromMs + 1),
      hashprice_per_ths_day: prices.hashprice_per_ths_day.value,
      energy_price_per_mwh: prices.energy_price_per_mwh.value,
      currency: prices.currency,
      miners: means.rows.map(r => {
        const up = r.up ?? 1;
        return {
          id: r.miner,
          site: r.site || '(none)',
          model: r.model,
          avg_hashrate_ghs: Math.max(0, (r.hashrate_ghs ?? 0) * up),
          avg_power_w: Math.max(0, (r.power_w ?? 0) * up),
        };
      }),
    });
  }

  /** The two prices for an answer: given in the call, else configured; currencies must agree. */
  async prices(o: PriceOverrides, window: TimeRange, at: 'range' | 'now'): Promise<PricesUsed> {
    const got = await this.pricesOrNoEnergy(o, window, at);
    if (!got.energy_price_per_mwh)
      throw new FleetError('precondition_failed', 'no energy price configured: set ENERGY_PRICE_SOURCE or pass energy_price_per_mwh', {
        details: { field: 'energy_price_per_mwh' },
      });
    return { ...got, energy_price_per_mwh: got.energy_price_per_mwh };
  }

  private async pricesOrNoEnergy(o: PriceOverrides, window: TimeRange, at: 'range' | 'now'): Promise<PricesUsed | NoEnergyPrices> {
    const now = this.now();
    const given = (value: number): PriceUsed => ({ value, source: 'request', as_of: iso(now), age_s: 0, stale: false });
    let hashCurrency: string | null = null;
    let hashprice: PriceUsed;
    if (o.hashprice_per_ths_day !== undefined) {
      if (!(o.hashprice_per_ths_day >= 0) || !Number.isFinite(o.hashprice_per_ths_day))
        throw new FleetError('invalid_argument', 'hashprice_per_ths_day: expected a number >= 0 (currency per TH/s per day)', { details: { field: 'hashprice_per_ths_day' } });
      hashprice = given(o.hashprice_per_ths_day);
    } else {
      const h: CurrentHashprice = await this.hashprice.current();
      hashCurrency = h.currency;
      hashprice = { value: h.per_ths_day, source: h.source, as_of: iso(h.fetched_at_ms), age_s: Math.round((now - h.fetched_at_ms) / 1000), stale: h.stale };
    }
    let energyCurrency: string | null = null;
    let energy: PriceUsed | null = null;
    const src = this.energy;
    if (o.energy_price_per_mwh !== undefined) {
      if (!Number.isFinite(o.energy_price_per_mwh))
        throw new FleetError('invalid_argument', 'energy_price_per_mwh: expected a number (currency per MWh)', { details: { field: 'energy_price_per_mwh' } });
      energy = given(o.energy_price_per_mwh);
    } else if (src?.kind === 'fixed') {
      energyCurrency = src.currency;
      energy = { value: src.price_per_mwh, source: 'fixed', as_of: iso(now), age_s: 0, stale: false };
    } else if (src?.kind === 'tariff') {
      energyCurrency = src.tariff.currency;
      const r = at === 'now' ? { from_ms: now, to_ms: now + 60_000 } : { from_ms: window.fromMs, to_ms: Math.max(window.toMs, window.fromMs + 1) };
      const curve = fixedTariffCurve(src.tariff, { ...r, now_ms: now });
      let weighted = 0;
      for (const i of curve.intervals) weighted += i.price_per_mwh * (i.end_ms - i.start_ms);
      energy = { value: round(weighted / (r.to_ms - r.from_ms), 4), source: curve.source, as_of: iso(now), age_s: 0, stale: false };
    }
    if (hashCurrency && energyCurrency && hashCurrency !== energyCurrency)
      throw new FleetError(
        'precondition_failed',
        `the hashprice is in ${hashCurrency} and the energy price in ${energyCurrency}; configure both in one currency`,
        { details: { field: 'currency' } },
      );
    // prices given in the call are taken to be in the configured currency
    const currency = hashCurrency ?? energyCurrency ?? this.configuredCurrency() ?? 'as given';
    return { currency, hashprice_per_ths_day: hashprice, energy_price_per_mwh: energy };
  }

  private configuredCurrency(): string | null {
    const e = this.energy;
    return e ? (e.kind === 'fixed' ? e.currency : e.tariff.currency) : (this.hashpriceCurrency ?? null);
  }
}

type NoEnergyPrices = Omit<PricesUsed, 'energy_price_per_mwh'> & { energy_price_per_mwh: PriceUsed | null };

function minerItem(m: MinerEconomics): LosingMiner {
  return {
    miner: m.id,
    site: m.site,
    model: m.model,
    efficiency_jth: m.hashrate_ths > 0 ? round((m.power_kw * 1000) / m.hashrate_ths, 2) : null,
    ...money(m),
  };
}

function groupsOf(report: ProfitabilityReport, by: GroupBy): ProfitGroup[] {
  if (by === 'site')
    return report.sites.map(s => ({ key: s.site, site: s.site, model: null, miners: s.miners, losing_miners: s.losing_miners, ...money(s) }));
  if (by === 'model')
    return report.models.map(m => ({
      key: m.model,
      site: null,
      model: m.model,
      miners: m.miners,
      losing_miners: report.miners.filter(x => x.model === m.model && x.loses_money).length,
      ...money(m),
    }));
  // miners: the worst margin first
  return [...report.miners]
    .sort((a, b) => a.margin - b.margin || a.id.localeCompare(b.id))
    .map(m => ({ key: m.id, site: m.site, model: m.model, miners: 1, losing_miners: m.loses_money ? 1 : 0, ...money(m) }));
}

function hintOf(means: MinerMeans | Pick<MinerMeans, 'window' | 'rows' | 'gap'>, report: ProfitabilityReport): string | undefined {
  const hints: string[] = [];
  if (report.miners.length === 0) hints.push('no miner data in this range; widen from/to or check that the collector is running');
  const noPower = means.rows.filter(r => r.power_w === null && (r.hashrate_ghs ?? 0) > 0).length;
  if (noPower > 0) hints.push(`${noPower} miners reported no power: their power cost is missing (counted as 0)`);
  if (means.gap) hints.push(means.gap);
  return hints.length > 0 ? hints.join('; ') : undefined;
}
