/**
 * Changes to miners, all through the API's control service (constraints checked against each
 * miner, dry run, batch jobs for several miners, audit events with the caller). Every tool takes
 * `dry_run`; a request on several miners becomes a durable job that the tool follows for
 * `wait_s` seconds with progress notifications (cancelling the call cancels the job).
 */
import { Cron } from 'croner';
import { z } from 'zod';
import { FleetError } from '../../core/errors.ts';
import { MINER_ACTIONS, type ControlRequest, type MinerSelector } from '../../services/control/index.ts';
import { RELATIVE_REFERENCES, poolGroupInputSchema } from '../../services/control/requests.ts';
import { scheduleInputSchema } from '../../services/schedules/schedule-service.ts';
import { iso } from '../../services/query/time.ts';
import { badArgument, defineTool } from '../define-tool.ts';
import { runPerformanceBaseline } from './baseline.ts';
import { clip } from '../size-budget.ts';
import {
  ControlAnswer,
  DryRunArg,
  DurationArg,
  JobView,
  MinerArg,
  SelectorArg,
  WaitArg,
  controlAnswer,
  durationMs,
  followJob,
  jobLine,
  jobView,
  targetOf,
} from './shared.ts';

const target = {
  miner: MinerArg.optional().describe('One miner (or give selector).'),
  selector: SelectorArg.optional(),
};

// ---- miner_action ------------------------------------------------------------------------------

export const minerAction = defineTool({
  name: 'miner_action',
  title: 'Miner action',
  description:
    'Reboot, restart mining, pause, resume, stop, start, or switch the locate LED on one miner or a selector.',
  access: 'control',
  category: 'control',
  input: z.strictObject({
    action: z.enum(MINER_ACTIONS).describe('reboot | restart (mining daemon) | pause | resume | stop | start | locate_on | locate_off.'),
    ...target,
    dry_run: DryRunArg,
    wait_s: WaitArg,
  }),
  output: ControlAnswer,
  async run(args, ctx) {
    const r = await ctx.deps.plane.control.action(ctx.caller, targetOf(args), args.action, { dryRun: args.dry_run });
    return await controlAnswer(ctx, r, args.wait_s);
  },
});

// ---- power / hashrate targets ------------------------------------------------------------------

export const setPowerTarget = defineTool({
  name: 'set_power_target',
  title: 'Set power target',
  description:
    "Set the autotuner's power target: absolute watt, a delta_w, or percent of the miner's own nominal/current/min/max; values outside a miner's allowed range are refused for that miner.",
  access: 'control',
  category: 'control',
  idempotent: true,
  input: z.strictObject({
    ...target,
    watt: z.coerce.number().int().min(1).max(100_000).optional().describe('Absolute power target, W.'),
    delta_w: z.coerce.number().int().min(-100_000).max(100_000).optional().describe('Change of the current target, W (negative lowers it).'),
    percent: z.coerce.number().gt(0).max(1_000).optional().describe('Percentage of reference.'),
    reference: z.enum(RELATIVE_REFERENCES).optional().describe("With percent: the miner's nominal, current, min or max target."),
    dry_run: DryRunArg,
    wait_s: WaitArg,
  }),
  output: ControlAnswer,
  async run(args, ctx) {
    const spec = {
      ...(args.watt !== undefined ? { watt: args.watt } : {}),
      ...(args.delta_w !== undefined ? { delta_w: args.delta_w } : {}),
      ...(args.percent !== undefined ? { percent: args.percent } : {}),
      ...(args.reference !== undefined ? { reference: args.reference } : {}),
    };
    const r = await ctx.deps.plane.control.setPowerTarget(ctx.caller, targetOf(args), spec, { dryRun: args.dry_run });
    return await controlAnswer(ctx, r, args.wait_s);
  },
});

export const setHashrateTarget = defineTool({
  name: 'set_hashrate_target',
  title: 'Set hashrate target',
  description:
    "Set the autotuner's hashrate target: absolute ths, a delta_ths, or percent of the miner's own nominal/current/min/max, checked against each miner's allowed range.",
  access: 'control',
  category: 'control',
  idempotent: true,
  input: z.strictObject({
    ...target,
    ths: z.coerce.number().gt(0).max(10_000).optional().describe('Absolute hashrate target, TH/s.'),
    delta_ths: z.coerce.number().min(-10_000).max(10_000).optional().describe('Change of the current target, TH/s.'),
    percent: z.coerce.number().gt(0).max(1_000).optional().describe('Percentage of reference.'),
    reference: z.enum(RELATIVE_REFERENCES).optional().describe("With percent: the miner's nominal, current, min or max target."),
    dry_run: DryRunArg,
    wait_s: WaitArg,
  }),
  output: ControlAnswer,
  async run(args, ctx) {
    const spec = {
      ...(args.ths !== undefined ? { ths: args.ths } : {}),
      ...(args.delta_ths !== undefined ? { delta_ths: args.delta_ths } : {}),
      ...(args.percent !== undefined ? { percent: args.percent } : {}),
      ...(args.reference !== undefined ? { reference: args.reference } : {}),
    };
    const r = await ctx.deps.plane.control.setHashrateTarget(ctx.caller, targetOf(args), spec, { dryRun: args.dry_run });
    return await controlAnswer(ctx, r, args.wait_s);
  },
});

// ---- pools -------------------------------------------------------------------------------------

export const setPools = defineTool({
  name: 'set_pools',
  title: 'Set pools',
  description:
    'Change pool groups: replace all groups, or create / update (by uid, see get_miner_config) / remove one group; pool passwords are sent to the miners and never echoed.',
  access: 'control',
  category: 'control',
  idempotent: true,
  input: z.strictObject({
    ...target,
    op: z.enum(['replace', 'create', 'update', 'remove']).default('replace').describe('replace all groups (default), or create / update / remove one group.'),
    groups: z.array(poolGroupInputSchema).min(1).max(8).optional().describe('op=replace: the new groups in priority order, each {name, pools: [{url, user, password?}]}.'),
    group: poolGroupInputSchema.optional().describe('op=create|update: the group (update needs its uid).'),
    uid: z.string().min(1).max(128).optional().describe('op=remove: uid of the group to remove.'),
    dry_run: DryRunArg,
    wait_s: WaitArg,
  }),
  output: ControlAnswer,
  async run(args, ctx) {
    let request: ControlRequest;
    if (args.op === 'replace') {
      if (!args.groups) throw badArgument('groups', 'op=replace needs groups');
      request = { kind: 'pools', op: 'replace', groups: args.groups };
    } else if (args.op === 'remove') {
      if (!args.uid) throw badArgument('uid', 'op=remove needs the uid of the group (get_miner_config shows it)');
      request = { kind: 'pools', op: 'remove', uid: args.uid };
    } else {
      if (!args.group) throw badArgument('group', `op=${args.op} needs group`);
      request = { kind: 'pools', op: args.op, group: args.group } as ControlRequest;
    }
    const r = await ctx.deps.plane.control.execute(ctx.caller, targetOf(args), request, { dryRun: args.dry_run });
    return await controlAnswer(ctx, r, args.wait_s);
  },
});

// ---- cooling -----------------------------------------------------------------------------------

const tempC = z.coerce.number().min(0).max(200);

export const setCoolingMode = defineTool({
  name: 'set_cooling_mode',
  title: 'Set cooling mode',
  description:
    'Set fan control: auto (target/hot/dangerous °C, optional fan speed bounds), manual (fixed fan_speed_ratio) or immersion (no fans), checked against each miner\'s limits.',
  access: 'control',
  category: 'control',
  idempotent: true,
  input: z.strictObject({
    ...target,
    mode: z.enum(['auto', 'manual', 'immersion']).describe('auto needs target_c < hot_c < dangerous_c; manual needs fan_speed_ratio.'),
    target_c: tempC.optional().describe('auto: chip temperature to hold, °C.'),
    hot_c: tempC.optional().describe('Fans at full speed above this, °C.'),
    dangerous_c: tempC.optional().describe('The miner shuts down above this, °C.'),
    fan_speed_ratio: z.coerce.number().min(0).max(1).optional().describe('manual: fan speed 0..1.'),
    min_fan_speed_pct: z.coerce.number().int().min(0).max(100).optional().describe('auto: lowest fan speed, %.'),
    max_fan_speed_pct: z.coerce.number().int().min(0).max(100).optional().describe('auto: highest fan speed, %.'),
    minimum_required_fans: z.coerce.number().int().min(0).max(16).optional().describe('Fans that must spin for mining to run.'),
    dry_run: DryRunArg,
    wait_s: WaitArg,
  }),
  output: ControlAnswer,
  async run(args, ctx) {
    const { miner: _m, selector: _s, dry_run: _d, wait_s: _w, ...rest } = args;
    const request = { kind: 'cooling', ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) };
    const r = await ctx.deps.plane.control.execute(ctx.caller, targetOf(args), request, { dryRun: args.dry_run });
    return await controlAnswer(ctx, r, args.wait_s);
  },
});

// ---- hashboards --------------------------------------------------------------------------------

export const setHashboards = defineTool({
  name: 'set_hashboards',
  title: 'Enable or disable hashboards',
  description:
    'Enable or disable hashboards by id (get_miner_config lists them), e.g. to take a failing board out of service.',
  access: 'control',
  category: 'control',
  idempotent: true,
  input: z.strictObject({
    ...target,
    enable: z.boolean().describe('true enables, false disables the boards.'),
    hashboard_ids: z.array(z.string().min(1).max(32)).min(1).max(16).describe('Board ids, e.g. ["1", "2"].'),
    dry_run: DryRunArg,
    wait_s: WaitArg,
  }),
  output: ControlAnswer,
  async run(args, ctx) {
    const r = await ctx.deps.plane.control.setHashboards(
      ctx.caller,
      targetOf(args),
      { enable: args.enable, hashboard_ids: args.hashboard_ids },
      { dryRun: args.dry_run },
    );
    return await controlAnswer(ctx, r, args.wait_s);
  },
});

// ---- power schedules ---------------------------------------------------------------------------

const ScheduleOut = z.object({
  dry_run: z.boolean(),
  schedule: z
    .object({
      id: z.string().nullable().describe('null in a dry run.'),
      name: z.string(),
      cron: z.string(),
      timezone: z.string(),
      action: z.string(),
      enabled: z.boolean(),
    })
    .nullable(),
  next_windows: z.array(z.object({ start: z.string(), end: z.string() })).describe('The next windows (up to 3).'),
  matched: z.number().describe('Miners the selector matches now.'),
  effect: z
    .object({ power_kw: z.number(), hashrate_ths: z.number(), note: z.string() })
    .nullable()
    .describe('Expected change while a window is open (from the latest snapshots).'),
  removed: z.boolean().optional(),
  ended_window: z.boolean().optional().describe('A window in progress was ended first (miners put back).'),
  hint: z.string().optional(),
});

function nextWindows(cron: string, timezone: string, durationMsValue: number | null, endCron: string | null): { start: string; end: string }[] {
  const start = new Cron(cron, { timezone, paused: true });
  const end = endCron ? new Cron(endCron, { timezone, paused: true }) : null;
  return start.nextRuns(3).map(d => {
    const s = d.getTime();
    const e = durationMsValue !== null ? s + durationMsValue : (end?.nextRun(new Date(s))?.getTime() ?? s);
    return { start: iso(s), end: iso(e) };
  });
}

export const setPowerSchedule = defineTool({
  name: 'set_power_schedule',
  title: 'Set power schedule',
  description:
    'Create a recurring curtailment window (cron in a time zone, lasting duration or until end_cron) that pauses the selected miners or sets a power target, and puts them back at the end. dry_run: true shows the next windows, miners and kW effect.',
  access: 'control',
  category: 'control',
  input: z.strictObject({
    name: z.string().min(1).max(128).describe('A name for people, e.g. "weekday peak tariff".'),
    selector: SelectorArg,
    cron: z.string().min(9).max(128).describe('Start of each window, 5 fields, e.g. "0 17 * * 1-5" = 17:00 Monday to Friday.'),
    timezone: z.string().default('UTC').describe('IANA time zone of cron, e.g. Europe/Prague (default UTC).'),
    duration: DurationArg.optional().describe('Window length, e.g. 3h (or give end_cron).'),
    end_cron: z.string().min(9).max(128).optional().describe('End of each window: the first run of this cron after the start.'),
    action: z.enum(['pause', 'power_target']).describe('pause the miners, or set power_target to watt.'),
    watt: z.coerce.number().int().min(1).max(100_000).optional().describe('action=power_target: the target during the window, W.'),
    enabled: z.boolean().default(true).describe('false creates it switched off.'),
    dry_run: DryRunArg,
  }),
  output: ScheduleOut,
  async run(args, ctx) {
    if (args.action === 'power_target' && args.watt === undefined) throw badArgument('watt', 'action=power_target needs watt');
    if (args.action === 'pause' && args.watt !== undefined) throw badArgument('watt', 'watt only goes with action=power_target');
    const input = {
      name: args.name,
      selector: args.selector,
      cron: args.cron,
      timezone: args.timezone,
      ...(args.duration !== undefined ? { duration_ms: durationMs('duration', args.duration) } : {}),
      ...(args.end_cron !== undefined ? { end_cron: args.end_cron } : {}),
      action: args.action === 'pause' ? { type: 'pause' as const } : { type: 'power_target' as const, watt: args.watt! },
      enabled: args.enabled,
    };
    const actionText = args.action === 'pause' ? 'pause' : `power_target ${args.watt} W`;
    if (args.dry_run) {
      const parsed = scheduleInputSchema.safeParse(input);
      if (!parsed.success)
        throw new FleetError(
          'invalid_argument',
          `invalid schedule: ${parsed.error.issues.map(i => `${i.path.join('.') || '(schedule)'}: ${i.message}`).join('; ')}`,
        );
      const windows = nextWindows(args.cron, args.timezone, parsed.data.duration_ms ?? null, parsed.data.end_cron ?? null);
      const request: ControlRequest =
        args.action === 'pause' ? { kind: 'action', action: 'pause' } : { kind: 'power_target', watt: args.watt! };
      const plan = await ctx.deps.plane.control.execute(ctx.caller, { selector: args.selector as MinerSelector }, request, { dryRun: true });
      const structured: z.output<typeof ScheduleOut> = {
        dry_run: true,
        schedule: { id: null, name: args.name, cron: args.cron, timezone: args.timezone, action: actionText, enabled: args.enabled },
        next_windows: windows,
        matched: plan.matched,
        effect: { power_kw: plan.effect.power_kw, hashrate_ths: plan.effect.hashrate_ths, note: plan.effect.note },
        hint: `dry run: nothing was created; call again with dry_run: false${plan.counts.invalid ? `; ${plan.counts.invalid} miner(s) would refuse the target (outside their range)` : ''}`,
      };
      return {
        structured,
        summary: `Dry run: "${args.name}" would ${actionText} ${plan.matched} miner(s) at ${args.cron} ${args.timezone}; next window ${windows[0]?.start ?? 'never'} .. ${windows[0]?.end ?? ''}; expected ${plan.effect.power_kw} kW while open. Nothing was created.`,
      };
    }
    const s = await ctx.deps.plane.schedules.create(ctx.caller, input);
    const sel = await ctx.deps.plane.control.resolver.resolve(ctx.caller, s.selector).catch(() => null);
    const structured: z.output<typeof ScheduleOut> = {
      dry_run: false,
      schedule: { id: s.id, name: s.name, cron: s.cron, timezone: s.timezone, action: actionText, enabled: s.enabled },
      next_windows: nextWindows(s.cron, s.timezone, s.duration_ms, s.end_cron),
      matched: sel?.matched ?? 0,
      effect: null,
      hint: 'list_power_schedules shows it; remove_power_schedule deletes it (ending an open window first)',
    };
    return {
      structured,
      summary: `Created schedule "${s.name}" (${s.id}): ${actionText} on ${structured.matched} miner(s) at ${s.cron} ${s.timezone}; next window starts ${structured.next_windows[0]?.start ?? 'never'}.`,
    };
  },
});

export const removePowerSchedule = defineTool({
  name: 'remove_power_schedule',
  title: 'Remove power schedule',
  description:
    'Delete a power schedule; a window in progress is ended first, so its miners are put back.',
  access: 'control',
  category: 'control',
  idempotent: true,
  input: z.strictObject({
    id: z.string().min(1).max(64).describe('Schedule id (list_power_schedules shows them).'),
    dry_run: DryRunArg,
  }),
  output: ScheduleOut,
  async run(args, ctx) {
    const s = await ctx.deps.plane.schedules.get(ctx.caller, args.id);
    const actionText = s.action.type === 'pause' ? 'pause' : `power_target ${s.action.watt} W`;
    const base = {
      schedule: { id: s.id, name: s.name, cron: s.cron, timezone: s.timezone, action: actionText, enabled: s.enabled },
      next_windows: nextWindows(s.cron, s.timezone, s.duration_ms, s.end_cron),
      matched: 0,
      effect: null,
    };
    if (args.dry_run)
      return {
        structured: { dry_run: true, ...base, hint: 'dry run: nothing was removed; call again with dry_run: false' },
        summary: `Dry run: would remove schedule "${s.name}" (${actionText} at ${s.cron} ${s.timezone}). Nothing was changed.`,
      };
    const r = await ctx.deps.plane.schedules.remove(ctx.caller, args.id);
    return {
      structured: { dry_run: false, ...base, next_windows: [], removed: true, ended_window: r.ended_window },
      summary: `Removed schedule "${s.name}"${r.ended_window ? '; the open window was ended and its miners put back' : ''}.`,
    };
  },
});

// ---- firmware rollout --------------------------------------------------------------------------

const RolloutOut = z.object({
  dry_run: z.boolean(),
  image: z.object({ sha256: z.string(), name: z.string(), version: z.string(), size_bytes: z.number() }),
  matched: z.number(),
  not_found: z.array(z.string()),
  already_current: z.number().describe('Miners already on this version (left alone).'),
  excluded: z
    .array(z.object({ id: z.string(), reason: z.string() }))
    .describe('Miners that cannot take this image (API older than 1.10, another platform), never touched (first 20).'),
  outcomes: z
    .record(z.string(), z.number())
    .nullable()
    .describe('Per-miner outcomes so far (upgraded, skipped, upload_refused, wrong_version, unhealthy, timeout, rolled_back, rollback_failed, not_started, …).'),
  waves: z
    .array(z.object({ index: z.number(), kind: z.enum(['canary', 'wave']), miners: z.number(), first: z.array(z.string()) }))
    .describe('Canary first, then waves (first miners of each).'),
  waves_total: z.number(),
  options: z.record(z.string(), z.union([z.number(), z.boolean()])),
  job: JobView.nullable(),
  hint: z.string().optional(),
});

export const startFirmwareRollout = defineTool({
  name: 'start_firmware_rollout',
  title: 'Start firmware rollout',
  description:
    'Upgrade the selected miners to a stored firmware image in waves (canary first) with a health gate after each wave, halting and rolling back on failure. dry_run: true returns the wave plan.',
  access: 'control',
  category: 'control',
  input: z.strictObject({
    image: z.string().regex(/^[a-f0-9]{64}$/, { error: 'expected the sha256 of a stored image' }).optional().describe('sha256 of the stored image (or give version).'),
    version: z.string().min(1).max(128).optional().describe('Firmware version of a stored image (the newest upload of it is used).'),
    selector: SelectorArg,
    canary_size: z.coerce.number().int().min(1).max(1_000).optional().describe('Miners in the first wave (default 1).'),
    canary_percent: z.coerce.number().gt(0).max(100).optional().describe('Alternative: this % of the miners in the first wave.'),
    wave_size: z.coerce.number().int().min(1).max(10_000).default(10).describe('Miners per later wave (default 10).'),
    parallelism: z.coerce.number().int().min(1).max(500).default(5).describe('Miners upgraded at once inside a wave (default 5).'),
    hashrate_gate_pct: z.coerce.number().min(0).max(100).default(90).describe('Hashrate a miner must recover to, % of before (default 90).'),
    gate_timeout_s: z.coerce.number().int().min(1).max(86_400).default(900).describe('Time for the hashrate to recover, s (default 900).'),
    miner_timeout_s: z.coerce.number().int().min(1).max(86_400).optional().describe('Per-miner limit for upload, reboot and gate, s.'),
    poll_interval_s: z.coerce.number().min(0.05).max(60).default(5).describe('How often a miner is polled while waiting, s (default 5).'),
    rollback: z.boolean().default(true).describe('Roll failed miners back to their previous image (default true).'),
    dry_run: DryRunArg,
    wait_s: z.coerce
      .number()
      .int()
      .min(0)
      .max(3_600)
      .optional()
      .describe('Seconds to follow the rollout (default 120; 0: return at once).'),
  }),
  output: RolloutOut,
  async run(args, ctx) {
    const { firmware, rollouts } = ctx.deps.plane;
    let sha = args.image;
    if (sha === undefined) {
      const images = await firmware.list(ctx.caller);
      const hit = args.version !== undefined ? images.find(i => i.version === args.version) : undefined;
      if (!hit) {
        const known = images
          .slice(0, 5)
          .map(i => `${i.version} (${i.name}, sha256 ${i.sha256.slice(0, 12)}…)`)
          .join('; ');
        throw new FleetError(
          args.version === undefined ? 'invalid_argument' : 'not_found',
          `${args.version === undefined ? 'give image (sha256) or version' : `no stored image of version '${args.version}'`}; ${known ? `stored images: ${known}` : 'no image is stored yet (an admin uploads images through the REST API)'}`,
        );
      }
      sha = hit.sha256;
    }
    const plan = await rollouts.start(ctx.caller, {
      image: sha,
      selector: args.selector,
      ...(args.canary_size !== undefined ? { canary_size: args.canary_size } : {}),
      ...(args.canary_percent !== undefined ? { canary_percent: args.canary_percent } : {}),
      wave_size: args.wave_size,
      parallelism: args.parallelism,
      hashrate_gate_pct: args.hashrate_gate_pct,
      gate_timeout_ms: args.gate_timeout_s * 1_000,
      ...(args.miner_timeout_s !== undefined ? { miner_timeout_ms: args.miner_timeout_s * 1_000 } : {}),
      poll_interval_ms: Math.max(50, Math.round(args.poll_interval_s * 1_000)),
      rollback: args.rollback,
      dry_run: args.dry_run,
    });
    let job = plan.job;
    let ended: string | null = null;
    if (job && (args.wait_s ?? 120) > 0) {
      const f = await followJob(ctx, ctx.caller, job.id, (args.wait_s ?? 120) * 1_000);
      job = f.job;
      ended = f.ended;
    }
    const view = job ? jobView(job) : null;
    const toUpgrade = plan.waves.reduce((a, w) => a + w.miners.length, 0);
    const structured: z.output<typeof RolloutOut> = {
      dry_run: plan.dry_run,
      image: { sha256: plan.image.sha256, name: plan.image.name, version: plan.image.version, size_bytes: plan.image.size_bytes },
      matched: plan.matched,
      not_found: plan.not_found.slice(0, 20),
      already_current: plan.already_current.length,
      excluded: plan.excluded.slice(0, 20),
      outcomes: job?.progress?.outcomes ?? null,
      waves: plan.waves.slice(0, 6).map(w => ({ index: w.index, kind: w.kind, miners: w.miners.length, first: w.miners.slice(0, 5).map(m => m.id) })),
      waves_total: plan.waves.length,
      options: { ...plan.options },
      job: view,
    };
    const hints: string[] = [];
    if (plan.dry_run) hints.push('dry run: nothing was started; call again with dry_run: false');
    if (ended === 'waiting') hints.push(`the rollout continues; follow it with get_job id=${view!.id}, stop it with cancel_job`);
    if (ended === 'cancelled') hints.push('the call was cancelled, so the rollout was cancelled');
    if (plan.waves.length > 6) hints.push(`${plan.waves.length} waves; only the first 6 are listed`);
    if (hints.length > 0) structured.hint = hints.join('; ');
    const outcomeText = Object.entries(job?.progress?.outcomes ?? {})
      .filter(([, n]) => n > 0)
      .map(([o, n]) => `${n} ${o}`)
      .join(', ');
    const excludedText = plan.excluded.length
      ? ` ${plan.excluded.length} excluded (${plan.excluded
          .slice(0, 3)
          .map(e => `${e.id}: ${e.reason}`)
          .join('; ')}${plan.excluded.length > 3 ? '; …' : ''}).`
      : '';
    const summary = plan.dry_run
      ? `Dry run: firmware ${plan.image.version} on ${toUpgrade} miner(s) in ${plan.waves.length} wave(s) (canary ${plan.waves[0]?.miners.length ?? 0}), ${plan.already_current.length} already current.${excludedText} Nothing was started.`
      : `Rollout of ${plan.image.version} to ${toUpgrade} miner(s) in ${plan.waves.length} wave(s): ${view ? jobLine(view) : 'started'}${outcomeText ? `; outcomes: ${outcomeText}` : ''}.${excludedText}`;
    return { structured, summary: clip(summary, 600) };
  },
});

export const controlTools = [
  minerAction,
  setPowerTarget,
  setHashrateTarget,
  setPools,
  setCoolingMode,
  setHashboards,
  setPowerSchedule,
  removePowerSchedule,
  startFirmwareRollout,
  runPerformanceBaseline,
];
