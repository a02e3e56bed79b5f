import { z } from 'zod';
import {
  DurationParam,
  ListMeta,
  SiteName,
  StatsSourceSchema,
  TimeParam,
  WindowSchema,
  limitParam,
} from './common.ts';

/**
 * Fleet analytics over a time window: bounded top-k answers with totals and `truncated`.
 * Per-miner figures are means over the window (of the polls that reached the miner); `up_pct`
 * says how much of the window the miner was reachable.
 */

const windowParam = DurationParam.default('1h').describe(
  'Length of the window ending at `to` (default 1h, max 90d).',
);
const toParam = TimeParam.optional().describe('End of the window (default: now).');
const levelParam = z.enum(['miner', 'board'], { error: 'expected miner or board' }).default('miner');

// ---- underperformers -------------------------------------------------------------------------

export const UnderperformersQuery = z.strictObject({
  window: windowParam,
  to: toParam,
  threshold_pct: z.coerce
    .number({ error: 'expected a percentage between 1 and 100' })
    .min(1, { error: 'expected a percentage between 1 and 100' })
    .max(100, { error: 'expected a percentage between 1 and 100' })
    .default(90)
    .describe('Real hashrate below this percentage of nominal counts as underperforming (default 90).'),
  level: levelParam,
  site: SiteName.optional(),
  limit: limitParam(20, 500),
});

export const UnderperformerItem = z.object({
  miner: z.string(),
  site: z.string(),
  model: z.string().nullable(),
  board: z.string().nullable(),
  hashrate_ths: z.number(),
  hashrate_nominal_ths: z.number(),
  pct_nominal: z.number(),
  up_pct: z.number().nullable().describe('Share of polls that reached the miner (null at board level).'),
});

export const Underperformers = z.object({
  window: WindowSchema,
  source: StatsSourceSchema.or(z.literal('hashboard')),
  level: z.enum(['miner', 'board']),
  threshold_pct: z.number(),
  evaluated: z.number().int().describe('Miners (or boards) with data in the window.'),
  items: z.array(UnderperformerItem),
  ...ListMeta,
});
export type Underperformers = z.output<typeof Underperformers>;

// ---- hot spots -------------------------------------------------------------------------------

export const HotSpotsQuery = z.strictObject({
  window: windowParam,
  to: toParam,
  level: levelParam,
  site: SiteName.optional(),
  limit: limitParam(20, 500),
});

export const HotSpotItem = z.object({
  miner: z.string(),
  site: z.string(),
  model: z.string().nullable(),
  board: z.string().nullable(),
  temp_max_c: z.number().describe('Hottest chip temperature in the window.'),
  temp_mean_c: z.number().nullable().describe('Mean of the chip temperature readings.'),
  temp_board_max_c: z.number().nullable(),
});

export const HotSpots = z.object({
  window: WindowSchema,
  source: StatsSourceSchema.or(z.literal('hashboard')),
  level: z.enum(['miner', 'board']),
  items: z.array(HotSpotItem),
  ...ListMeta,
});
export type HotSpots = z.output<typeof HotSpots>;

// ---- efficiency ranking ----------------------------------------------------------------------

export const EfficiencyQuery = z.strictObject({
  window: windowParam,
  to: toParam,
  order: z
    .enum(['worst', 'best'], { error: 'expected worst or best' })
    .default('worst')
    .describe('worst = highest J/TH first.'),
  site: SiteName.optional(),
  limit: limitParam(20, 500),
});

export const EfficiencyItem = z.object({
  miner: z.string(),
  site: z.string(),
  model: z.string().nullable(),
  efficiency_jth: z.number(),
  hashrate_ths: z.number(),
  power_w: z.number(),
});

export const EfficiencyRanking = z.object({
  window: WindowSchema,
  source: StatsSourceSchema,
  order: z.enum(['worst', 'best']),
  fleet_efficiency_jth: z
    .number()
    .nullable()
    .describe('Sum of power over sum of hashrate of the ranked miners.'),
  excluded: z
    .number()
    .int()
    .describe('Miners left out: no hashrate or no power in the window (offline, paused).'),
  items: z.array(EfficiencyItem),
  ...ListMeta,
});
export type EfficiencyRanking = z.output<typeof EfficiencyRanking>;

// ---- compare periods -------------------------------------------------------------------------

export const CompareQuery = z.strictObject({
  a_from: TimeParam,
  a_to: TimeParam,
  b_from: TimeParam,
  b_to: TimeParam,
  group_by: z.enum(['site', 'model'], { error: 'expected site or model' }).default('site'),
});

export const PeriodStats = z.object({
  miners: z.number().int().describe('Miners with data in the period.'),
  hashrate_ths: z.number().describe('Sum of per-miner mean hashrate.'),
  power_kw: z.number(),
  efficiency_jth: z.number().nullable(),
  availability_pct: z.number().nullable(),
  offline_minutes: z.number().describe('Sum over miners of the minutes not reached (from `up`).'),
});

export const PeriodDelta = z.object({
  hashrate_ths: z.number(),
  hashrate_pct: z.number().nullable(),
  power_kw: z.number(),
  power_pct: z.number().nullable(),
  efficiency_jth: z.number().nullable(),
  availability_pct: z.number().nullable(),
  offline_minutes: z.number(),
  miners: z.number().int(),
});

export const ComparePeriods = z.object({
  a: WindowSchema.extend({ source: StatsSourceSchema }),
  b: WindowSchema.extend({ source: StatsSourceSchema }),
  group_by: z.enum(['site', 'model']),
  groups: z.array(
    z.object({
      group: z.string(),
      a: PeriodStats.nullable(),
      b: PeriodStats.nullable(),
      delta: PeriodDelta.nullable(),
    }),
  ),
  totals: z.object({ a: PeriodStats, b: PeriodStats, delta: PeriodDelta }),
  hint: z.string().optional(),
});
export type ComparePeriods = z.output<typeof ComparePeriods>;
export type PeriodStats = z.output<typeof PeriodStats>;

// ---- availability ----------------------------------------------------------------------------

export const AvailabilityQuery = z.strictObject({
  from: TimeParam.optional().describe('Start (default: to - 24h).'),
  to: TimeParam.optional().describe('End, exclusive (default: now).'),
  level: z.enum(['miner', 'site'], { error: 'expected miner or site' }).default('miner'),
  site: SiteName.optional(),
  limit: limitParam(20, 500),
});

export const AvailabilityItem = z.object({
  miner: z.string().nullable().describe('null at site level.'),
  site: z.string(),
  miners: z.number().int(),
  availability_pct: z.number(),
  offline_minutes: z.number(),
});

export const Availability = z.object({
  window: WindowSchema,
  source: StatsSourceSchema,
  level: z.enum(['miner', 'site']),
  fleet: z.object({
    miners: z.number().int(),
    availability_pct: z.number().nullable(),
    offline_minutes: z.number(),
  }),
  items: z.array(AvailabilityItem).describe('Least available first.'),
  ...ListMeta,
});
export type Availability = z.output<typeof Availability>;
