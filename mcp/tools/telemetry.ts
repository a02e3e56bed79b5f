/**
 * Time series over a window, sized for a model: per series the min / max / mean / last, and the
 * values themselves at a regular step (times are implied: from + i * step_s), with the step
 * chosen so the answer stays small (about 60 points per series by default, fewer when many
 * series are asked for). Per miner (up to 10 ids) from the miner's series, or aggregated over
 * a site / model / the whole fleet from the rollups.
 */
import { z } from 'zod';
import { FleetError } from '../../core/errors.ts';
import { minerIdSchema } from '../../collector/inventory/schema.ts';
import { MAX_RANGE_MS } from '../../services/query/influxql.ts';
import { FLEET_METRICS, type FleetMetric } from '../../api/schemas/fleet.ts';
import { StepParam, TagFilter } from '../../api/schemas/common.ts';
import { TELEMETRY_METRICS, type TelemetryMetric } from '../../api/schemas/miners.ts';
import { formatDuration, iso, parseTime } from '../../services/query/time.ts';
import { badArgument, defineTool } from '../define-tool.ts';
import { DEFAULT_ANSWER_BYTES, EXPLICIT_ANSWER_BYTES, fitList } from '../size-budget.ts';
import { DurationArg, SiteArg, TimeArg, durationMs } from './shared.ts';

const METRICS = [
  'hashrate_ths',
  'hashrate_nominal_ths',
  'power_w',
  'power_kw',
  'efficiency_jth',
  'temp_chip_max_c',
  'temp_board_max_c',
  'fan_rpm_min',
  'up_pct',
  'availability_pct',
  'online_miners',
] as const;
type Metric = (typeof METRICS)[number];

const MINER_NAME: Partial<Record<Metric, TelemetryMetric>> = {
  hashrate_ths: 'hashrate_ths',
  hashrate_nominal_ths: 'hashrate_nominal_ths',
  power_w: 'power_w',
  power_kw: 'power_w',
  efficiency_jth: 'efficiency_jth',
  temp_chip_max_c: 'temp_chip_max_c',
  temp_board_max_c: 'temp_board_max_c',
  fan_rpm_min: 'fan_rpm_min',
  up_pct: 'up_pct',
  availability_pct: 'up_pct',
};
const FLEET_NAME: Partial<Record<Metric, FleetMetric>> = {
  hashrate_ths: 'hashrate_ths',
  hashrate_nominal_ths: 'hashrate_nominal_ths',
  power_w: 'power_kw',
  power_kw: 'power_kw',
  efficiency_jth: 'efficiency_jth',
  temp_chip_max_c: 'temp_chip_max_c',
  up_pct: 'availability_pct',
  availability_pct: 'availability_pct',
  online_miners: 'online_miners',
};

/** Steps the tool picks from (a step the store cannot serve finer is raised by the query service). */
const NICE_STEPS_MS = [10, 30, 60, 120, 300, 600, 900, 1_800, 3_600, 7_200, 10_800, 21_600, 43_200, 86_400].map(
  s => s * 1_000,
);

export function pickStep(rangeMs: number, maxPoints: number): number {
  const want = rangeMs / maxPoints;
  return NICE_STEPS_MS.find(s => s >= want) ?? Math.ceil(want / 86_400_000) * 86_400_000;
}

const Series = z.object({
  miner: z.string().nullable().describe('Miner id; null for a fleet/site/model aggregate.'),
  hostname: z.string().nullable(),
  scope: z.string().describe('What the series covers: the miner id, or fleet / site=x / model=y.'),
  metric: z.string(),
  unit: z.string(),
  points: z.number().describe('Buckets with a value.'),
  min: z.number().nullable(),
  max: z.number().nullable(),
  mean: z.number().nullable(),
  last: z.number().nullable().describe('Newest value.'),
  values: z.array(z.number().nullable()).describe('One per bucket, oldest first, at from + i * step_s; null = no data.'),
  values_omitted: z.boolean().optional().describe('Values left out to keep the answer small; the statistics cover them.'),
});
type Series = z.output<typeof Series>;

const TelemetryOut = z.object({
  mode: z.enum(['miners', 'aggregate']),
  from: z.string().describe('Start of the first bucket (ISO 8601).'),
  to: z.string(),
  step_s: z.number(),
  source: z.string().describe('raw polls, 1m or 1h rollups.'),
  aggregate: z.string().describe('How values were combined inside a bucket (or across miners for aggregates).'),
  series: z.array(Series),
  truncated: z.boolean(),
  hint: z.string().optional(),
});
type TelemetryOut = z.output<typeof TelemetryOut>;

function stats(values: readonly (number | null)[]): Pick<Series, 'points' | 'min' | 'max' | 'mean' | 'last'> {
  const v = values.filter((x): x is number => x !== null);
  if (v.length === 0) return { points: 0, min: null, max: null, mean: null, last: null };
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  return {
    points: v.length,
    min: Math.min(...v),
    max: Math.max(...v),
    mean: Math.round(mean * 1_000) / 1_000,
    last: v[v.length - 1]!,
  };
}

export const queryTelemetry = defineTool({
  name: 'query_telemetry',
  title: 'Query telemetry',
  description:
    'Time series of hashrate, power, efficiency, temperatures, fans or availability over a window, for up to 10 miners (miners) or aggregated over a site, model or the whole fleet; each series comes with min/max/mean/last and compact values.',
  access: 'read',
  category: 'telemetry',
  input: z.strictObject({
    metrics: z
      .array(z.enum(METRICS))
      .min(1)
      .max(4)
      .optional()
      .describe(
        'Up to 4. Per miner only: power_w, temp_*, fan_rpm_min; aggregates only: power_kw, online_miners. Default: hashrate and power (+ temp_chip_max_c per miner).',
      ),
    miners: z.array(minerIdSchema).min(1).max(10).optional().describe('Up to 10 miners (id, hostname or IP), one series per miner and metric.'),
    site: SiteArg.optional().describe('Aggregate over this site (without miners).'),
    model: TagFilter.optional().describe('Aggregate over this model (without miners).'),
    window: DurationArg.optional().describe('Length of the window ending at to (default 1h per miner, 24h for aggregates; at most 90d).'),
    from: TimeArg.optional().describe('Start (alternative to window).'),
    to: TimeArg.optional().describe('End (default now).'),
    step: StepParam.optional().describe('Bucket size, at most the window (default: about 60 points per series).'),
    aggregate: z
      .enum(['mean', 'max', 'min', 'last'])
      .default('mean')
      .describe('Per miner: how polls combine inside a bucket (default mean).'),
  }),
  output: TelemetryOut,
  async run(args, ctx) {
    const now = Date.now();
    if (args.miners && (args.site !== undefined || args.model !== undefined))
      throw badArgument('miners', 'give miners, or site/model for an aggregate, not both');
    if (args.window !== undefined && args.from !== undefined)
      throw badArgument('window', 'give window or from, not both');
    const mode = args.miners ? 'miners' : 'aggregate';
    // Aggregates default to a day: hourly rollups, a cheap read at any fleet size and the trend a
    // question about the fleet usually needs; one miner defaults to its last hour.
    const toMs = args.to === undefined ? now : parseTime('to', args.to, now);
    const fromMs =
      args.from !== undefined
        ? parseTime('from', args.from, now)
        : toMs - durationMs('window', args.window ?? (mode === 'miners' ? '1h' : '24h'));
    if (toMs - fromMs > MAX_RANGE_MS)
      throw new FleetError(
        'invalid_argument',
        `range ${formatDuration(Math.ceil((toMs - fromMs) / 3_600_000) * 3_600_000)} exceeds the ${formatDuration(MAX_RANGE_MS)} maximum; narrow window or from/to`,
        { details: { field: 'window' } },
      );
    const requested: Metric[] =
      args.metrics ?? (mode === 'miners' ? ['hashrate_ths', 'power_w', 'temp_chip_max_c'] : ['hashrate_ths', 'power_kw']);
    const table = mode === 'miners' ? MINER_NAME : FLEET_NAME;
    const bad = requested.filter(m => table[m] === undefined);
    if (bad.length > 0)
      throw badArgument(
        'metrics',
        `${bad.join(', ')} ${bad.length === 1 ? 'is' : 'are'} not available ${mode === 'miners' ? 'per miner' : 'for an aggregate'}; use one of ${Object.keys(table).join(', ')}`,
      );
    const nSeries = requested.length * (args.miners?.length ?? 1);
    const explicitStep = args.step !== undefined;
    const maxPoints = Math.max(12, Math.min(60, Math.floor(5_400 / (nSeries * 8))));
    const stepMs = explicitStep ? durationMs('step', args.step!) : pickStep(toMs - fromMs, maxPoints);
    const step = formatDuration(stepMs);

    const series: Series[] = [];
    let head: Pick<TelemetryOut, 'from' | 'to' | 'step_s' | 'source'> = { from: iso(fromMs), to: iso(toMs), step_s: stepMs / 1_000, source: 'raw' };
    const hints: string[] = [];
    if (mode === 'miners') {
      const ids = [...new Set(args.miners!)];
      const metrics = [...new Set(requested.map(m => MINER_NAME[m]!))];
      const results = await Promise.all(
        ids.map(id =>
          ctx.deps.fleetQuery.telemetry(ctx.caller, id, { metrics, from: fromMs, to: toMs, step, aggregate: args.aggregate }),
        ),
      );
      // by the resolved id: a miner may have been named by hostname or address
      const names = await ctx.lookup.hostnames(ctx.caller, results.map(t => t.miner));
      results.forEach((t, i) => {
        if (i === 0) head = { from: t.from, to: t.to, step_s: t.step_s, source: t.source };
        if (t.hint) hints.push(t.hint.replace(/\(GET [^)]*\)/, '(get_miner shows last_seen)'));
        for (const m of metrics) {
          const values = t.points.map(p => (p[m] ?? null) as number | null);
          series.push({
            miner: t.miner,
            hostname: names.get(t.miner) ?? null,
            scope: t.miner,
            metric: m,
            unit: TELEMETRY_METRICS[m].unit,
            ...stats(values),
            values,
          });
        }
      });
    } else {
      const metrics = [...new Set(requested.map(m => FLEET_NAME[m]!))];
      const scope = args.site !== undefined ? `site=${args.site}` : args.model !== undefined ? `model=${args.model}` : 'fleet';
      const results = await Promise.all(
        metrics.map(metric =>
          ctx.deps.fleetQuery.fleetSeries(ctx.caller, { metric, from: fromMs, to: toMs, step, site: args.site, model: args.model }),
        ),
      );
      results.forEach((r, i) => {
        if (i === 0) head = { from: r.from, to: r.to, step_s: r.step_s, source: r.source };
        if (r.hint && !hints.includes(r.hint)) hints.push(r.hint);
        const values = (r.series[0]?.points ?? []).map(p => p.value);
        series.push({
          miner: null,
          hostname: null,
          scope,
          metric: metrics[i]!,
          unit: FLEET_METRICS[metrics[i]!].unit,
          ...stats(values),
          values,
        });
      });
    }
    const aggregate = mode === 'miners' ? args.aggregate : 'fleet combination per metric (sum of per-miner means, max temperature …)';
    const make = (n: number): { structured: TelemetryOut; summary: string } => {
      const shown = series.map((s, i) => (i < n ? s : { ...s, values: [], values_omitted: true }));
      const structured: TelemetryOut = { mode, ...head, aggregate, series: shown, truncated: n < series.length };
      const h = [...hints];
      if (n < series.length) h.push('values of some series were left out to keep the answer small (statistics cover them); ask for fewer miners or metrics, or a larger step');
      if (h.length > 0) structured.hint = h.join('; ');
      const lines = series
        .slice(0, 6)
        .map(s => `${s.scope} ${s.metric}: mean ${s.mean ?? '-'} ${s.unit} (min ${s.min ?? '-'}, max ${s.max ?? '-'}, last ${s.last ?? '-'})`);
      const summary = `${series.length} series from ${head.from} to ${head.to} at ${head.step_s} s steps (${head.source}): ${lines.join('; ')}${series.length > 6 ? '; …' : ''}.`;
      return { structured, summary };
    };
    return fitList(series.length, make, explicitStep ? EXPLICIT_ANSWER_BYTES : DEFAULT_ANSWER_BYTES).answer;
  },
});

export const telemetryTools = [queryTelemetry];
