/**
 * Fleet-wide state from stored data: the overview (totals, per site, per model), pool health
 * and the event log. Answers come from the collector's aggregates and indexes, so they cost the
 * same at 10 or 10,000 miners.
 */
import { z } from 'zod';
import { HEALTH_STATUSES } from '../../core/samples.ts';
import { EVENT_KINDS, EVENT_SEVERITIES } from '../../api/schemas/events.ts';
import type { FleetSummary } from '../../api/schemas/fleet.ts';
import { defineTool } from '../define-tool.ts';
import { ListFields, budgetFor, clip, fitList, limitArg } from '../size-budget.ts';
import { MinerArg, SiteArg, TimeArg } from './shared.ts';

const StatusCounts = z.object(Object.fromEntries(HEALTH_STATUSES.map(s => [s, z.number()])) as Record<
  (typeof HEALTH_STATUSES)[number],
  z.ZodNumber
>);

const Totals = z.object({
  miners: z.number(),
  by_status: StatusCounts,
  overheating: z.number(),
  hashrate_ths: z.number().describe('Real hashrate of the miners reached by their last poll, TH/s.'),
  hashrate_nominal_ths: z.number(),
  pct_nominal: z.number().nullable().describe('Real over nominal hashrate, percent.'),
  power_kw: z.number(),
  efficiency_jth: z.number().nullable(),
  boards_hashing: z.number(),
  boards_total: z.number(),
});

const SiteRow = z.object({
  site: z.string(),
  miners: z.number(),
  online: z.number(),
  degraded: z.number(),
  offline: z.number(),
  paused_or_stopped: z.number(),
  hashrate_ths: z.number(),
  pct_nominal: z.number().nullable(),
  power_kw: z.number(),
  efficiency_jth: z.number().nullable(),
});

const FleetOverview = z.object({
  tenant: z.string(),
  updated_at: z.string().nullable().describe('When the collector last computed these figures (ISO 8601).'),
  stale: z.boolean().describe('True when the figures are older than 3 poll intervals: is the collector running?'),
  totals: Totals,
  sites: z.array(SiteRow).describe('Sites with the most miners first.'),
  sites_total: z.number(),
  models: z.array(
    z.object({
      model: z.string(),
      miners: z.number(),
      offline: z.number().nullable(),
      hashrate_ths: z.number(),
      pct_nominal: z.number().nullable(),
      power_kw: z.number(),
    }),
  ),
  models_total: z.number(),
  truncated: z.boolean().describe('True when sites or models were left out; pass limit for more.'),
  state: z.enum(['ok', 'awaiting_first_poll', 'no_miners']),
  registered_miners: z.number().optional(),
  first_poll_due: z.string().nullable().optional(),
  hint: z.string().optional(),
});
type FleetOverview = z.output<typeof FleetOverview>;

export function overviewOf(s: FleetSummary, limit: number): FleetOverview {
  const sites = [...s.by_site].sort((a, b) => b.miners - a.miners || a.site.localeCompare(b.site));
  const models = s.by_model;
  const out: FleetOverview = {
    tenant: s.tenant,
    updated_at: s.updated_at,
    stale: s.stale,
    totals: s.totals,
    sites: sites.slice(0, limit).map(x => ({
      site: x.site,
      miners: x.miners,
      online: x.by_status.online,
      degraded: x.by_status.degraded,
      offline: x.by_status.offline,
      paused_or_stopped: x.by_status.paused + x.by_status.stopped,
      hashrate_ths: x.hashrate_ths,
      pct_nominal: x.pct_nominal,
      power_kw: x.power_kw,
      efficiency_jth: x.efficiency_jth,
    })),
    sites_total: sites.length,
    models: models.slice(0, limit).map(m => ({
      model: m.model,
      miners: m.miners,
      offline: m.by_status.offline,
      hashrate_ths: m.hashrate_ths,
      pct_nominal: m.pct_nominal,
      power_kw: m.power_kw,
    })),
    models_total: models.length,
    truncated: sites.length > limit || models.length > limit,
    state: s.state,
  };
  if (s.registered_miners !== undefined) out.registered_miners = s.registered_miners;
  if (s.first_poll_due !== undefined) out.first_poll_due = s.first_poll_due;
  const hints: string[] = [];
  if (s.hint) hints.push(s.hint);
  // before the first poll there are no figures to be stale; the hint says when they are due
  if (s.stale && s.state === 'ok') hints.push('figures are stale: check that the collector is running');
  if (out.truncated) hints.push('more sites or models exist: raise limit, or use list_miners with site/model');
  if (hints.length > 0) out.hint = hints.join('; ');
  return out;
}

export function overviewSummary(o: FleetOverview): string {
  if (o.state === 'awaiting_first_poll')
    return `Fleet '${o.tenant}': ${o.registered_miners ?? '?'} miners registered, first poll due by ${o.first_poll_due ?? 'the time the collector runs (it has not reported)'}; no figures yet.`;
  if (o.state === 'no_miners') return `Fleet '${o.tenant}': no miners registered yet. ${o.hint ?? ''}`.trim();
  const t = o.totals;
  const st = t.by_status;
  return (
    `Fleet '${o.tenant}': ${t.miners} miners (${st.online} online, ${st.degraded} degraded, ${st.offline} offline, ` +
    `${st.paused + st.stopped} paused/stopped), ${t.hashrate_ths} TH/s = ${t.pct_nominal ?? '?'}% of nominal, ` +
    `${t.power_kw} kW, ${t.efficiency_jth ?? '?'} J/TH, ${t.overheating} overheating; ` +
    `${o.sites_total} site(s). As of ${o.updated_at ?? 'unknown'}${o.stale ? ' (STALE)' : ''}.`
  );
}

export const fleetOverview = defineTool({
  name: 'fleet_overview',
  title: 'Fleet overview',
  description:
    'Start here: totals of the whole fleet (miners by status, hashrate vs nominal, power, J/TH, overheating) with per-site and per-model rows. Stored data, cheap at any fleet size.',
  access: 'read',
  category: 'fleet',
  input: z.strictObject({
    limit: limitArg(8, 100, 'sites and models'),
  }),
  output: FleetOverview,
  async run(args, ctx) {
    const s = await ctx.deps.fleetQuery.summary(ctx.caller);
    const structured = overviewOf(s, args.limit ?? 8);
    return { structured, summary: overviewSummary(structured) };
  },
});

// ---- pool health -------------------------------------------------------------------------------

const PoolRow = z.object({
  url: z.string().describe('Pool URL without credentials.'),
  miners: z.number().describe('Miners with this pool configured.'),
  active_miners: z.number().describe('Miners mining on it now.'),
  alive: z.number(),
  dead: z.number().describe('Miners that see the pool dead.'),
  rejected_pct: z.number().nullable(),
  stale_pct: z.number().nullable(),
});

const PoolHealthOut = z.object({
  items: z.array(PoolRow).describe('Most used pools first.'),
  ...ListFields,
  miners_reporting: z.number(),
  updated_at: z.string().nullable(),
});

export const poolHealth = defineTool({
  name: 'pool_health',
  title: 'Pool health',
  description:
    'Use when hashing might not be paid: per pool URL, how many miners use it, how many see it dead, and rejected/stale share percentages.',
  access: 'read',
  category: 'fleet',
  input: z.strictObject({
    site: SiteArg.optional(),
    limit: limitArg(10, 100, 'pools'),
  }),
  output: PoolHealthOut,
  async run(args, ctx) {
    const limit = args.limit ?? 10;
    const r = await ctx.deps.fleetQuery.poolHealth(ctx.caller, { site: args.site, limit });
    const items = r.items.map(p => ({
      url: p.url,
      miners: p.miners,
      active_miners: p.active_miners,
      alive: p.alive,
      dead: p.dead,
      rejected_pct: p.rejected_pct,
      stale_pct: p.stale_pct,
    }));
    const make = (n: number) => {
      const structured: z.output<typeof PoolHealthOut> = {
        items: items.slice(0, n),
        total: r.total,
        limit,
        truncated: r.truncated || n < items.length,
        miners_reporting: r.miners_reporting,
        updated_at: r.updated_at,
      };
      if (r.hint) structured.hint = r.hint;
      else if (structured.truncated) structured.hint = 'more pools exist: raise limit or filter by site';
      const dead = items.filter(p => p.dead > 0);
      const summary =
        items.length === 0
          ? `No pools reported${r.hint ? `: ${r.hint}` : ''}.`
          : `${r.total} pool(s) over ${r.miners_reporting} reporting miners; ${dead.length > 0 ? `${dead.length} seen dead by some miners (${dead
              .slice(0, 3)
              .map(p => `${p.url}: ${p.dead}`)
              .join(', ')})` : 'none seen dead'}.`;
      return { structured, summary };
    };
    return fitList(items.length, make, budgetFor(args.limit)).answer;
  },
});

// ---- events ------------------------------------------------------------------------------------

const EventRow = z.object({
  time: z.string(),
  miner: z.string().describe('Miner id; empty for fleet-wide events.'),
  hostname: z.string().nullable(),
  site: z.string(),
  kind: z.string(),
  severity: z.enum(EVENT_SEVERITIES),
  message: z.string(),
  actor: z.string().nullable().describe('Who did it (control actions and job steps).'),
  result: z.string().nullable(),
});

const EventsOut = z.object({
  items: z.array(EventRow).describe('Newest first.'),
  limit: z.number(),
  truncated: z.boolean(),
  source: z.enum(['recent', 'history']),
  hint: z.string().optional(),
});

export const getEvents = defineTool({
  name: 'get_events',
  title: 'Fleet events',
  description:
    'The audit trail, newest first: status changes, reboots, lost hashboards, overheating, dead pools, firmware changes, control actions and job steps; filter by miner, kind, severity and time.',
  access: 'read',
  category: 'fleet',
  input: z.strictObject({
    miner: MinerArg.optional(),
    kind: z.enum(EVENT_KINDS).optional().describe('Only this kind of event.'),
    severity: z.enum(EVENT_SEVERITIES).optional().describe('Only this severity.'),
    from: TimeArg.optional().describe('Oldest event time (default: the latest events).'),
    to: TimeArg.optional().describe('Newest event time (default: now).'),
    limit: limitArg(20, 200, 'events'),
  }),
  output: EventsOut,
  async run(args, ctx) {
    const limit = args.limit ?? 20;
    const r = await ctx.deps.fleetQuery.events(ctx.caller, {
      miner: args.miner,
      kind: args.kind,
      severity: args.severity,
      from: args.from,
      to: args.to,
      limit,
    });
    const names = await ctx.lookup.hostnames(
      ctx.caller,
      r.items.map(e => e.miner),
    );
    const items = r.items.map(e => ({
      time: e.time,
      miner: e.miner,
      hostname: names.get(e.miner) ?? null,
      site: e.site,
      kind: e.kind,
      severity: e.severity,
      message: clip(e.message, 200),
      actor: e.actor,
      result: e.result,
    }));
    const make = (n: number) => {
      const structured: z.output<typeof EventsOut> = {
        items: items.slice(0, n),
        limit,
        truncated: r.truncated || n < items.length,
        source: r.source,
      };
      if (r.hint) structured.hint = r.hint;
      else if (structured.truncated) structured.hint = 'more events match: narrow from/to, miner, kind or severity';
      const bySeverity = items.reduce<Record<string, number>>((a, e) => ((a[e.severity] = (a[e.severity] ?? 0) + 1), a), {});
      const summary =
        items.length === 0
          ? `No events match${r.hint ? ` (${r.hint})` : ''}.`
          : `${items.length}${structured.truncated ? '+' : ''} event(s) (${Object.entries(bySeverity)
              .map(([k, v]) => `${v} ${k}`)
              .join(', ')}); newest: ${items[0]!.time} ${items[0]!.miner || '(fleet)'} ${items[0]!.kind}: ${clip(items[0]!.message, 100)}.`;
      return { structured, summary };
    };
    return fitList(items.length, make, budgetFor(args.limit)).answer;
  },
});

export const fleetTools = [fleetOverview, poolHealth, getEvents];
