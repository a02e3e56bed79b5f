import { z } from 'zod';
import { DEGRADED_REASONS } from '../../core/samples.ts';
import {
  HealthStatusSchema,
  IsoTime,
  ListMeta,
  MinerId,
  SiteName,
  SourceSchema,
  StepParam,
  TagFilter,
  TimeParam,
  isPrintable,
  limitParam,
} from './common.ts';

// ---- GET /api/v1/miners ----------------------------------------------------------------------

export const MINER_SORT_KEYS = [
  'id',
  'hashrate',
  'pct_nominal',
  'temperature',
  'efficiency',
  'power',
  'last_seen',
  'fans',
  'uptime',
  'boards',
  'site',
  'model',
  'status',
  'firmware',
  'pool',
] as const;
export type MinerSortKey = (typeof MINER_SORT_KEYS)[number];

const LABEL_RE = /^[^=]{1,64}=[^=]{0,256}$/;
const labelMsg = 'expected key=value such as rack=r1, without control characters';
const LabelFilter = z
  .string()
  .regex(LABEL_RE, { error: labelMsg })
  .refine(isPrintable, { error: labelMsg });

export const MinerListQuery = z.strictObject({
  status: HealthStatusSchema.optional(),
  site: SiteName.optional(),
  model: TagFilter.optional(),
  label: z
    .union([
      LabelFilter,
      z.array(LabelFilter).max(16),
    ])
    .optional()
    .describe('key=value; repeat the parameter to require several labels.'),
  firmware: TagFilter.optional().describe('Case-insensitive part of the firmware version.'),
  q: TagFilter.optional().describe('Case-insensitive part of the id, hostname or IP address.'),
  sort: z.enum(MINER_SORT_KEYS, { error: `expected one of ${MINER_SORT_KEYS.join(', ')}` }).default('id'),
  order: z
    .enum(['asc', 'desc'], { error: 'expected asc or desc' })
    .optional()
    .describe('Default: asc for id, desc otherwise.'),
  limit: limitParam(50, 500),
  cursor: z.string().max(512).optional().describe('next_cursor of the previous page, unchanged.'),
});

export const MinerListItem = z.object({
  id: z.string(),
  hostname: z.string().nullable(),
  address: z.string().describe('host:port of the miner API.'),
  site: z.string(),
  model: z.string().nullable(),
  firmware: z.string().nullable(),
  status: HealthStatusSchema,
  degraded_reasons: z.array(z.enum(DEGRADED_REASONS)),
  hashrate_ths: z.number().nullable().describe('null while the miner is offline.'),
  hashrate_nominal_ths: z.number().nullable(),
  pct_nominal: z.number().nullable(),
  power_w: z.number().nullable(),
  efficiency_jth: z.number().nullable(),
  temp_chip_max_c: z.number().nullable(),
  boards_hashing: z.number().int().nullable(),
  boards_total: z.number().int().nullable(),
  fan_rpm_min: z.number().nullable().describe('slowest fan, RPM; null while offline.'),
  uptime_s: z.number().nullable().describe('control board (system) uptime, s; null while offline or before the first details read.'),
  pool: z.string().nullable().describe('URL of the active pool (else the first enabled one).'),
  labels: z.record(z.string(), z.string()),
  last_seen: IsoTime.nullable(),
  stale: z.boolean().describe('last_seen older than 3 poll intervals (or never reached).'),
});
export type MinerListItem = z.output<typeof MinerListItem>;

export const MinerList = z.object({
  items: z.array(MinerListItem),
  ...ListMeta,
  next_cursor: z.string().nullable().describe('Pass as cursor for the next page; null on the last page.'),
});
export type MinerList = z.output<typeof MinerList>;

// ---- GET /api/v1/miners/:id ------------------------------------------------------------------

export const MinerParams = z.strictObject({ id: MinerId });

export const MinerBoard = z.object({
  board: z.string(),
  enabled: z.boolean(),
  hashrate_ths: z.number(),
  hashrate_nominal_ths: z.number(),
  pct_nominal: z.number().nullable(),
  temp_chip_c: z.number().nullable(),
  temp_board_c: z.number().nullable(),
  temp_inlet_c: z.number().nullable(),
  temp_outlet_c: z.number().nullable(),
  voltage_v: z.number().nullable(),
  frequency_mhz: z.number().nullable(),
  chips: z.number().int().nullable(),
});

export const MinerDetail = z.object({
  id: z.string(),
  site: z.string(),
  address: z.string(),
  labels: z.record(z.string(), z.string()),
  hostname: z.string().nullable(),
  model: z.string().nullable(),
  firmware: z.string().nullable(),
  status: HealthStatusSchema,
  degraded_reasons: z.array(z.enum(DEGRADED_REASONS)),
  miner_status: z.string().nullable().describe("The miner's own state: normal, paused, not_started, …"),
  tuner_state: z.string().nullable(),
  last_seen: IsoTime.nullable(),
  last_poll: IsoTime,
  stale: z.boolean(),
  consecutive_failures: z.number().int(),
  last_error: z.string().nullable(),
  sample_time: IsoTime.nullable().describe('Time of the values below (the last successful poll).'),
  uptime_s: z.number().int().nullable(),
  hashrate_ths: z.number().nullable(),
  hashrate_5m_ths: z.number().nullable(),
  hashrate_nominal_ths: z.number().nullable(),
  pct_nominal: z.number().nullable(),
  power_w: z.number().nullable(),
  power_target_w: z.number().nullable(),
  efficiency_jth: z.number().nullable(),
  temp_chip_max_c: z.number().nullable(),
  temp_board_max_c: z.number().nullable(),
  fan_rpm_min: z.number().nullable(),
  fan_rpm_avg: z.number().nullable(),
  shares: z
    .object({ accepted: z.number().int(), rejected: z.number().int(), stale: z.number().int() })
    .nullable(),
  boards_hashing: z.number().int().nullable(),
  boards_total: z.number().int().nullable(),
  boards: z.array(MinerBoard),
  fans: z.array(z.object({ fan: z.string(), rpm: z.number(), pwm_pct: z.number().nullable() })),
  pools: z.array(
    z.object({
      group: z.string(),
      url: z.string(),
      user: z.string(),
      enabled: z.boolean(),
      active: z.boolean(),
      alive: z.boolean(),
      accepted: z.number().int(),
      rejected: z.number().int(),
      stale: z.number().int(),
    }),
  ),
  details: z
    .object({
      uid: z.string(),
      serial: z.string().nullable(),
      mac: z.string().nullable(),
      platform: z.string(),
      api_version: z.string().nullable(),
      sticker_hashrate_ths: z.number().nullable(),
      fetched_at: IsoTime,
      errors: z
        .array(
          z.object({
            time: z.string().nullable(),
            message: z.string(),
            codes: z.array(z.string()),
            hint: z.string().nullable(),
            component: z.string().nullable(),
          }),
        )
        .nullable()
        .describe('Errors the miner reports itself (GetErrors), read with the details; null when its API has none.'),
    })
    .nullable(),
});
export type MinerDetail = z.output<typeof MinerDetail>;

// ---- GET /api/v1/miners/:id/telemetry --------------------------------------------------------

/** Per-miner metrics available at every resolution (raw, 1m, 1h), and how they map to fields. */
export const TELEMETRY_METRICS = {
  hashrate_ths: { field: 'hashrate_ghs', scale: 1 / 1_000, unit: 'TH/s', board: 'hashrate_ghs' },
  hashrate_nominal_ths: {
    field: 'hashrate_nominal_ghs',
    scale: 1 / 1_000,
    unit: 'TH/s',
    board: 'hashrate_nominal_ghs',
  },
  power_w: { field: 'power_w', scale: 1, unit: 'W', board: null },
  efficiency_jth: { field: 'efficiency_jth', scale: 1, unit: 'J/TH', board: null },
  temp_chip_max_c: { field: 'temp_chip_max_c', scale: 1, unit: '°C', board: 'temp_chip_c' },
  temp_board_max_c: { field: 'temp_board_max_c', scale: 1, unit: '°C', board: 'temp_board_c' },
  fan_rpm_min: { field: 'fan_rpm_min', scale: 1, unit: 'rpm', board: null },
  up_pct: { field: 'up', scale: 100, unit: '%', board: null },
} as const;
export type TelemetryMetric = keyof typeof TELEMETRY_METRICS;
export const TELEMETRY_METRIC_NAMES = Object.keys(TELEMETRY_METRICS) as TelemetryMetric[];

/** Board series names: the board field with the metric's unit suffix. */
export const BOARD_METRIC_NAMES = {
  hashrate_ths: 'hashrate_ths',
  hashrate_nominal_ths: 'hashrate_nominal_ths',
  temp_chip_max_c: 'temp_chip_c',
  temp_board_max_c: 'temp_board_c',
} as const;

const metricsMsg = `expected a comma-separated list of: ${TELEMETRY_METRIC_NAMES.join(', ')}`;

export const TelemetryQuery = z.strictObject({
  metrics: z
    .string()
    .refine(v => v.split(',').every(m => (TELEMETRY_METRIC_NAMES as string[]).includes(m.trim())), {
      error: metricsMsg,
    })
    .default('hashrate_ths,power_w,temp_chip_max_c')
    .describe(metricsMsg),
  from: TimeParam.optional().describe('Start (default: to - 1h).'),
  to: TimeParam.optional().describe('End, exclusive (default: now).'),
  step: StepParam.optional().describe('Bucket size, at most the range (default: at most ~500 points).'),
  aggregate: z
    .enum(['mean', 'max', 'min', 'last'], { error: 'expected mean, max, min or last' })
    .default('mean'),
  boards: z
    .enum(['true', 'false'], { error: 'expected true or false' })
    .default('false')
    .describe('Also return per-hashboard series (raw hashboard points; ranges up to 7d).'),
});

const PointSchema = z.object({ time: IsoTime }).catchall(z.number().nullable());

export const Telemetry = z.object({
  miner: z.string(),
  from: IsoTime,
  to: IsoTime,
  step_s: z.number().int(),
  source: SourceSchema,
  aggregate: z.enum(['mean', 'max', 'min', 'last']),
  metrics: z.array(z.string()),
  units: z.record(z.string(), z.string()),
  points: z.array(PointSchema).describe('One row per bucket; a metric is null when the bucket has no value.'),
  boards: z.array(z.object({ board: z.string(), points: z.array(PointSchema) })).optional(),
  hint: z.string().optional(),
});
export type Telemetry = z.output<typeof Telemetry>;
