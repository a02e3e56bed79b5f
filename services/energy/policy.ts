import { z } from 'zod';
import { createHash } from 'node:crypto';
import { parseInput } from './parse-input.ts';
import { PRICE_FALLBACKS, currencySchema } from './price-curve.ts';
import type { EnergyMiner } from './energy-miner.ts';

/**
 * A curtailment policy: which miners (selector), when (strike price), how far (site power cap
 * or a percentage), in which order, by which method per model, and how gently (ramp, minimum
 * on/off times). Exempt labels are never touched.
 */

export const CURTAIL_METHODS = ['power_target', 'pause', 'stop'] as const;
export type CurtailMethod = (typeof CURTAIL_METHODS)[number];

export const CURTAIL_ORDERS = ['least_efficient_first', 'hottest_first'] as const;
export type CurtailOrder = (typeof CURTAIL_ORDERS)[number];

const labelsSchema = z.record(z.string().min(1).max(64), z.string().max(256));

export const policySelectorSchema = z.strictObject({
  tenant: z.string().min(1).optional(),
  site: z.string().min(1).optional(),
  /** Every listed label must match. */
  labels: labelsSchema.optional(),
});
export type PolicySelector = z.output<typeof policySelectorSchema>;

export const curtailTargetSchema = z.discriminatedUnion(
  'kind',
  [
    /** Keep each site's power at or below cap_kw while curtailed. */
    z.strictObject({ kind: z.literal('cap_kw'), cap_kw: z.number().min(0, { error: 'expected cap_kw >= 0' }) }),
    /** Take each site's power down by this share of what it draws at the start of a window. */
    z.strictObject({
      kind: z.literal('reduce_percent'),
      percent: z.number().gt(0, { error: 'expected percent above 0' }).max(100, { error: 'expected percent at most 100' }),
    }),
  ],
  { error: 'expected target { kind: "cap_kw", cap_kw } or { kind: "reduce_percent", percent }' },
);
export type CurtailTarget = z.output<typeof curtailTargetSchema>;

export const curtailmentPolicySchema = z.strictObject({
  id: z.string().min(1).max(128),
  selector: policySelectorSchema,
  currency: currencySchema,
  /** Curtail while the price is above this. */
  strike_price_per_mwh: z.number({ error: 'expected strike_price_per_mwh as a number' }).finite(),
  target: curtailTargetSchema,
  order: z.enum(CURTAIL_ORDERS, { error: 'expected least_efficient_first or hottest_first' }).default('least_efficient_first'),
  method: z
    .strictObject({
      default: z.enum(CURTAIL_METHODS, { error: 'expected power_target, pause or stop' }).default('pause'),
      /** Per model name, exactly as the miner reports it. */
      by_model: z.record(z.string(), z.enum(CURTAIL_METHODS, { error: 'expected power_target, pause or stop' })).default({}),
    })
    .default({ default: 'pause', by_model: {} }),
  /** What a paused or stopped miner still draws (fans, control board), per miner. */
  residual_power_w: z.number().min(0).default(0),
  /** Largest change of each site's power in any one minute, curtailing and restoring alike. */
  ramp_kw_per_min: z.number({ error: 'expected ramp_kw_per_min as a number' }).positive({ error: 'expected ramp_kw_per_min above 0' }),
  min_on_minutes: z.number().min(0).default(0),
  min_off_minutes: z.number().min(0).default(0),
  /** A miner with any of these labels (same value) is never touched. */
  exempt_labels: labelsSchema.default({}),
  /** Price staleness: prices older than this, or no price at all, resolve to `fallback`. */
  max_price_age_minutes: z.number().positive().default(24 * 60),
  fallback: z.enum(PRICE_FALLBACKS, { error: 'expected hold, run or curtail' }).default('hold'),
});

export type CurtailmentPolicy = z.output<typeof curtailmentPolicySchema>;

export function parseCurtailmentPolicy(input: unknown): CurtailmentPolicy {
  return parseInput(curtailmentPolicySchema, input, 'curtailment policy');
}

export function selectorMatches(sel: PolicySelector, m: EnergyMiner): boolean {
  if (sel.tenant !== undefined && m.tenant !== sel.tenant) return false;
  if (sel.site !== undefined && m.site !== sel.site) return false;
  if (sel.labels) for (const [k, v] of Object.entries(sel.labels)) if (m.labels[k] !== v) return false;
  return true;
}

export function isExempt(policy: Pick<CurtailmentPolicy, 'exempt_labels'>, m: EnergyMiner): boolean {
  for (const [k, v] of Object.entries(policy.exempt_labels)) if (m.labels[k] === v) return true;
  return false;
}

export function methodFor(policy: Pick<CurtailmentPolicy, 'method'>, model: string | null): CurtailMethod {
  return (model !== null ? policy.method.by_model[model] : undefined) ?? policy.method.default;
}

/**
 * Stable id of a curtailment window: the same policy and window always give the same id, on
 * every API process, so execution can be keyed on it exactly once.
 */
export function windowId(policyId: string, start_ms: number, end_ms: number): string {
  return createHash('sha256').update(`${policyId}\u0000${start_ms}\u0000${end_ms}`).digest('hex').slice(0, 32);
}
