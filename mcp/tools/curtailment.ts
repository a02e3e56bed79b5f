/**
 * Curtailment on energy prices and grid signals, through the API's energy service: the
 * tenant's policies, the dry-run plan of a policy over the known price curve, and a
 * demand-response signal ("curtail site X to N kW for M minutes") that is planned within the
 * policy's ramp and run as audited jobs. The prompt "plan tonight's curtailment" calls these.
 */
import { z } from 'zod';
import type { CurtailmentPlan } from '../../services/energy/plan.ts';
import { iso } from '../../services/query/time.ts';
import { defineTool } from '../define-tool.ts';
import { ListFields, limitArg } from '../size-budget.ts';
import { DryRunArg } from './shared.ts';

const PolicyIdArg = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:-]+$/, { error: 'expected a policy id of letters, digits, . _ : -' })
  .describe('Curtailment policy id (list_curtailment_policies shows them).');

const PolicyRow = z.object({
  id: z.string(),
  enabled: z.boolean(),
  site: z.string().nullable(),
  strike_price_per_mwh: z.number(),
  currency: z.string(),
  target: z.string(),
  ramp_kw_per_min: z.number(),
  price_source: z.string(),
  fallback: z.string().describe('For stale prices.'),
});

const PoliciesOut = z.object({ items: z.array(PolicyRow), ...ListFields });

export const listCurtailmentPolicies = defineTool({
  name: 'list_curtailment_policies',
  title: 'List curtailment policies',
  description: 'Your curtailment policies: site, strike, target, ramp, price source, fallback.',
  access: 'read',
  category: 'jobs',
  input: z.strictObject({ limit: limitArg(20, 100, 'policies') }),
  output: PoliciesOut,
  async run(args, ctx) {
    const limit = args.limit ?? 20;
    const all = await ctx.deps.plane.energy.listPolicies(ctx.caller);
    const rows = all.map(p => ({
      id: p.id,
      enabled: p.enabled,
      site: p.policy.selector.site ?? null,
      strike_price_per_mwh: p.policy.strike_price_per_mwh,
      currency: p.policy.currency,
      target: p.policy.target.kind === 'cap_kw' ? `cap ${p.policy.target.cap_kw} kW` : `reduce ${p.policy.target.percent} %`,
      ramp_kw_per_min: p.policy.ramp_kw_per_min,
      price_source: p.price_source.kind,
      fallback: p.policy.fallback,
    }));
    const structured: z.output<typeof PoliciesOut> = { items: rows.slice(0, limit), total: rows.length, limit, truncated: rows.length > limit };
    if (rows.length === 0) structured.hint = 'no policy yet: create one with PUT /api/v1/energy/policies/{id}';
    return {
      structured,
      summary: rows.length === 0 ? 'No curtailment policies.' : `${rows.length} policy(ies): ${rows.slice(0, 5).map(r => `${r.id} (${r.site ?? 'all sites'}, strike ${r.strike_price_per_mwh} ${r.currency}/MWh, ${r.target})`).join('; ')}.`,
    };
  },
});

const WindowRow = z.object({
  id: z.string(),
  start: z.string(),
  end: z.string(),
  reasons: z.array(z.string()),
  miners: z.number(),
  kw: z.number().describe('Reduction, kW.'),
  cost_saved: z.number(),
  revenue_forgone: z.number().nullable(),
  shortfall_kw: z.number().describe('Above target by (0: met).'),
  reached_at: z.string().nullable().describe('Last curtail step (ramped).'),
});

const PlanOut = z.object({
  prices: z.string().describe('Price status; names the fallback when it decides.'),
  windows: z.array(WindowRow),
  cost_saved: z.number(),
  revenue_forgone: z.number().nullable(),
  execution_id: z.string().nullable().describe('curtail_now: GET /api/v1/energy/executions/{id}.'),
  dry_run: z.boolean(),
});

const r2 = (n: number): number => Math.round(n * 100) / 100;

function planOut(plan: CurtailmentPlan, dryRun: boolean, executionId: string | null): z.output<typeof PlanOut> {
  const p = plan.prices;
  return {
    prices: p.fallback_applied ? `${p.status}: fallback ${p.fallback_applied}` : p.status,
    windows: plan.windows.map(w => ({
      id: w.id,
      start: iso(w.start_ms),
      end: iso(w.end_ms),
      reasons: w.reasons,
      miners: w.miners_curtailed,
      kw: r2(w.reduction_kw),
      cost_saved: r2(w.cost_saved),
      revenue_forgone: w.revenue_forgone === null ? null : r2(w.revenue_forgone),
      shortfall_kw: r2(w.sites.reduce((a, s) => a + s.shortfall_kw, 0)),
      reached_at: w.sites.some(s => s.reached_at_ms !== null) ? iso(Math.max(...w.sites.map(s => s.reached_at_ms ?? 0))) : null,
    })),
    cost_saved: r2(plan.totals.cost_saved),
    revenue_forgone: plan.totals.revenue_forgone === null ? null : r2(plan.totals.revenue_forgone),
    execution_id: executionId,
    dry_run: dryRun,
  };
}

function planSummary(o: z.output<typeof PlanOut>, currency: string | null): string {
  if (o.windows.length === 0) return `No curtailment planned (prices ${o.prices}).`;
  const ws = o.windows.slice(0, 4).map(w => `${w.start}..${w.end}: ${w.miners} miner(s), -${w.kw} kW${w.shortfall_kw > 0 ? ` (short of target by ${w.shortfall_kw} kW)` : ''}`);
  return `${o.windows.length} window(s) (prices ${o.prices}): ${ws.join('; ')}. Cost saved ${o.cost_saved} ${currency ?? ''}${o.revenue_forgone !== null ? `, revenue forgone ${o.revenue_forgone}` : ''}.`;
}

export const planCurtailmentTool = defineTool({
  name: 'plan_curtailment',
  title: 'Plan curtailment',
  description:
    'Dry run of a curtailment policy over the known prices: windows, miners and kW (least efficient first, within the ramp), cost saved, revenue forgone. Changes nothing.',
  access: 'read',
  category: 'jobs',
  idempotent: true,
  input: z.strictObject({
    policy_id: PolicyIdArg,
    horizon_hours: z.coerce.number().positive().max(168).optional().describe('Hours ahead (default: policy).'),
  }),
  output: PlanOut,
  async run(args, ctx) {
    const r = await ctx.deps.plane.energy.plan(ctx.caller, args.policy_id, args.horizon_hours !== undefined ? { horizon_hours: args.horizon_hours } : {});
    const structured = planOut(r.plan, true, null);
    return { structured, summary: `${r.enabled ? '' : '(policy disabled) '}${planSummary(structured, r.plan.currency)}` };
  },
});

export const curtailNow = defineTool({
  name: 'curtail_now',
  title: 'Curtail now (demand response)',
  description:
    "Demand response: cap a site to cap_kw (or reduce_percent) for duration_minutes within the policy's ramp; miners restored after.",
  access: 'control',
  category: 'control',
  input: z.strictObject({
    site: z.string().min(1).max(128).describe('The site to curtail.'),
    cap_kw: z.coerce.number().min(0).optional().describe('Site power cap, kW (or give reduce_percent).'),
    reduce_percent: z.coerce.number().gt(0).max(100).optional().describe("Reduce the site's power by this percent."),
    duration_minutes: z.coerce.number().positive().max(10_080).describe('How long, minutes.'),
    signal_id: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[A-Za-z0-9._:-]+$/)
      .optional()
      .describe('Grid event id (runs once).'),
    policy_id: PolicyIdArg.optional().describe("Rules from (default: the site's)."),
    dry_run: DryRunArg,
  }),
  output: PlanOut,
  async run(args, ctx) {
    const id = args.signal_id ?? `mcp-${Date.now()}`;
    const signal = {
      id,
      site: args.site,
      duration_minutes: args.duration_minutes,
      ...(args.cap_kw !== undefined ? { cap_kw: args.cap_kw } : {}),
      ...(args.reduce_percent !== undefined ? { reduce_percent: args.reduce_percent } : {}),
    };
    const r = await ctx.deps.plane.energy.signal(ctx.caller, signal, { dry_run: args.dry_run, ...(args.policy_id ? { policy_id: args.policy_id } : {}) });
    const structured = planOut(r.plan, r.dry_run, r.execution?.id ?? null);
    const head = r.dry_run ? 'Dry run (nothing changed): ' : `Signal ${id} given; execution ${r.execution!.id} runs the steps. `;
    return { structured, summary: head + planSummary(structured, r.plan.currency) };
  },
});

export const energyReadTools = [listCurtailmentPolicies, planCurtailmentTool];
export const energyControlTools = [curtailNow];
