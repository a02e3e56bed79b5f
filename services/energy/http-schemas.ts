import { z } from 'zod';
import { demandResponseInputSchema } from './prices/demand-response.ts';

/** Request and response schemas of /api/v1/energy (policy bodies are policyInputSchema). */

export const PolicyIdParams = z.strictObject({
  id: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9._:-]+$/, { error: 'expected a policy id of letters, digits, . _ : -' }),
});

export const ExecutionIdParams = z.strictObject({
  id: z.string().regex(/^[0-9a-f]{32}$/, { error: 'expected an execution id (32 hex characters)' }),
});

export const PlanQuery = z.strictObject({
  horizon_hours: z.coerce.number({ error: 'expected horizon_hours as a number' }).positive().max(168, { error: 'expected horizon_hours at most 168' }).optional(),
});

export const ExecutionListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).optional(),
});

export const DemandResponseBody = z.strictObject({
  signal: demandResponseInputSchema,
  /** Answer the plan only; change nothing. @defaultValue false */
  dry_run: z.boolean().default(false),
  /** Whose ramp, order, methods and exemptions apply; default: the tenant's policy for the site. */
  policy_id: PolicyIdParams.shape.id.optional(),
});

export const StoredPolicySchema = z.looseObject({
  id: z.string(),
  tenant: z.string(),
  enabled: z.boolean(),
  horizon_hours: z.number(),
  hashprice_per_ths_day: z.number().nullable(),
  created_ms: z.number(),
  created_by: z.string(),
  updated_ms: z.number(),
  policy: z.looseObject({ id: z.string(), strike_price_per_mwh: z.number(), ramp_kw_per_min: z.number() }),
  price_source: z.looseObject({ kind: z.string() }),
});
export const PolicyListSchema = z.object({ items: z.array(StoredPolicySchema), total: z.number().int() });
export const PolicyRemovedSchema = z.object({ removed: z.literal(true), ended_executions: z.number().int() });

export const PlanSchema = z.looseObject({
  kind: z.enum(['price', 'demand_response']),
  source_id: z.string(),
  computed_at_ms: z.number(),
  from_ms: z.number(),
  to_ms: z.number(),
  prices: z.looseObject({ status: z.string(), fallback_applied: z.string().nullable() }),
  windows: z.array(z.looseObject({ id: z.string(), start_ms: z.number(), end_ms: z.number(), reduction_kw: z.number() })),
  steps: z.array(z.looseObject({ at_ms: z.number(), kind: z.string(), site: z.string(), kw: z.number() })),
  totals: z.looseObject({ energy_avoided_mwh: z.number(), cost_saved: z.number() }),
  exempt_miner_ids: z.array(z.string()),
});
export const PlanAnswerSchema = z.object({ policy_id: z.string(), enabled: z.boolean(), plan: PlanSchema });

export const ExecutionSchema = z.looseObject({
  id: z.string(),
  tenant: z.string(),
  policy_id: z.string(),
  kind: z.enum(['price', 'demand_response']),
  source_id: z.string(),
  status: z.enum(['scheduled', 'curtailing', 'curtailed', 'restoring', 'restore_retrying', 'finished']),
  created_ms: z.number(),
  finished_ms: z.number().nullable(),
  window: z.looseObject({ id: z.string(), start_ms: z.number(), end_ms: z.number() }),
  steps: z.array(z.looseObject({ key: z.string(), at_ms: z.number(), kind: z.string() })),
  runs: z.array(z.looseObject({ key: z.string() })),
  miners: z.array(
    z.object({
      miner_id: z.string(),
      site: z.string(),
      action: z.string(),
      curtail: z.looseObject({ status: z.string(), attempts: z.number() }).nullable(),
      restore: z.looseObject({ status: z.string(), attempts: z.number() }).nullable(),
    }),
  ),
});
export const ExecutionListSchema = z.object({ items: z.array(ExecutionSchema), total: z.number().int() });
export const SignalAnswerSchema = z.object({ dry_run: z.boolean(), plan: PlanSchema, execution: ExecutionSchema.nullable() });
