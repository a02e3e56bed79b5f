import { z } from 'zod';
import {
  IsoTime,
  ListMeta,
  SiteName,
  SourceSchema,
  StatusCounts,
  StepParam,
  TagFilter,
  TimeParam,
  limitParam,
} from './common.ts';

// ---- GET /api/v1/fleet/summary ---------------------------------------------------------------

export const FleetTotals = z.object({
  miners: z.number().int(),
  by_status: StatusCounts,
  overheating: z.number().int(),
  hashrate_ths: z.number().describe('Real hashrate of the miners reached by their last poll, TH/s.'),
  hashrate_nominal_ths: z.number().describe('Nominal hashrate of the same miners, TH/s.'),
  pct_nominal: z.number().nullable().describe('hashrate_ths / hashrate_nominal_ths in percent.'),
  power_kw: z.number(),
  efficiency_jth: z.number().nullable().describe('Power over real hashrate, J/TH.'),
  boards_hashing: z.number().int(),
  boards_total: z.number().int(),
});

export const FleetSummary = z.object({
  tenant: z.string(),
  updated_at: IsoTime.nullable().describe('When the collector last computed these figures.'),
  stale: z
    .boolean()
    .describe('True when the figures are older than 3 poll intervals (is the collector running?).'),
  totals: FleetTotals,
  by_site: z.array(FleetTotals.extend({ site: z.string() })),
  by_model: z
    .array(FleetTotals.extend({ model: z.string() }))
    .describe("Per model, from the same miner state as totals and the miner list; 'unknown' when nothing names a miner's model."),
  state: z
    .enum(['ok', 'awaiting_first_poll', 'no_miners'])
    .describe("'awaiting_first_poll' while registered miners have not been polled yet (see first_poll_due); 'no_miners' when none is registered."),
  registered_miners: z.number().int().optional().describe('Miners registered for the tenant, when none has been polled yet.'),
  first_poll_due: IsoTime.nullable().optional().describe('When the first poll is due (null when the collector has not reported).'),
  hint: z.string().optional(),
});
export type FleetSummary = z.output<typeof FleetSummary>;
export type FleetTotals = z.output<typeof FleetTotals>;

// ---- GET /api/v1/fleet/series ----------------------------------------------------------------

/** Fleet-level series: how per-miner values combine into one value per time bucket. */
export const FLEET_METRICS = {
  hashrate_ths: { unit: 'TH/s', combine: 'sum of per-miner means per rollup window, averaged over the step' },
  hashrate_nominal_ths: { unit: 'TH/s', combine: 'sum of per-miner means per rollup window, averaged over the step' },
  power_kw: { unit: 'kW', combine: 'sum of per-miner means per rollup window, averaged over the step' },
  efficiency_jth: { unit: 'J/TH', combine: 'sum of power over sum of hashrate' },
  online_miners: { unit: 'miners', combine: 'sum of per-miner availability (share of polls that reached the miner)' },
  availability_pct: { unit: '%', combine: 'reachable miners over polled miners' },
  temp_chip_max_c: { unit: '°C', combine: 'hottest chip of any miner' },
} as const;
export type FleetMetric = keyof typeof FLEET_METRICS;
const fleetMetricNames = Object.keys(FLEET_METRICS) as [FleetMetric, ...FleetMetric[]];

export const FleetSeriesQuery = z.strictObject({
  metric: z
    .enum(fleetMetricNames, { error: `expected one of ${fleetMetricNames.join(', ')}` })
    .default('hashrate_ths'),
  from: TimeParam.optional().describe('Start (default: to - 24h).'),
  to: TimeParam.optional().describe('End, exclusive (default: now).'),
  step: StepParam.optional().describe('Bucket size, at most the range (default: at most ~500 buckets).'),
  group_by: z.enum(['site', 'model'], { error: 'expected site or model' }).optional(),
  site: SiteName.optional(),
  model: TagFilter.optional(),
});

export const SeriesPoint = z.object({ time: IsoTime, value: z.number().nullable() });

export const FleetSeries = z.object({
  metric: z.enum(fleetMetricNames),
  unit: z.string(),
  combine: z.string().describe('How per-miner values were combined.'),
  from: IsoTime,
  to: IsoTime,
  step_s: z.number().int(),
  source: SourceSchema,
  group_by: z.enum(['site', 'model']).nullable(),
  series: z.array(z.object({ group: z.string().nullable(), points: z.array(SeriesPoint) })),
  hint: z.string().optional(),
});
export type FleetSeries = z.output<typeof FleetSeries>;

// ---- GET /api/v1/fleet/pools -----------------------------------------------------------------

export const PoolHealthQuery = z.strictObject({
  limit: limitParam(50, 500),
  site: SiteName.optional(),
});

export const PoolHealthItem = z.object({
  url: z.string().describe('Pool URL without credentials.'),
  miners: z.number().int().describe('Miners with this pool configured.'),
  active_miners: z.number().int().describe('Miners currently mining on it.'),
  alive: z.number().int().describe('Miners that see the pool alive.'),
  dead: z.number().int().describe('Miners that see the pool dead.'),
  accepted: z.number().int(),
  rejected: z.number().int(),
  stale: z.number().int(),
  rejected_pct: z.number().nullable().describe('rejected / (accepted + rejected + stale), percent.'),
  stale_pct: z.number().nullable(),
});

export const PoolHealth = z.object({
  items: z.array(PoolHealthItem),
  ...ListMeta,
  miners_reporting: z.number().int().describe('Reached miners whose pools were counted.'),
  updated_at: IsoTime.nullable(),
});
export type PoolHealth = z.output<typeof PoolHealth>;
