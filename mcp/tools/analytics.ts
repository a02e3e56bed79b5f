/**
 * Fleet analytics over a window, from the stored series (rollups for long windows): the worst
 * miners first, with totals, hostnames next to ids, and a `truncated` flag. Each answer is
 * top-k by construction, so its size does not grow with the fleet.
 */
import { z } from 'zod';
import type { PeriodStats } from '../../api/schemas/analytics.ts';
import { MAX_RANGE_MS } from '../../services/query/influxql.ts';
import { resolveWindow } from '../../services/query/time.ts';
import { defineTool, type ToolContext } from '../define-tool.ts';
import { ListFields, budgetFor, fitList, limitArg } from '../size-budget.ts';
import { DurationArg, SiteArg, TimeArg } from './shared.ts';

const Window = z.object({ from: z.string(), to: z.string() });
const windowArg = DurationArg.optional().describe('Length of the window ending at to (default 1h, at most 90d).');
const toArg = TimeArg.optional().describe('End of the window (default now).');
const levelArg = z.enum(['miner', 'board']).default('miner').describe("'miner' (default) or 'board' (per hashboard, raw data, shorter windows).");

async function withHostnames<T extends { miner: string | null }>(
  ctx: ToolContext,
  items: readonly T[],
): Promise<(T & { hostname: string | null })[]> {
  const names = await ctx.lookup.hostnames(
    ctx.caller,
    items.map(i => i.miner ?? '').filter(Boolean),
  );
  return items.map(i => ({ ...i, hostname: i.miner ? (names.get(i.miner) ?? null) : null }));
}

const name = (m: { miner: string | null; hostname: string | null; board?: string | null }): string =>
  `${m.miner}${m.hostname ? ` (${m.hostname})` : ''}${m.board ? ` board ${m.board}` : ''}`;

// ---- underperformers ---------------------------------------------------------------------------

const UnderOut = z.object({
  window: Window,
  source: z.string(),
  level: z.enum(['miner', 'board']),
  threshold_pct: z.number(),
  evaluated: z.number().describe('Miners (or boards) with data in the window.'),
  items: z.array(
    z.object({
      miner: z.string(),
      hostname: z.string().nullable(),
      site: z.string(),
      model: z.string().nullable(),
      board: z.string().nullable(),
      hashrate_ths: z.number(),
      hashrate_nominal_ths: z.number(),
      pct_nominal: z.number(),
      up_pct: z.number().nullable().describe('Share of polls that reached the miner.'),
    }),
  ),
  ...ListFields,
});

export const findUnderperformers = defineTool({
  name: 'find_underperformers',
  title: 'Find underperformers',
  description:
    'Miners (or hashboards) whose mean real hashrate over the window was below threshold_pct of nominal, worst first, with how many were evaluated.',
  access: 'read',
  category: 'analytics',
  input: z.strictObject({
    window: windowArg,
    to: toArg,
    threshold_pct: z.coerce.number().min(1).max(100).default(90).describe('Below this % of nominal counts (default 90).'),
    level: levelArg,
    site: SiteArg.optional(),
    limit: limitArg(10, 100, 'items'),
  }),
  output: UnderOut,
  async run(args, ctx) {
    const limit = args.limit ?? 10;
    const r = await ctx.deps.fleetQuery.underperformers(ctx.caller, {
      window: args.window,
      to: args.to,
      thresholdPct: args.threshold_pct,
      level: args.level,
      site: args.site,
      limit,
    });
    const items = await withHostnames(ctx, r.items);
    const make = (n: number) => {
      const structured: z.output<typeof UnderOut> = { ...r, items: items.slice(0, n), truncated: r.truncated || n < items.length };
      if (n < items.length) structured.hint = 'items were dropped to fit the answer size; lower limit or filter by site';
      else if (structured.truncated && !structured.hint) structured.hint = `${r.total} match; the worst ${items.length} are shown: raise limit (up to 100) or filter by site`;
      // Each shown with what it gives against what it should give (a dead board: 0 of its share).
      const summary =
        r.total === 0
          ? `No ${r.level} below ${r.threshold_pct}% of nominal between ${r.window.from} and ${r.window.to} (${r.evaluated} evaluated)${r.hint ? `; ${r.hint}` : ''}.`
          : `${r.total} of ${r.evaluated} ${r.level}s below ${r.threshold_pct}% of nominal (${r.window.from} .. ${r.window.to}); worst: ${items
              .slice(0, 5)
              .map(i => `${name(i)} ${i.pct_nominal}% (${i.hashrate_ths} of ${i.hashrate_nominal_ths} TH/s)`)
              .join(', ')}${r.hint ? `; ${r.hint}` : ''}.`;
      return { structured, summary };
    };
    return fitList(items.length, make, budgetFor(args.limit)).answer;
  },
});

// ---- hot spots ---------------------------------------------------------------------------------

const HotOut = z.object({
  window: Window,
  source: z.string(),
  level: z.enum(['miner', 'board']),
  items: z.array(
    z.object({
      miner: z.string(),
      hostname: z.string().nullable(),
      site: z.string(),
      model: z.string().nullable(),
      board: z.string().nullable(),
      temp_max_c: z.number().describe('Hottest chip temperature in the window.'),
      temp_mean_c: z.number().nullable(),
      temp_board_max_c: z.number().nullable(),
    }),
  ),
  ...ListFields,
});

export const findHotSpots = defineTool({
  name: 'find_hot_spots',
  title: 'Find hot spots',
  description:
    'The hottest miners (or hashboards) over the window by maximum chip temperature, hottest first, with mean chip and board temperatures.',
  access: 'read',
  category: 'analytics',
  input: z.strictObject({
    window: windowArg,
    to: toArg,
    level: levelArg,
    site: SiteArg.optional(),
    limit: limitArg(10, 100, 'items'),
  }),
  output: HotOut,
  async run(args, ctx) {
    const limit = args.limit ?? 10;
    const r = await ctx.deps.fleetQuery.hotSpots(ctx.caller, { window: args.window, to: args.to, level: args.level, site: args.site, limit });
    const items = await withHostnames(ctx, r.items);
    const make = (n: number) => {
      const structured: z.output<typeof HotOut> = { ...r, items: items.slice(0, n), truncated: r.truncated || n < items.length };
      if (n < items.length) structured.hint = 'items were dropped to fit the answer size; lower limit or filter by site';
      else if (structured.truncated && !structured.hint) structured.hint = `${r.total} match; the worst ${items.length} are shown: raise limit (up to 100) or filter by site`;
      const summary =
        items.length === 0
          ? `No temperature data between ${r.window.from} and ${r.window.to}${r.hint ? `; ${r.hint}` : ''}.`
          : `Hottest of ${r.total} ${r.level}s (${r.window.from} .. ${r.window.to}): ${items
              .slice(0, 5)
              .map(i => `${name(i)} ${i.temp_max_c} °C`)
              .join(', ')}.`;
      return { structured, summary };
    };
    return fitList(items.length, make, budgetFor(args.limit)).answer;
  },
});

// ---- efficiency --------------------------------------------------------------------------------

const EffOut = z.object({
  window: Window,
  source: z.string(),
  order: z.enum(['worst', 'best']),
  fleet_efficiency_jth: z.number().nullable().describe('Sum of power over sum of hashrate of the ranked miners.'),
  excluded: z.number().describe('Miners without both power and hashrate in the window (offline, paused).'),
  items: z.array(
    z.object({
      miner: z.string(),
      hostname: z.string().nullable(),
      site: z.string(),
      model: z.string().nullable(),
      efficiency_jth: z.number(),
      hashrate_ths: z.number(),
      power_w: z.number(),
    }),
  ),
  ...ListFields,
});

export const efficiencyReport = defineTool({
  name: 'efficiency_report',
  title: 'Efficiency report',
  description:
    'Fleet efficiency in J/TH over the window and the least (or most) efficient miners with their hashrate and power; use it to pick miners to retune or curtail first.',
  access: 'read',
  category: 'analytics',
  input: z.strictObject({
    window: windowArg,
    to: toArg,
    order: z.enum(['worst', 'best']).default('worst').describe("'worst' = highest J/TH first (default)."),
    site: SiteArg.optional(),
    limit: limitArg(10, 100, 'miners'),
  }),
  output: EffOut,
  async run(args, ctx) {
    const limit = args.limit ?? 10;
    const r = await ctx.deps.fleetQuery.efficiencyRanking(ctx.caller, { window: args.window, to: args.to, order: args.order, site: args.site, limit });
    const items = await withHostnames(ctx, r.items);
    const make = (n: number) => {
      const structured: z.output<typeof EffOut> = { ...r, items: items.slice(0, n), truncated: r.truncated || n < items.length };
      if (n < items.length) structured.hint = 'items were dropped to fit the answer size; lower limit or filter by site';
      else if (structured.truncated && !structured.hint) structured.hint = `${r.total} match; the worst ${items.length} are shown: raise limit (up to 100) or filter by site`;
      const summary =
        items.length === 0
          ? `No miner had power and hashrate data between ${r.window.from} and ${r.window.to}${r.hint ? `; ${r.hint}` : ''}.`
          : `Fleet efficiency ${r.fleet_efficiency_jth ?? '?'} J/TH over ${r.total} miners (${r.excluded} excluded); ${r.order}: ${items
              .slice(0, 5)
              .map(i => `${name(i)} ${i.efficiency_jth} J/TH`)
              .join(', ')}${r.hint ? `; ${r.hint}` : ''}.`;
      return { structured, summary };
    };
    return fitList(items.length, make, budgetFor(args.limit)).answer;
  },
});

// ---- compare periods ---------------------------------------------------------------------------

const Period = z.object({
  miners: z.number(),
  hashrate_ths: z.number(),
  power_kw: z.number(),
  efficiency_jth: z.number().nullable(),
  availability_pct: z.number().nullable(),
  offline_minutes: z.number(),
});
const Delta = z.object({
  hashrate_ths: z.number(),
  hashrate_pct: z.number().nullable(),
  power_kw: z.number(),
  power_pct: z.number().nullable(),
  efficiency_jth: z.number().nullable(),
  availability_pct: z.number().nullable(),
  offline_minutes: z.number(),
  miners: z.number(),
});

const CompareOut = z.object({
  a: z.object({ from: z.string(), to: z.string(), source: z.string() }),
  b: z.object({ from: z.string(), to: z.string(), source: z.string() }),
  group_by: z.enum(['site', 'model']),
  totals: z.object({ a: Period, b: Period, delta: Delta.describe('b minus a.') }),
  groups: z
    .array(z.object({ group: z.string(), a: Period.nullable(), b: Period.nullable(), delta: Delta.nullable() }))
    .describe('Groups with the largest hashrate change first.'),
  ...ListFields,
});

const pstat = (p: PeriodStats): string =>
  `${p.hashrate_ths} TH/s, ${p.power_kw} kW, ${p.efficiency_jth ?? '?'} J/TH, ${p.availability_pct ?? '?'}% available`;

export const comparePeriods = defineTool({
  name: 'compare_periods',
  title: 'Compare periods',
  description:
    'Compare two time ranges (e.g. this week vs last week, before vs after a change): hashrate, power, J/TH, availability and offline minutes in total and per site or model, with b minus a.',
  access: 'read',
  category: 'analytics',
  input: z.strictObject({
    a_from: TimeArg.describe('Start of period a.'),
    a_to: TimeArg.describe('End of period a.'),
    b_from: TimeArg.describe('Start of period b.'),
    b_to: TimeArg.describe('End of period b.'),
    group_by: z.enum(['site', 'model']).default('site').describe("Break down by 'site' (default) or 'model'."),
    limit: limitArg(6, 50, 'groups'),
  }),
  output: CompareOut,
  async run(args, ctx) {
    const limit = args.limit ?? 6;
    const r = await ctx.deps.fleetQuery.comparePeriods(ctx.caller, {
      a: { from: args.a_from, to: args.a_to },
      b: { from: args.b_from, to: args.b_to },
      groupBy: args.group_by,
    });
    const groups = [...r.groups].sort(
      (x, y) => Math.abs(y.delta?.hashrate_ths ?? Infinity) - Math.abs(x.delta?.hashrate_ths ?? Infinity) || x.group.localeCompare(y.group),
    );
    const make = (n: number) => {
      const shown = Math.min(n, limit);
      const structured: z.output<typeof CompareOut> = {
        a: r.a,
        b: r.b,
        group_by: r.group_by,
        totals: r.totals,
        groups: groups.slice(0, shown),
        total: groups.length,
        limit,
        truncated: groups.length > shown,
      };
      const hints = [r.hint, structured.truncated ? `more ${r.group_by}s exist: raise limit` : undefined].filter(Boolean);
      if (hints.length > 0) structured.hint = hints.join('; ');
      const d = r.totals.delta;
      const summary =
        `a (${r.a.from} .. ${r.a.to}): ${pstat(r.totals.a)}; b (${r.b.from} .. ${r.b.to}): ${pstat(r.totals.b)}. ` +
        `Change: ${d.hashrate_ths >= 0 ? '+' : ''}${d.hashrate_ths} TH/s (${d.hashrate_pct ?? '?'}%), ${d.power_kw >= 0 ? '+' : ''}${d.power_kw} kW, ` +
        `${d.efficiency_jth ?? '?'} J/TH, ${d.offline_minutes >= 0 ? '+' : ''}${d.offline_minutes} offline minutes.`;
      return { structured, summary };
    };
    return fitList(Math.min(limit, groups.length), make, budgetFor(args.limit)).answer;
  },
});

// ---- availability ------------------------------------------------------------------------------

const AvailOut = z.object({
  window: Window,
  source: z.string(),
  level: z.enum(['miner', 'site']),
  fleet: z.object({
    miners: z.number(),
    availability_pct: z.number().nullable(),
    offline_minutes: z.number(),
  }),
  items: z
    .array(
      z.object({
        miner: z.string().nullable(),
        hostname: z.string().nullable(),
        site: z.string(),
        miners: z.number(),
        availability_pct: z.number(),
        offline_minutes: z.number(),
      }),
    )
    .describe('Least available first.'),
  ...ListFields,
});

export const availabilityReport = defineTool({
  name: 'availability_report',
  title: 'Availability report',
  description:
    'Share of polls that reached each miner (or site) over the window and the offline minutes, least available first, with the fleet figure; use it for uptime questions and flaky machines.',
  access: 'read',
  category: 'analytics',
  input: z.strictObject({
    window: DurationArg.optional().describe('Length of the window ending at to (default 24h, at most 90d).'),
    to: toArg,
    level: z.enum(['miner', 'site']).default('miner').describe("'miner' (default) or 'site'."),
    site: SiteArg.optional(),
    limit: limitArg(10, 100, 'items'),
  }),
  output: AvailOut,
  async run(args, ctx) {
    const limit = args.limit ?? 10;
    const now = Date.now();
    // the shared window resolver: names `window` / `to` and caps the window like every analytics tool
    const { fromMs, toMs } = resolveWindow(args.window ?? '24h', args.to, now, MAX_RANGE_MS);
    const r = await ctx.deps.fleetQuery.availability(ctx.caller, { from: fromMs, to: toMs, level: args.level, site: args.site, limit });
    const items = await withHostnames(ctx, r.items);
    const make = (n: number) => {
      const structured: z.output<typeof AvailOut> = { ...r, items: items.slice(0, n), truncated: r.truncated || n < items.length };
      if (n < items.length) structured.hint = 'items were dropped to fit the answer size; lower limit or filter by site';
      else if (structured.truncated && !structured.hint) structured.hint = `${r.total} match; the worst ${items.length} are shown: raise limit (up to 100) or filter by site`;
      const summary = `Availability ${r.fleet.availability_pct ?? '?'}% over ${r.fleet.miners} miners (${r.window.from} .. ${r.window.to}), ${r.fleet.offline_minutes} offline minutes in all${
        items.length ? `; least available: ${items
          .slice(0, 5)
          .map(i => `${i.miner ? name(i) : i.site} ${i.availability_pct}%`)
          .join(', ')}` : ''
      }.`;
      return { structured, summary };
    };
    return fitList(items.length, make, budgetFor(args.limit)).answer;
  },
});

export const analyticsTools = [findUnderperformers, findHotSpots, efficiencyReport, comparePeriods, availabilityReport];
