import { MEASUREMENTS, type FLEET_ROLLUP_FIELDS, type ROLLUP_FIELDS } from './samples.ts';

/**
 * Tags and field types of every measurement the product writes: line protocol takes the `i`
 * suffix from here, the embedded store its column types. A field never changes type (InfluxDB
 * rejects the write). Flags are integers 0/1; a field not listed is a float when it is a
 * number, a string otherwise.
 */
export type FieldType = 'float' | 'int' | 'string';

export interface MeasurementSchema {
  /** in key order (what InfluxDB stores) */
  tags: readonly string[];
  fields: Readonly<Record<string, FieldType>>;
}

const MINER_FIELDS: Record<string, FieldType> = {
  up: 'int',
  status: 'string',
  hashrate_ghs: 'float',
  hashrate_5m_ghs: 'float',
  hashrate_nominal_ghs: 'float',
  hashrate_nominal_reported_ghs: 'float',
  hashrate_error_mhs: 'float',
  power_w: 'float',
  power_target_w: 'float',
  efficiency_jth: 'float',
  temp_chip_max_c: 'float',
  temp_board_max_c: 'float',
  fan_rpm_min: 'int',
  fan_rpm_avg: 'float',
  shares_accepted: 'int',
  shares_rejected: 'int',
  shares_stale: 'int',
  tuner_state: 'string',
  uptime_s: 'int',
  system_uptime_s: 'int',
  boards_hashing: 'int',
  boards_total: 'int',
  firmware: 'string',
};

const MINER_ROLLUP_TYPES: Record<(typeof ROLLUP_FIELDS)[number], FieldType> = {
  hashrate_ghs: 'float',
  hashrate_nominal_ghs: 'float',
  power_w: 'float',
  efficiency_jth: 'float',
  temp_chip_max_c: 'float',
  temp_board_max_c: 'float',
  fan_rpm_min: 'int',
  shares_accepted: 'int',
  shares_rejected: 'int',
  shares_stale: 'int',
  up: 'float',
  samples: 'int',
};

const FLEET_ROLLUP_TYPES: Record<(typeof FLEET_ROLLUP_FIELDS)[number], FieldType> = {
  miners: 'int',
  online: 'float',
  hashrate_ghs: 'float',
  hashrate_nominal_ghs: 'float',
  power_w: 'float',
  temp_chip_max_c: 'float',
  samples: 'int',
};

const MINER_TAG_KEYS = ['miner', 'model', 'site', 'tenant'] as const;

export const SERIES_SCHEMA: Readonly<Record<string, MeasurementSchema>> = {
  [MEASUREMENTS.miner]: { tags: MINER_TAG_KEYS, fields: MINER_FIELDS },
  [MEASUREMENTS.hashboard]: {
    tags: ['board', 'miner', 'site', 'tenant'],
    fields: {
      hashrate_ghs: 'float',
      hashrate_nominal_ghs: 'float',
      hashrate_error_mhs: 'float',
      temp_chip_c: 'float',
      temp_board_c: 'float',
      temp_inlet_c: 'float',
      temp_outlet_c: 'float',
      voltage_v: 'float',
      frequency_mhz: 'float',
      chips: 'int',
      enabled: 'int',
    },
  },
  [MEASUREMENTS.fan]: { tags: ['fan', 'miner', 'site', 'tenant'], fields: { rpm: 'int', pwm_ratio: 'float' } },
  [MEASUREMENTS.pool]: {
    tags: ['group', 'miner', 'pool', 'site', 'tenant'],
    fields: { accepted: 'int', rejected: 'int', stale: 'int', alive: 'int', active: 'int', enabled: 'int' },
  },
  [MEASUREMENTS.event]: {
    tags: ['kind', 'miner', 'severity', 'site', 'tenant'],
    fields: { message: 'string', actor: 'string', result: 'string', data: 'string' },
  },
  [MEASUREMENTS.miner1m]: { tags: MINER_TAG_KEYS, fields: MINER_ROLLUP_TYPES },
  [MEASUREMENTS.miner1h]: { tags: MINER_TAG_KEYS, fields: MINER_ROLLUP_TYPES },
  [MEASUREMENTS.fleet1m]: { tags: ['collector', 'model', 'site', 'tenant'], fields: FLEET_ROLLUP_TYPES },
  [MEASUREMENTS.fleet1h]: { tags: ['collector', 'model', 'site', 'tenant'], fields: FLEET_ROLLUP_TYPES },
};

/** The type a field is stored with: the schema's, else inferred from the value. */
export function fieldTypeOf(measurement: string, field: string, value: unknown): FieldType {
  return SERIES_SCHEMA[measurement]?.fields[field] ?? (typeof value === 'number' ? 'float' : typeof value === 'boolean' ? 'int' : 'string');
}
