/**
 * Pieces several tool categories share: argument schemas (miner id, selector, times), the compact
 * job view, following a job with progress notifications and cancellation, and the compact
 * answer of a control request.
 */
import { z } from 'zod';
import { minerIdSchema, scopeNameSchema } from '../../collector/inventory/schema.ts';
import { HEALTH_STATUSES } from '../../core/samples.ts';
import type { Caller } from '../../services/context.ts';
import { TagFilter } from '../../api/schemas/common.ts';
import type { ControlResponse, MinerSelector } from '../../services/control/index.ts';
import { FINAL_STATUSES, JOB_STATUSES, JOB_TYPES, type JobSummary } from '../../services/jobs/types.ts';
import { sleep } from '../../services/control/concurrency.ts';
import { DURATION_FORM, TIME_FORM, isDuration, isTime, iso } from '../../services/query/time.ts';
import { badArgument, type ToolContext } from '../define-tool.ts';
import { DEFAULT_ANSWER_BYTES, clip, fitList } from '../size-budget.ts';

// ---- arguments ---------------------------------------------------------------------------------

export const MinerArg = minerIdSchema.describe('Miner id, hostname or IP.');

export const TimeArg = z
  .string()
  .refine(isTime, { error: `expected ${TIME_FORM}` })
  .describe('ISO 8601 UTC time, epoch ms, or now / now-6h.');

export const DurationArg = z
  .string()
  .refine(isDuration, { error: `expected ${DURATION_FORM}` })
  .describe('Duration: 30s, 5m, 6h, 7d or 2w.');

export const SiteArg = scopeNameSchema.describe('Site name (fleet_overview lists them).');

// One description for the whole selector (it is in every control tool's schema): per-field
// descriptions would repeat the same words eleven times in tools/list.
export const SelectorArg = z
  .strictObject({
    ids: z.array(minerIdSchema).min(1).max(10_000).optional(),
    site: scopeNameSchema.optional(),
    model: TagFilter.optional(),
    labels: z.record(z.string().min(1).max(64), z.string().max(256)).optional(),
    status: z.enum(HEALTH_STATUSES).optional(),
    all: z.literal(true).optional(),
  })
  .describe('Which miners (criteria ANDed; labels must all match; all: true = whole fleet).');

export type SelectorInput = z.output<typeof SelectorArg>;

export const DryRunArg = z
  .boolean()
  .default(false)
  .describe('true: plan only (current -> new per miner, kW / TH/s effect); nothing is sent.');

export const WaitArg = z.coerce
  .number()
  .int()
  .min(0)
  .max(1_800)
  .optional()
  .describe('Seconds to follow a multi-miner job (default 60; 0: return at once).');

/** `{ id }` or `{ selector }` from the tool's `miner` / `selector` arguments (exactly one). */
export function targetOf(
  args: { miner?: string | undefined; selector?: SelectorInput | undefined },
): { id: string } | { selector: MinerSelector } {
  if ((args.miner === undefined) === (args.selector === undefined))
    throw badArgument('miner', 'give miner (one id) or selector (several miners), exactly one');
  return args.miner !== undefined ? { id: args.miner } : { selector: args.selector as MinerSelector };
}

// ---- jobs --------------------------------------------------------------------------------------

export const JobProgressView = z.object({
  total: z.number(),
  done: z.number(),
  ok: z.number(),
  failed: z.number(),
  invalid: z.number().describe("Rejected by the miner's own constraints."),
  skipped: z.number(),
  cancelled: z.number(),
  phase: z.string().optional().describe('Rollouts: canary, wave n/m, rollback …'),
});

export const JobView = z.object({
  id: z.string(),
  type: z.enum(JOB_TYPES),
  status: z.enum(JOB_STATUSES),
  label: z.string(),
  created_by: z.string(),
  created_at: z.string().describe('ISO 8601 UTC'),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  miners_total: z.number(),
  progress: JobProgressView.nullable(),
  message: z.string().nullable(),
});
export type JobView = z.output<typeof JobView>;

export function jobView(j: JobSummary): JobView {
  return {
    id: j.id,
    type: j.type,
    status: j.status,
    label: clip(j.label, 160),
    created_by: j.created_by,
    created_at: iso(j.created_ms),
    started_at: j.started_ms === null ? null : iso(j.started_ms),
    finished_at: j.finished_ms === null ? null : iso(j.finished_ms),
    miners_total: j.miners_total,
    progress: j.progress
      ? {
          total: j.progress.total,
          done: j.progress.done,
          ok: j.progress.ok,
          failed: j.progress.failed,
          invalid: j.progress.invalid,
          skipped: j.progress.skipped,
          cancelled: j.progress.cancelled,
          ...(j.progress.phase ? { phase: j.progress.phase } : {}),
        }
      : null,
    message: j.message === null ? null : clip(j.message, 300),
  };
}

export function jobLine(j: JobView): string {
  const p = j.progress;
  const counts = p ? ` (${p.done}/${p.total} done: ${p.ok} ok, ${p.failed} failed${p.invalid ? `, ${p.invalid} rejected` : ''})` : '';
  return `job ${j.id} ${j.status}${counts}${j.message ? `: ${j.message}` : ''}`;
}

export interface Followed {
  job: JobSummary;
  /** finished: reached a final status; waiting: wait_s elapsed (the job goes on); cancelled: the client cancelled the call and the job was cancelled */
  ended: 'finished' | 'waiting' | 'cancelled';
}

/**
 * Follow a job until it ends or `waitMs` passes, sending progress notifications (done/total
 * and the latest step message). When the client cancels the call the job is cancelled.
 */
export async function followJob(
  ctx: ToolContext,
  caller: Caller,
  jobId: string,
  waitMs: number,
  pollMs = 500,
): Promise<Followed> {
  const jobs = ctx.deps.plane.jobs;
  const deadline = Date.now() + waitMs;
  let afterId = '0';
  let lastMessage = '';
  let lastDone = -1;
  let ticks = 0;
  let lastMessageSent = '';
  let job: JobSummary | null = null;
  for (;;) {
    if (ctx.signal.aborted) {
      const summary = await jobs.cancel(caller, jobId).catch(() => null);
      return { job: summary ?? job ?? (await jobs.get(caller, jobId, { resultsLimit: 0 })), ended: 'cancelled' };
    }
    job = await jobs.get(caller, jobId, { resultsLimit: 0 });
    try {
      const { steps } = await jobs.steps(caller, jobId, { afterId, limit: 200 });
      const last = steps[steps.length - 1];
      if (last) {
        afterId = last.id;
        lastMessage = last.message;
      }
    } catch {
      // steps are only decoration for the progress message
    }
    const p = job.progress;
    const total = p?.total ?? job.miners_total;
    const final = FINAL_STATUSES.includes(job.status);
    const done = p?.done ?? 0;
    const message = clip(`${job.status}${p?.phase ? ` (${p.phase})` : ''}${lastMessage ? `: ${lastMessage}` : ''}`, 200);
    // Progress must grow with every notification: whole miners done, plus a small step for
    // each new message in between (upload, reboot, gate …); +1 when the job has ended.
    if (done !== lastDone) {
      lastDone = done;
      ticks = 0;
    } else if (message !== lastMessageSent) {
      ticks = Math.min(ticks + 1, 99);
    }
    lastMessageSent = message;
    await ctx.progress(done + ticks / 100 + (final ? 1 : 0), total + 1, message);
    if (final) return { job, ended: 'finished' };
    if (Date.now() >= deadline) return { job, ended: 'waiting' };
    await sleep(Math.min(pollMs, Math.max(0, deadline - Date.now())), ctx.signal);
  }
}

// ---- control answers ---------------------------------------------------------------------------

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const ControlMinerView = z.object({
  id: z.string(),
  hostname: z.string().nullable(),
  site: z.string(),
  status: z.string().describe('would_apply (dry run), ok, failed, invalid (rejected by its constraints), skipped …'),
  code: z.string().optional(),
  message: z.string().optional(),
  changes: z
    .array(z.object({ field: z.string(), current: scalar, new: scalar }))
    .optional()
    .describe('What changes on this miner: current -> new.'),
});

export const ControlAnswer = z.object({
  dry_run: z.boolean(),
  mode: z.enum(['inline', 'job', 'dry_run']).describe('inline: one miner, done now; job: several miners, see job; dry_run: nothing changed.'),
  status: z
    .enum(['ok', 'partial', 'refused', 'none_ran', 'queued'])
    .describe('Whether anything ran (dry run: would run): ok, partial, refused (by the miners\' limits), none_ran, queued (job still running).'),
  description: z.string(),
  matched: z.number().describe('Miners the target matched.'),
  not_found: z.array(z.string()).describe('Requested ids that are not your miners (first 20).'),
  counts: z.record(z.string(), z.number()).describe('Miners per result status.'),
  effect: z.object({
    power_kw: z.number().describe('Expected change of fleet power, kW (negative = less).'),
    hashrate_ths: z.number().describe('Expected change of fleet hashrate, TH/s.'),
    miners_estimated: z.number(),
    miners_unknown: z.number().describe('Miners without data for an estimate (offline, no sample).'),
    note: z.string(),
  }),
  miners: z.array(ControlMinerView).describe('Per miner plan or result (first ones; see truncated).'),
  miners_total: z.number(),
  truncated: z.boolean(),
  job: JobView.nullable().describe('The batch job when mode is job; follow it with get_job.'),
  hint: z.string().optional(),
});
export type ControlAnswer = z.output<typeof ControlAnswer>;

/** Statuses whose reason the model must read in the text, not only in structuredContent. */
const FAILED_STATUSES = new Set(['failed', 'invalid', 'rolled_back']);

/**
 * The reasons of failed / refused miners for the text summary: up to 3 distinct reasons, each
 * with its first miner and how many more share it (clients that show only the text still see
 * why nothing changed).
 */
export function failureText(miners: readonly { id: string; hostname: string | null; status: string; code?: string; message?: string }[]): string {
  const byReason = new Map<string, { status: string; first: string; n: number }>();
  for (const m of miners) {
    if (!FAILED_STATUSES.has(m.status)) continue;
    const reason = m.message ?? m.code ?? 'no reason given';
    const seen = byReason.get(reason);
    if (seen) seen.n++;
    else byReason.set(reason, { status: m.status, first: `${m.id}${m.hostname ? ` (${m.hostname})` : ''}`, n: 1 });
  }
  if (byReason.size === 0) return '';
  const parts = [...byReason].slice(0, 3).map(([reason, g]) => `${g.status} on ${g.first}${g.n > 1 ? ` and ${g.n - 1} more` : ''}: ${reason}`);
  const more = byReason.size > 3 ? `; ${byReason.size - 3} other reason(s) in miners` : '';
  return ` ${parts.join('; ')}${more}.`;
}

/** Run a control request through the control service, follow its job, and shape the answer. */
export async function controlAnswer(
  ctx: ToolContext,
  r: ControlResponse,
  waitS: number | undefined,
): Promise<{ structured: ControlAnswer; summary: string }> {
  let job = r.job;
  let ended: Followed['ended'] | null = null;
  if (job && (waitS ?? 60) > 0) {
    const f = await followJob(ctx, ctx.caller, job.id, (waitS ?? 60) * 1_000);
    job = f.job;
    ended = f.ended;
  }
  const names = await ctx.lookup.hostnames(
    ctx.caller,
    r.miners.slice(0, 50).map(m => m.id),
  );
  const miners = r.miners.map(m => ({
    id: m.id,
    hostname: names.get(m.id) ?? null,
    site: m.site,
    status: m.status,
    ...(m.code ? { code: m.code } : {}),
    ...(m.message ? { message: clip(m.message, 240) } : {}),
    ...(m.changes ? { changes: m.changes.slice(0, 8) } : {}),
  }));
  const view = job ? jobView(job) : null;
  // A job's per-miner reasons are not in the plan: read the failed ones for the summary.
  let jobFailures = '';
  if (view?.progress && view.progress.failed + view.progress.invalid > 0) {
    const d = await ctx.deps.plane.jobs.get(ctx.caller, view.id, { resultsLimit: 10_000 }).catch(() => null);
    if (d) jobFailures = failureText(d.results.map(x => ({ ...x, hostname: null })));
  }
  const make = (n: number): { structured: ControlAnswer; summary: string } => {
    const truncated = n < miners.length || r.miners_truncated;
    const structured: ControlAnswer = {
      dry_run: r.dry_run,
      mode: r.mode,
      status: r.status,
      description: r.description,
      matched: r.matched,
      not_found: r.not_found.slice(0, 20),
      counts: r.counts,
      effect: r.effect,
      miners: miners.slice(0, n),
      miners_total: r.mode === 'job' ? r.matched : r.miners.length,
      truncated,
      job: view,
    };
    const hints: string[] = [];
    if (r.dry_run) hints.push('dry run: nothing was changed; call again with dry_run: false to apply');
    if (ended === 'waiting') hints.push(`the job is still running; follow it with get_job id=${view!.id}`);
    if (ended === 'cancelled') hints.push('the call was cancelled, so the job was cancelled too');
    if (truncated) hints.push('only the first miners are listed; counts cover all');
    if (r.not_found.length > 0) hints.push(`${r.not_found.length} requested id(s) are not your miners`);
    if (hints.length > 0) structured.hint = hints.join('; ');
    const eff =
      r.effect.miners_estimated > 0
        ? ` Expected effect: ${r.effect.power_kw >= 0 ? '+' : ''}${r.effect.power_kw} kW, ${r.effect.hashrate_ths >= 0 ? '+' : ''}${r.effect.hashrate_ths} TH/s.`
        : '';
    const countText = Object.entries(r.counts)
      .map(([k, v]) => `${v} ${k}`)
      .join(', ');
    const head = r.dry_run
      ? `Dry run of "${r.description}" on ${r.matched} miner(s): ${countText || 'nothing to do'}.`
      : r.mode === 'job'
        ? `"${r.description}" on ${r.matched} miner(s): ${view ? jobLine(view) : 'job queued'}.`
        : `"${r.description}" on ${r.matched} miner(s): ${countText || 'nothing matched'}.`;
    return { structured, summary: `${head}${failureText(miners)}${jobFailures}${eff}${r.dry_run ? ' Nothing was changed.' : ''}` };
  };
  return fitList(miners.length, make, DEFAULT_ANSWER_BYTES).answer;
}

/** Duration string -> ms, with the field name in the error. */
export function durationMs(field: string, value: string): number {
  const m = /^(\d{1,9})(s|m|h|d|w)$/.exec(value);
  if (!m) throw badArgument(field, `expected ${DURATION_FORM}`);
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2] as 's'];
  return Number(m[1]) * unit;
}
