/**
 * run_performance_baseline: what one miner delivers (hashrate, power, J/TH) across power
 * targets. Where the firmware offers it (API >= 1.11) the miner's own tuned efficiency profile
 * (PerformanceService.GetMinerEfficiencyProfile) answers at once and changes nothing.
 * Otherwise the miner is stepped through power targets through the control service (each step
 * checked against the miner's range and audited), measured after it settles, and put back on
 * its original target at the end, also when the call is cancelled or a step fails.
 */
import { z } from 'zod';
import { FleetError, isFleetError } from '../../core/errors.ts';
import type { MinerClient } from '../../collector/miner-client.ts';
import { MinerStateReader } from '../../services/control/miner-state.ts';
import { iso } from '../../services/query/time.ts';
import { badArgument, defineTool, type ToolContext } from '../define-tool.ts';
import { DryRunArg, MinerArg } from './shared.ts';
import { liveClient } from './miners.ts';

const Point = z.object({
  power_target_w: z.number(),
  power_w: z.number().nullable().describe('Measured (or, for the profile, tuned) consumption, W.'),
  hashrate_ths: z.number().nullable(),
  efficiency_jth: z.number().nullable(),
  fan_pct: z.number().nullable().optional(),
  temp_outlet_c: z.number().nullable().optional(),
  note: z.string().optional(),
});
type Point = z.output<typeof Point>;

const BaselineOut = z.object({
  miner: z.string(),
  hostname: z.string().nullable(),
  method: z.enum(['efficiency_profile', 'stepping']),
  dry_run: z.boolean(),
  api_version: z.string().nullable(),
  points: z.array(Point).describe('Ascending by power target.'),
  best: z.object({ power_target_w: z.number(), efficiency_jth: z.number() }).nullable().describe('Lowest J/TH.'),
  original_target: z
    .object({ kind: z.enum(['power', 'hashrate']), value: z.number() })
    .nullable()
    .describe('The target before stepping (restored at the end).'),
  restored: z.boolean().nullable().describe('Stepping: the original target is back (null when nothing was changed).'),
  cancelled: z.boolean(),
  estimated_s: z.number().nullable().describe('Stepping: expected duration.'),
  plan: z.string().describe('What was (or, in a dry run, would be) done.'),
  finished_at: z.string(),
  notes: z.array(z.string()),
});
type BaselineOut = z.output<typeof BaselineOut>;

const round = (v: number, d: number): number => Math.round(v * 10 ** d) / 10 ** d;

function best(points: readonly Point[]): BaselineOut['best'] {
  const ok = points.filter(p => p.efficiency_jth !== null);
  if (ok.length === 0) return null;
  const b = ok.reduce((a, p) => (p.efficiency_jth! < a.efficiency_jth! ? p : a));
  return { power_target_w: b.power_target_w, efficiency_jth: b.efficiency_jth! };
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise(resolve => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/** Mean of `samples` live readings of the 5 s hashrate window and the power estimate. */
async function measure(client: MinerClient, sampleS: number, signal: AbortSignal): Promise<{ power_w: number | null; hashrate_ths: number | null }> {
  const n = Math.max(2, Math.min(10, Math.round(sampleS)));
  const every = (sampleS * 1_000) / n;
  const h: number[] = [];
  const p: number[] = [];
  for (let i = 0; i < n && !signal.aborted; i++) {
    const s = await client.unary('MinerService', 'GetMinerStats', {}, { signal }).catch(() => null);
    const ghs = s?.miner_stats?.real_hashrate?.last_5s?.gigahash_per_second;
    const w = s?.power_stats?.approximated_consumption?.watt;
    if (typeof ghs === 'number' && Number.isFinite(ghs)) h.push(ghs);
    if (typeof w === 'number' && Number.isFinite(w) && w > 0) p.push(w);
    if (i < n - 1) await sleep(every, signal);
  }
  const mean = (a: number[]): number | null => (a.length ? a.reduce((x, y) => x + y, 0) / a.length : null);
  const ghs = mean(h);
  const w = mean(p);
  return { power_w: w === null ? null : round(w, 1), hashrate_ths: ghs === null ? null : round(ghs / 1_000, 3) };
}

async function profile(client: MinerClient, signal: AbortSignal): Promise<Point[]> {
  const r = await client.unary('PerformanceService', 'GetMinerEfficiencyProfile', {}, { signal });
  return r.points
    .map(pt => {
      const w = pt.consumption?.watt ?? null;
      const ths = pt.hashrate?.terahash_per_second ?? null;
      return {
        power_target_w: pt.power_target?.watt ?? 0,
        power_w: w,
        hashrate_ths: ths === null ? null : round(ths, 3),
        efficiency_jth: w !== null && ths ? round(w / ths, 2) : null,
        fan_pct: pt.fan_speed ?? null,
        temp_outlet_c: pt.outlet_temp ? round(pt.outlet_temp.degree_c, 1) : null,
      };
    })
    .filter(p => p.power_target_w > 0)
    .sort((a, b) => a.power_target_w - b.power_target_w);
}

async function restore(ctx: ToolContext, id: string, original: BaselineOut['original_target']): Promise<boolean> {
  if (!original) return false;
  try {
    const r =
      original.kind === 'power'
        ? await ctx.deps.plane.control.setPowerTarget(ctx.caller, { id }, { watt: Math.round(original.value) })
        : await ctx.deps.plane.control.setHashrateTarget(ctx.caller, { id }, { ths: original.value });
    return r.miners[0]?.status === 'ok' || r.miners[0]?.status === 'skipped';
  } catch {
    return false;
  }
}

export const runPerformanceBaseline = defineTool({
  name: 'run_performance_baseline',
  title: 'Run performance baseline',
  description:
    "Measure one miner's hashrate, power and J/TH across power targets: reads the miner's tuned efficiency profile when its API offers it (no change), else steps it through targets (long: progress notifications, cancellable) and restores the original target. dry_run: true gives the method, targets and duration.",
  access: 'control',
  category: 'control',
  live: true,
  input: z.strictObject({
    miner: MinerArg,
    method: z
      .enum(['auto', 'profile', 'stepping'])
      .default('auto')
      .describe("'auto' (default): the efficiency profile when available, else stepping; 'profile' or 'stepping' to force one."),
    targets_w: z
      .array(z.coerce.number().int().min(1).max(100_000))
      .min(2)
      .max(8)
      .optional()
      .describe('Stepping: power targets to visit, W (default: evenly over the miner\'s allowed range).'),
    steps: z.coerce.number().int().min(2).max(8).default(4).describe('Stepping: number of targets when targets_w is not given (default 4).'),
    settle_s: z.coerce.number().int().min(1).max(1_800).default(120).describe('Stepping: wait after each change before measuring, s (default 120).'),
    sample_s: z.coerce.number().int().min(2).max(600).default(20).describe('Stepping: measuring time per step, s (default 20).'),
    dry_run: DryRunArg,
  }),
  output: BaselineOut,
  async run(args, ctx) {
    const { miner, client } = await liveClient(ctx, args.miner);
    const hostname = miner.snapshot?.sample?.hostname || miner.snapshot?.details?.hostname || null;
    const v = await client.probe({ signal: ctx.signal });
    const apiVersion = `${v.major}.${v.minor}.${v.patch}`;
    const hasProfile = v.major > 1 || (v.major === 1 && v.minor >= 11);
    const notes: string[] = [];
    const out = (o: Partial<BaselineOut> & Pick<BaselineOut, 'method' | 'points' | 'plan'>): BaselineOut => ({
      miner: miner.id,
      hostname,
      dry_run: args.dry_run,
      api_version: apiVersion,
      best: best(o.points),
      original_target: null,
      restored: null,
      cancelled: false,
      estimated_s: null,
      finished_at: iso(Date.now()),
      notes,
      ...o,
    });

    if (args.method === 'profile' && !hasProfile)
      throw new FleetError(
        'unsupported',
        `miner ${miner.id} runs API ${apiVersion}; its efficiency profile needs 1.11 or newer. Use method 'stepping' (changes the power target temporarily)`,
      );
    if (args.method !== 'stepping' && hasProfile) {
      try {
        const points = await profile(client, ctx.signal);
        if (points.length > 0) {
          const structured = out({
            method: 'efficiency_profile',
            points,
            plan: 'read the tuned efficiency profile of the miner (GetMinerEfficiencyProfile); nothing was changed',
          });
          const b = structured.best;
          return {
            structured,
            summary: `${miner.id}: efficiency profile with ${points.length} points from ${points[0]!.power_target_w} to ${points[points.length - 1]!.power_target_w} W${b ? `; best ${b.efficiency_jth} J/TH at ${b.power_target_w} W` : ''}. Nothing was changed.`,
          };
        }
        notes.push('the efficiency profile is empty (the miner has not tuned yet)');
      } catch (err) {
        if (args.method === 'profile') throw err;
        notes.push(`efficiency profile not available (${isFleetError(err) ? err.code : 'error'})`);
      }
      if (args.method === 'profile')
        throw new FleetError('precondition_failed', `miner ${miner.id} has no tuned efficiency profile yet; use method 'stepping'`);
    }

    // ---- stepping ----
    const reader = new MinerStateReader(ctx.deps.infra);
    const [constraints, config] = await Promise.all([
      reader.constraints(miner.id, client, ctx.signal),
      reader.config(client, ctx.signal),
    ]);
    const range = constraints.power_target_w;
    let targets = args.targets_w ? [...new Set(args.targets_w)].sort((a, b) => a - b) : null;
    if (!targets) {
      if (!range) throw badArgument('targets_w', `miner ${miner.id} reports no power target range; give targets_w`);
      const n = args.steps;
      targets = Array.from({ length: n }, (_, i) => Math.round((range.min + ((range.max - range.min) * i) / (n - 1)) / 10) * 10);
      targets = [...new Set(targets.map(t => Math.min(range.max, Math.max(range.min, t))))];
    }
    if (range) {
      const outside = targets.filter(t => t < range.min || t > range.max);
      if (outside.length > 0)
        throw badArgument('targets_w', `${outside.join(', ')} W outside the miner's allowed ${range.min}-${range.max} W`);
    }
    const original: BaselineOut['original_target'] =
      config.tuner_mode === 'hashrate' && config.hashrate_target_ths !== null
        ? { kind: 'hashrate', value: config.hashrate_target_ths }
        : config.power_target_w !== null
          ? { kind: 'power', value: config.power_target_w }
          : null;
    const estimated = targets.length * (args.settle_s + args.sample_s);
    const plan = `set the power target to ${targets.join(', ')} W in turn, wait ${args.settle_s} s, measure ${args.sample_s} s each, then restore ${
      original ? `the original ${original.kind} target ${original.value}${original.kind === 'power' ? ' W' : ' TH/s'}` : 'nothing (no original target reported)'
    }`;
    if (args.dry_run) {
      return {
        structured: out({ method: 'stepping', points: [], plan, original_target: original, estimated_s: estimated }),
        summary: `Dry run: ${miner.id} would be stepped through ${targets.length} power targets (${targets.join(', ')} W), about ${Math.ceil(estimated / 60)} min, then restored. Nothing was changed.`,
      };
    }
    if (!original) notes.push('the miner reported no current target; it is left on the last step');

    const points: Point[] = [];
    let cancelled = false;
    let restored: boolean;
    try {
      for (let i = 0; i < targets.length; i++) {
        if (ctx.signal.aborted) {
          cancelled = true;
          break;
        }
        const t = targets[i]!;
        await ctx.progress(i, targets.length + 1, `step ${i + 1}/${targets.length}: power target ${t} W`);
        const r = await ctx.deps.plane.control.setPowerTarget(ctx.caller, { id: miner.id }, { watt: t });
        const res = r.miners[0];
        if (res && res.status !== 'ok' && res.status !== 'skipped') {
          points.push({ power_target_w: t, power_w: null, hashrate_ths: null, efficiency_jth: null, note: `not applied: ${res.message ?? res.status}` });
          continue;
        }
        await sleep(args.settle_s * 1_000, ctx.signal);
        if (ctx.signal.aborted) {
          cancelled = true;
          break;
        }
        const m = await measure(client, args.sample_s, ctx.signal);
        points.push({
          power_target_w: t,
          ...m,
          efficiency_jth: m.power_w !== null && m.hashrate_ths ? round(m.power_w / m.hashrate_ths, 2) : null,
        });
      }
    } finally {
      restored = await restore(ctx, miner.id, original);
      if (original && !restored) notes.push('restoring the original target FAILED: set it again with set_power_target');
    }
    await ctx.progress(targets.length + 1, targets.length + 1, 'done');
    const structured = out({
      method: 'stepping',
      points,
      plan,
      original_target: original,
      restored,
      cancelled,
      estimated_s: estimated,
    });
    const b = structured.best;
    return {
      structured,
      summary: `${miner.id}: stepped ${points.length}/${targets.length} power targets${cancelled ? ' (cancelled)' : ''}${b ? `; best ${b.efficiency_jth} J/TH at ${b.power_target_w} W` : ''}; original target ${restored ? 'restored' : original ? 'NOT restored' : 'unknown'}.`,
    };
  },
});
