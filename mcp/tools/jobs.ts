/**
 * Durable jobs (batch control, firmware rollouts) and power schedules: list and inspect them
 * (viewer), pause, resume or cancel a job (operator).
 */
import { z } from 'zod';
import { JOB_STATUSES, JOB_TYPES, type MinerJobResult } from '../../services/jobs/types.ts';
import { iso } from '../../services/query/time.ts';
import { defineTool } from '../define-tool.ts';
import { ListFields, budgetFor, clip, fitList, limitArg } from '../size-budget.ts';
import { JobView, failureText, jobLine, jobView } from './shared.ts';

const JobIdArg = z.uuid({ error: 'expected a job id (UUID) as list_jobs shows it' }).describe('Job id (list_jobs shows them).');

// ---- list_jobs ---------------------------------------------------------------------------------

const JobListOut = z.object({ items: z.array(JobView).describe('Newest first.'), ...ListFields });

export const listJobs = defineTool({
  name: 'list_jobs',
  title: 'List jobs',
  description:
    'Your batch-control and firmware-rollout jobs, newest first, with status and progress counts; filter by status or type.',
  access: 'read',
  category: 'jobs',
  input: z.strictObject({
    status: z.enum(JOB_STATUSES).optional().describe('Only jobs in this status.'),
    type: z.enum(JOB_TYPES).optional().describe('Only this kind of job.'),
    limit: limitArg(10, 100, 'jobs'),
  }),
  output: JobListOut,
  async run(args, ctx) {
    const limit = args.limit ?? 10;
    const r = await ctx.deps.plane.jobs.list(ctx.caller, { status: args.status, type: args.type, limit });
    const jobs = r.items.map(jobView);
    const make = (n: number) => {
      const structured: z.output<typeof JobListOut> = {
        items: jobs.slice(0, n),
        total: r.total,
        limit,
        truncated: r.truncated || n < jobs.length,
      };
      const hints = [r.hint, structured.truncated ? 'more jobs exist: filter by status or type, or raise limit' : undefined].filter(Boolean);
      if (hints.length > 0) structured.hint = hints.join('; ');
      const running = jobs.filter(j => ['queued', 'running', 'paused', 'cancelling'].includes(j.status)).length;
      const summary =
        r.total === 0
          ? 'No jobs match.'
          : `${r.total} job(s), ${running} not finished: ${jobs
              .slice(0, 4)
              .map(j => `${j.label} [${j.status}]`)
              .join('; ')}${jobs.length > 4 ? '; …' : ''}.`;
      return { structured, summary };
    };
    return fitList(jobs.length, make, budgetFor(args.limit)).answer;
  },
});

// ---- get_job -----------------------------------------------------------------------------------

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

const JobDetailOut = JobView.extend({
  outcome: z.string().nullable().describe('succeeded, partially_failed, failed, cancelled or halted once finished.'),
  summary: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).nullable(),
  results_by_status: z.record(z.string(), z.number()).describe('Miners per result status (rollouts: per outcome word).'),
  results: z
    .array(
      z.object({
        id: z.string(),
        hostname: z.string().nullable(),
        site: z.string(),
        status: z.string(),
        outcome: z.string().optional().describe('Rollouts: upgraded, skipped, upload_refused, wrong_version, unhealthy, timeout, rolled_back, rollback_failed, not_started, …'),
        code: z.string().optional(),
        message: z.string().optional(),
        finished_at: z.string().nullable(),
        data: z.record(z.string(), scalar).optional(),
      }),
    )
    .describe('Per-miner results, failures first.'),
  results_total: z.number(),
  steps: z.array(z.object({ time: z.string(), kind: z.string(), message: z.string(), miner: z.string().optional() })).describe('Latest steps, oldest first.'),
  truncated: z.boolean(),
  hint: z.string().optional(),
});

const RESULT_ORDER: Record<string, number> = { failed: 0, rolled_back: 1, invalid: 2, running: 3, pending: 4, cancelled: 5, skipped: 6, ok: 7, would_apply: 8 };

export const getJob = defineTool({
  name: 'get_job',
  title: 'Get job',
  description:
    'One job in detail: status, progress, outcome, per-miner results (failures first, filter with result_status) and its latest steps.',
  access: 'read',
  category: 'jobs',
  input: z.strictObject({
    id: JobIdArg,
    result_status: z
      .enum(['pending', 'running', 'ok', 'failed', 'invalid', 'skipped', 'cancelled', 'rolled_back'])
      .optional()
      .describe('Only per-miner results in this status.'),
    limit: limitArg(10, 200, 'per-miner results'),
  }),
  output: JobDetailOut,
  async run(args, ctx) {
    const limit = args.limit ?? 10;
    const d = await ctx.deps.plane.jobs.get(ctx.caller, args.id, { resultsLimit: 10_000, resultStatus: args.result_status });
    const byStatus: Record<string, number> = {};
    // Rollout results are counted by their outcome word, the same words as the job's summary.
    for (const r of d.results) byStatus[r.outcome ?? r.status] = (byStatus[r.outcome ?? r.status] ?? 0) + 1;
    const sorted = [...d.results].sort(
      (a: MinerJobResult, b: MinerJobResult) => (RESULT_ORDER[a.status] ?? 9) - (RESULT_ORDER[b.status] ?? 9) || (a.id < b.id ? -1 : 1),
    );
    const names = await ctx.lookup.hostnames(
      ctx.caller,
      sorted.slice(0, limit).map(r => r.id),
    );
    const results = sorted.slice(0, limit).map(r => ({
      id: r.id,
      hostname: names.get(r.id) ?? null,
      site: r.site,
      status: r.status,
      ...(r.outcome ? { outcome: r.outcome } : {}),
      ...(r.code ? { code: r.code } : {}),
      ...(r.message ? { message: clip(r.message, 200) } : {}),
      finished_at: r.finished_ms ? iso(r.finished_ms) : null,
      ...(r.data ? { data: Object.fromEntries(Object.entries(r.data).slice(0, 8)) } : {}),
    }));
    const steps = await ctx.deps.plane.jobs
      .steps(ctx.caller, args.id, { limit: 10_000 })
      .then(s => s.steps.slice(-5))
      .catch(() => []);
    const view = jobView(d);
    const make = (n: number) => {
      const structured: z.output<typeof JobDetailOut> = {
        ...view,
        outcome: d.outcome?.outcome ?? null,
        summary: d.outcome?.summary ?? null,
        results_by_status: byStatus,
        results: results.slice(0, n),
        results_total: d.results_total,
        steps: steps.map(s => ({ time: iso(s.time_ms), kind: s.kind, message: clip(s.message, 200), ...(s.miner ? { miner: s.miner } : {}) })),
        truncated: d.results_total > n,
      };
      if (structured.truncated) structured.hint = 'more per-miner results exist: filter with result_status or raise limit';
      const summary = `${view.label}: ${jobLine(view)}${d.outcome ? ` (outcome ${d.outcome.outcome})` : ''}; results ${Object.entries(byStatus)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ') || 'none yet'}.${failureText(results)}`;
      return { structured, summary };
    };
    return fitList(results.length, make, budgetFor(args.limit)).answer;
  },
});

// ---- pause / resume / cancel -------------------------------------------------------------------

const JobCommandOut = z.object({ job: JobView, hint: z.string().optional() });

function jobCommand(name: 'pause_job' | 'resume_job' | 'cancel_job', description: string) {
  const verb = name.split('_')[0] as 'pause' | 'resume' | 'cancel';
  return defineTool({
    name,
    title: `${verb[0]!.toUpperCase()}${verb.slice(1)} job`,
    description,
    access: 'control',
    category: 'jobs',
    idempotent: true,
    input: z.strictObject({ id: JobIdArg }),
    output: JobCommandOut,
    async run(args, ctx) {
      const jobs = ctx.deps.plane.jobs;
      const s = verb === 'pause' ? await jobs.pause(ctx.caller, args.id) : verb === 'resume' ? await jobs.resume(ctx.caller, args.id) : await jobs.cancel(ctx.caller, args.id);
      const job = jobView(s);
      const structured: z.output<typeof JobCommandOut> = { job };
      if (verb === 'cancel') structured.hint = 'miners already changed stay changed; miners not started are reported cancelled';
      if (verb === 'pause') structured.hint = 'miners in flight finish; no new miner starts until resume_job';
      return { structured, summary: `${verb} requested: ${jobLine(job)}.` };
    },
  });
}

export const pauseJob = jobCommand('pause_job', 'Pause a running job: miners in flight finish, no new miner or wave starts until resume_job.');
export const resumeJob = jobCommand('resume_job', 'Resume a paused job where it stopped.');
export const cancelJob = jobCommand(
  'cancel_job',
  'Cancel a job: no new miner starts and in-flight uploads or waits are aborted; miners already changed stay changed.',
);

// ---- list_power_schedules ----------------------------------------------------------------------

const ScheduleRow = z.object({
  id: z.string(),
  name: z.string(),
  selector: z.record(z.string(), z.unknown()).describe('Which miners the schedule acts on.'),
  cron: z.string(),
  timezone: z.string(),
  duration_s: z.number().nullable(),
  end_cron: z.string().nullable(),
  action: z.string().describe("'pause' or 'power_target <W> W'."),
  enabled: z.boolean(),
  created_by: z.string(),
  next_start: z.string().nullable(),
  next_end: z.string().nullable(),
  recent_windows: z
    .array(z.object({ start: z.string(), end: z.string(), miners: z.number(), late: z.boolean(), note: z.string().nullable() }))
    .describe('Latest windows first (at most 3).'),
});

const SchedulesOut = z.object({ items: z.array(ScheduleRow), ...ListFields });

export const listPowerSchedules = defineTool({
  name: 'list_power_schedules',
  title: 'List power schedules',
  description:
    'Your recurring curtailment windows: which miners, when (cron and time zone), pause or power target, next start and end, and the latest windows run.',
  access: 'read',
  category: 'jobs',
  input: z.strictObject({ limit: limitArg(10, 100, 'schedules') }),
  output: SchedulesOut,
  async run(args, ctx) {
    const limit = args.limit ?? 10;
    const all = await ctx.deps.plane.schedules.list(ctx.caller);
    const rows = all.map(s => ({
      id: s.id,
      name: s.name,
      selector: s.selector as Record<string, unknown>,
      cron: s.cron,
      timezone: s.timezone,
      duration_s: s.duration_ms === null ? null : s.duration_ms / 1_000,
      end_cron: s.end_cron,
      action: s.action.type === 'pause' ? 'pause' : `power_target ${s.action.watt} W`,
      enabled: s.enabled,
      created_by: s.created_by,
      next_start: s.next_start_ms === null ? null : iso(s.next_start_ms),
      next_end: s.next_end_ms === null ? null : iso(s.next_end_ms),
      recent_windows: s.recent_windows.slice(0, 3).map(w => ({
        start: iso(w.start_ms),
        end: iso(w.end_ms),
        miners: w.miners,
        late: w.late,
        note: w.note,
      })),
    }));
    const make = (n: number) => {
      const shown = Math.min(n, limit);
      const structured: z.output<typeof SchedulesOut> = {
        items: rows.slice(0, shown),
        total: rows.length,
        limit,
        truncated: rows.length > shown,
      };
      if (structured.truncated) structured.hint = 'more schedules exist: raise limit';
      const summary =
        rows.length === 0
          ? 'No power schedules.'
          : `${rows.length} schedule(s): ${rows
              .slice(0, 4)
              .map(s => `"${s.name}" ${s.action} at ${s.cron} ${s.timezone}${s.enabled ? '' : ' (disabled)'}, next ${s.next_start ?? 'never'}`)
              .join('; ')}.`;
      return { structured, summary };
    };
    return fitList(Math.min(limit, rows.length), make, budgetFor(args.limit)).answer;
  },
});

export const jobReadTools = [listJobs, getJob, listPowerSchedules];
export const jobControlTools = [pauseJob, resumeJob, cancelJob];
