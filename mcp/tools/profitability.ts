/**
 * Profitability of the caller's miners (services/energy/profitability-service.ts): revenue,
 * power cost and margin from stored series and the configured (or given) prices; the miners
 * that lose money now; the break-even energy price per model.
 */
import { z } from 'zod';
import { BreakEven, LosingMiners, Profitability } from '../../api/schemas/energy.ts';
import { ProfitabilityService, GROUP_BYS } from '../../services/energy/profitability-service.ts';
import type { FleetQuery } from '../../services/query/fleet-query.ts';
import { defineTool, type McpDeps, type ToolContext } from '../define-tool.ts';
import { budgetFor, fitList, limitArg } from '../size-budget.ts';
import { SiteArg, TimeArg } from './shared.ts';

// stdio and tests build McpDeps without the API's service: one per FleetQuery, from the same configuration
const built = new WeakMap<FleetQuery, ProfitabilityService>();
function serviceOf(deps: McpDeps): ProfitabilityService {
  if (deps.profitability) return deps.profitability;
  let s = built.get(deps.fleetQuery);
  if (!s) {
    s = new ProfitabilityService({ fleetQuery: deps.fleetQuery, config: deps.infra.config, log: deps.infra.log });
    built.set(deps.fleetQuery, s);
  }
  return s;
}

const fromArg = TimeArg.optional().describe('Range start (default to-24h; to-1h for losing miners).');
const toArg = TimeArg.optional().describe('Range end (default now).');
const hashpriceArg = z.coerce
  .number()
  .min(0)
  .max(1_000_000)
  .optional()
  .describe('What-if hashprice per TH/s per day (default: configured).');
const energyArg = z.coerce
  .number()
  .min(-1_000_000)
  .max(1_000_000)
  .optional()
  .describe('What-if energy price per MWh (default: configured).');

const money = (v: number, currency: string): string => `${v.toFixed(2)} ${currency}`;
const pricesLine = (p: z.output<typeof Profitability>['prices']): string =>
  `hashprice ${p.hashprice_per_ths_day.value} ${p.currency}/TH/s/day (${p.hashprice_per_ths_day.source}, as of ${p.hashprice_per_ths_day.as_of}${p.hashprice_per_ths_day.stale ? ', STALE' : ''}), ` +
  `energy ${p.energy_price_per_mwh.value} ${p.currency}/MWh (${p.energy_price_per_mwh.source})`;

// The range and the what-if prices every profitability tool takes.
const RANGE_ARGS = { from: fromArg, to: toArg, site: SiteArg.optional() };
const PRICE_ARGS = { hashprice_per_ths_day: hashpriceArg, energy_price_per_mwh: energyArg };

export const getProfitability = defineTool({
  name: 'get_profitability',
  title: 'Get profitability',
  description:
    'Revenue, power cost and margin of the fleet and per site, model or miner over a range, from stored hashrate and power.',
  access: 'read',
  category: 'analytics',
  input: z.strictObject({
    ...RANGE_ARGS,
    miner: z.string().min(1).max(128).optional().describe('One miner (id or hostname).'),
    group_by: z.enum(GROUP_BYS).optional().describe('Default site; miner: worst first.'),
    ...PRICE_ARGS,
    limit: limitArg(20, 500, 'groups'),
  }),
  output: Profitability,
  async run(args, ctx: ToolContext) {
    const limit = args.limit ?? 20;
    const r = await serviceOf(ctx.deps).profitability(ctx.caller, { ...args, limit });
    const c = r.prices.currency;
    const make = (n: number) => {
      const structured = { ...r, groups: r.groups.slice(0, n), truncated: r.truncated || n < r.groups.length };
      const top = r.groups
        .slice(0, Math.min(n, 5))
        .map(g => `${g.key ?? 'unknown'} ${money(g.margin, c)}`)
        .join(', ');
      const summary =
        `${r.window.from} .. ${r.window.to} (${r.hours} h), ${r.fleet.miners} miners: revenue ${money(r.fleet.revenue, c)}, power cost ${money(r.fleet.power_cost, c)}, ` +
        `margin ${money(r.fleet.margin, c)}; ${r.fleet.losing_miners} miners lose money. By ${r.group_by}: ${top || 'none'}. Prices: ${pricesLine(r.prices)}.${r.hint ? ` ${r.hint}.` : ''}`;
      return { structured, summary };
    };
    return fitList(r.groups.length, make, budgetFor(args.limit)).answer;
  },
});

export const findLosingMiners = defineTool({
  name: 'find_losing_miners',
  title: 'Find losing miners',
  description:
    'Miners whose power costs more than they earn at the current prices, biggest loss first.',
  access: 'read',
  category: 'analytics',
  input: z.strictObject({
    ...RANGE_ARGS,
    ...PRICE_ARGS,
    limit: limitArg(20, 500, 'miners'),
  }),
  output: LosingMiners,
  async run(args, ctx) {
    const limit = args.limit ?? 20;
    const r = await serviceOf(ctx.deps).losingMiners(ctx.caller, { ...args, limit });
    const c = r.prices.currency;
    const make = (n: number) => {
      const structured = { ...r, items: r.items.slice(0, n), truncated: r.truncated || n < r.items.length };
      const summary =
        r.total === 0
          ? `No miner loses money at ${pricesLine(r.prices)} (${r.evaluated} evaluated, ${r.window.from} .. ${r.window.to}).${r.hint ? ` ${r.hint}.` : ''}`
          : `${r.total} of ${r.evaluated} miners lose money (together ${money(r.loss, c)} over ${r.hours} h) at ${pricesLine(r.prices)}; worst: ${r.items
              .slice(0, Math.min(n, 5))
              .map(i => `${i.miner} (${i.model ?? 'unknown model'}, ${i.efficiency_jth ?? '?'} J/TH) ${money(i.margin, c)}`)
              .join(', ')}.`;
      return { structured, summary };
    };
    return fitList(r.items.length, make, budgetFor(args.limit)).answer;
  },
});

export const getBreakEven = defineTool({
  name: 'get_break_even',
  title: 'Get break-even power price',
  description: 'Per model: efficiency (J/TH) and the energy price per MWh above which it loses money.',
  access: 'read',
  category: 'analytics',
  input: z.strictObject({
    ...RANGE_ARGS,
    ...PRICE_ARGS,
  }),
  output: BreakEven,
  async run(args, ctx) {
    const r = await serviceOf(ctx.deps).breakEven(ctx.caller, args);
    const c = r.prices.currency;
    const summary =
      r.models.length === 0
        ? `No model has data in ${r.window.from} .. ${r.window.to}.${r.hint ? ` ${r.hint}.` : ''}`
        : `At hashprice ${r.prices.hashprice_per_ths_day.value} ${c}/TH/s/day${r.prices.energy_price_per_mwh ? ` and energy ${r.prices.energy_price_per_mwh.value} ${c}/MWh` : ''}: ` +
          r.models
            .map(m => `${m.model ?? 'unknown'} (${m.miners}, ${m.efficiency_jth ?? '?'} J/TH) breaks even at ${m.break_even_price_per_mwh ?? '?'} ${c}/MWh${m.loses_money ? ' (loses money now)' : ''}`)
            .join('; ') +
          '.';
    return { structured: r, summary };
  },
});

export const profitabilityTools = [getProfitability, findLosingMiners, getBreakEven];
