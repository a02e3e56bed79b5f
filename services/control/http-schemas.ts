import { z } from 'zod';
import { FLEET_ERROR_CODES } from '../../core/errors.ts';
import { minerIdSchema } from '../../collector/inventory/schema.ts';
import { JOB_STATUSES, JOB_TYPES } from '../jobs/types.ts';
import { MINER_ACTIONS, RELATIVE_REFERENCES, poolGroupInputSchema } from './requests.ts';
import { dryRunFields, oneDryRun, oneDryRunMsg } from './dry-run.ts';
import { minerSelectorSchema } from './selector.ts';

export { dryRunOf } from './dry-run.ts';

/**
 * Request and response schemas of the control routes (api/routes/v1/control.ts, jobs.ts);
 * MCP tools reuse them. Bodies are strict: an unknown key is a 400 naming it.
 */

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const DryRun = z
  .boolean()
  .default(false)
  .describe(
    'Only report which miners would change, how, and the expected effect on power and hashrate; nothing is sent to the miners.',
  );


/** `selector` or `id`, exactly one. */
const target = {
  selector: minerSelectorSchema
    .optional()
    .describe('Which miners (criteria are ANDed; `all: true` for the whole fleet).'),
  id: minerIdSchema.optional().describe('One miner (alternative to selector).'),
};
const oneTarget = (b: { selector?: unknown; id?: unknown }): boolean =>
  (b.selector === undefined) !== (b.id === undefined);
const oneTargetMsg = { error: 'give selector or id (exactly one)' };

export const MinerActionBody = z
  .strictObject({
    action: z
      .enum(MINER_ACTIONS)
      .describe('reboot | restart | pause | resume | stop | start | locate_on | locate_off'),
    ...dryRunFields,
  })
  .refine(oneDryRun, oneDryRunMsg);

export const SelectorActionBody = z
  .strictObject({
    selector: minerSelectorSchema,
    action: z.enum(MINER_ACTIONS),
    ...dryRunFields,
  })
  .refine(oneDryRun, oneDryRunMsg);

export const PowerTargetBody = z
  .strictObject({
    ...target,
    watt: z.number().int().min(1).max(100_000).optional().describe('Absolute power target, W.'),
    delta_w: z
      .number()
      .int()
      .min(-100_000)
      .max(100_000)
      .optional()
      .describe('Change of the current target, W (IncrementPowerTarget / DecrementPowerTarget).'),
    percent: z
      .number()
      .gt(0)
      .max(1_000)
      .optional()
      .describe('Percentage of `reference` (SetRelativePowerTarget).'),
    reference: z
      .enum(RELATIVE_REFERENCES)
      .optional()
      .describe("The miner's own nominal, current, min or max power target."),
    ...dryRunFields,
  })
  .refine(oneTarget, oneTargetMsg)
  .refine(oneDryRun, oneDryRunMsg);

export const HashrateTargetBody = z
  .strictObject({
    ...target,
    ths: z.number().gt(0).max(10_000).optional().describe('Absolute hashrate target, TH/s.'),
    delta_ths: z.number().min(-10_000).max(10_000).optional().describe('Change of the current target, TH/s.'),
    percent: z.number().gt(0).max(1_000).optional(),
    reference: z.enum(RELATIVE_REFERENCES).optional(),
    ...dryRunFields,
  })
  .refine(oneTarget, oneTargetMsg)
  .refine(oneDryRun, oneDryRunMsg);

export const PoolsBody = z
  .strictObject({
    ...target,
    op: z
      .enum(['replace', 'create', 'update', 'remove'])
      .default('replace')
      .describe('replace all groups (SetPoolGroups), or create / update / remove one group.'),
    groups: z
      .array(poolGroupInputSchema)
      .min(1)
      .max(8)
      .optional()
      .describe('op=replace: the new groups (no uid).'),
    group: poolGroupInputSchema.optional().describe('op=create|update: the group (update needs its uid).'),
    uid: z.string().min(1).max(128).optional().describe('op=remove: uid of the group.'),
    ...dryRunFields,
  })
  .refine(oneTarget, oneTargetMsg)
  .refine(oneDryRun, oneDryRunMsg);

export const CoolingBody = z
  .strictObject({
    ...target,
    mode: z.enum(['auto', 'manual', 'immersion']),
    target_c: z.number().min(0).max(200).optional(),
    hot_c: z.number().min(0).max(200).optional(),
    dangerous_c: z.number().min(0).max(200).optional(),
    fan_speed_ratio: z.number().min(0).max(1).optional().describe('manual: fan speed 0..1.'),
    min_fan_speed_pct: z.number().int().min(0).max(100).optional(),
    max_fan_speed_pct: z.number().int().min(0).max(100).optional(),
    minimum_required_fans: z.number().int().min(0).max(16).optional(),
    ...dryRunFields,
  })
  .refine(oneTarget, oneTargetMsg)
  .refine(oneDryRun, oneDryRunMsg);

export const HashboardsBody = z
  .strictObject({
    ...target,
    enable: z.boolean(),
    hashboard_ids: z.array(z.string().min(1).max(32)).min(1).max(16),
    ...dryRunFields,
  })
  .refine(oneTarget, oneTargetMsg)
  .refine(oneDryRun, oneDryRunMsg);

export const MinerIdParams = z.strictObject({ id: minerIdSchema });

export const MinerResult = z.object({
  id: z.string(),
  site: z.string(),
  status: z.enum([
    'pending',
    'running',
    'would_apply',
    'ok',
    'failed',
    'invalid',
    'skipped',
    'cancelled',
    'rolled_back',
  ]),
  code: z.enum(FLEET_ERROR_CODES).optional(),
  outcome: z
    .string()
    .optional()
    .describe('Rollouts: the per-miner outcome (upgraded, skipped, upload_refused, wrong_version, …).'),
  message: z.string().optional(),
  changes: z.array(z.object({ field: z.string(), current: scalar, new: scalar })).optional(),
  started_ms: z.number().optional(),
  finished_ms: z.number().optional(),
  data: z.record(z.string(), scalar).optional(),
});

export const JobSummarySchema = z.object({
  id: z.string(),
  type: z.enum(JOB_TYPES),
  status: z.enum(JOB_STATUSES),
  label: z.string(),
  created_by: z.string(),
  created_ms: z.number(),
  started_ms: z.number().nullable(),
  finished_ms: z.number().nullable(),
  miners_total: z.number().int(),
  progress: z
    .object({
      total: z.number(),
      done: z.number(),
      ok: z.number(),
      failed: z.number(),
      invalid: z.number(),
      skipped: z.number(),
      cancelled: z.number(),
      phase: z.string().optional(),
      outcomes: z
        .record(z.string(), z.number())
        .optional()
        .describe('Rollouts: how many miners ended in each outcome so far.'),
    })
    .nullable(),
  message: z.string().nullable(),
});

export const ControlResponseSchema = z.object({
  dry_run: z.boolean(),
  mode: z.enum(['inline', 'job', 'dry_run']),
  status: z
    .enum(['ok', 'partial', 'refused', 'none_ran', 'queued'])
    .describe(
      'Whether anything ran (dry run: would run): ok = every miner, partial = some, refused = none (each refused by its limits), none_ran = none (failed, or nothing matched), queued = a batch job; its per-miner outcomes are at /api/v1/jobs/{id}.',
    ),
  description: z.string(),
  request: z.unknown().describe('The request as understood, with pool passwords replaced by [redacted].'),
  matched: z.number().int(),
  not_found: z.array(z.string()).describe('Requested ids that are not miners of your tenant.'),
  job: JobSummarySchema.nullable().describe(
    'The batch job (mode=job); follow it at /api/v1/jobs/{id} or /api/v1/jobs/{id}/events.',
  ),
  miners: z.array(MinerResult),
  miners_truncated: z.boolean(),
  counts: z.record(z.string(), z.number()),
  effect: z.object({
    power_kw: z.number().describe('Expected change of fleet power, kW (negative = less).'),
    hashrate_ths: z.number().describe('Expected change of fleet hashrate, TH/s.'),
    miners_estimated: z.number().int(),
    miners_unknown: z.number().int(),
    note: z.string(),
  }),
});

// ---- jobs ----

export const JobListQuery = z.strictObject({
  status: z.enum(JOB_STATUSES).optional(),
  type: z.enum(JOB_TYPES).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

export const JobIdParams = z.strictObject({ id: z.uuid({ error: 'expected a job id (UUID)' }) });

export const JobGetQuery = z.strictObject({
  results_limit: z.coerce.number().int().min(0).max(10_000).default(1_000),
  results_offset: z.coerce.number().int().min(0).default(0),
  result_status: MinerResult.shape.status.optional(),
});

export const JobStepsQuery = z.strictObject({
  after: z
    .string()
    .regex(/^\d+-\d+$|^0$/, { error: 'expected a step id such as 1760000000000-0' })
    .optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(1_000),
});

export const JobStepSchema = z.object({
  id: z.string(),
  time_ms: z.number(),
  kind: z.enum(['job', 'wave', 'miner', 'gate', 'rollback']),
  message: z.string(),
  status: z.string().optional(),
  miner: z.string().optional(),
  site: z.string().optional(),
  code: z.enum(FLEET_ERROR_CODES).optional(),
  data: z.record(z.string(), scalar).optional(),
});

export const JobListSchema = z.object({
  items: z.array(JobSummarySchema),
  total: z.number().int(),
  limit: z.number().int(),
  truncated: z.boolean(),
  hint: z.string().optional(),
});

export const JobDetailSchema = JobSummarySchema.extend({
  payload: z.unknown(),
  outcome: z
    .object({
      outcome: z.string(),
      message: z.string(),
      summary: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
    })
    .nullable(),
  error: z.string().nullable(),
  attempts: z.number().int(),
  results: z.array(MinerResult),
  results_total: z.number().int(),
  results_truncated: z.boolean(),
});

export const JobStepsSchema = z.object({ steps: z.array(JobStepSchema), status: z.enum(JOB_STATUSES) });
