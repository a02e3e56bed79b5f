import type { StoredMinerError } from '../collector/miner-errors.ts';
/**
 * The one sample model every component shares: what a poll of one miner yields after
 * normalisation. Units are in the field names and each field keeps one type forever
 * (floats stay floats). Measurement and field names here are the InfluxDB schema
 * (DESIGN.md, Data model); points.ts turns a sample into line protocol.
 */

/** Fleet-level health derived by the collector, used for indexes, aggregates and alerts. */
export const HEALTH_STATUSES = ['online', 'degraded', 'offline', 'paused', 'stopped'] as const;
export type HealthStatus = (typeof HEALTH_STATUSES)[number];

/** Why a miner is degraded; bounded vocabulary. */
export const DEGRADED_REASONS = ['hashboard_down', 'low_hashrate', 'overheating', 'pool_dead', 'fan_failure', 'miner_errors'] as const;
export type DegradedReason = (typeof DEGRADED_REASONS)[number];

/** Where a miner is and who owns it: the tags of every point. */
export interface MinerRef {
  /** Stable id: inventory id, else Braiins uid, else serial. */
  id: string;
  tenant: string;
  site: string;
  /** host:port of the gRPC API. */
  address: string;
  /** name of the credential entry used for this miner (never the secret itself) */
  credentials: string;
  labels: Record<string, string>;
}

export interface HashboardSample {
  board: string;
  enabled: boolean;
  hashrate_ghs: number;
  hashrate_nominal_ghs: number;
  hashrate_error_mhs: number;
  temp_chip_c: number | null;
  temp_board_c: number | null;
  temp_inlet_c: number | null;
  temp_outlet_c: number | null;
  voltage_v: number | null;
  frequency_mhz: number | null;
  chips: number | null;
}

export interface FanSample {
  fan: string;
  rpm: number;
  /** 0..1 PWM ratio when the miner reports it. */
  pwm_ratio: number | null;
}

export interface PoolSample {
  group: string;
  /** url without credentials */
  pool: string;
  user: string;
  accepted: number;
  rejected: number;
  stale: number;
  alive: boolean;
  active: boolean;
  enabled: boolean;
}

export interface MinerSample {
  time_ms: number;
  ref: MinerRef;
  model: string;
  hostname: string;
  firmware: string;
  status: HealthStatus;
  degraded_reasons: DegradedReason[];
  /** API MinerStatus lower-cased without prefix: normal, paused, not_started, suspended, restricted, unspecified. */
  miner_status: string;
  /** API TunerState lower-cased without prefix: stable, tuning, disabled, error, continuous, preheat, unspecified. */
  tuner_state: string;
  hashrate_ghs: number;
  hashrate_5m_ghs: number;
  /**
   * What the miner is expected to give with every board it has, GH/s: the boards' own nominal,
   * and for a dead or missing board the nominal of its hashing siblings (or its history, or the
   * model's sticker per board). A missing board is a shortfall here, not a lower target.
   */
  hashrate_nominal_ghs: number;
  /** The miner's own nominal (GetMinerStats), which drops with a dead board. */
  hashrate_nominal_reported_ghs?: number;
  hashrate_error_mhs: number;
  /** null when the miner reported no usable power figure */
  power_w: number | null;
  power_target_w: number | null;
  efficiency_jth: number | null;
  temp_chip_max_c: number | null;
  temp_board_max_c: number | null;
  fan_rpm_min: number | null;
  fan_rpm_avg: number | null;
  shares_accepted: number;
  shares_rejected: number;
  shares_stale: number;
  /** bosminer (mining daemon) uptime; 0 while it is stopped */
  uptime_s: number;
  /** control board uptime; null before the first details read */
  system_uptime_s?: number | null;
  boards_hashing: number;
  boards_total: number;
  hashboards: HashboardSample[];
  fans: FanSample[];
  pools: PoolSample[];
}

/** What Redis keeps per miner: the latest sample plus liveness bookkeeping. */
export interface MinerSnapshot {
  ref: MinerRef;
  /** last successful poll, epoch ms; null if never reached */
  last_seen_ms: number | null;
  /** last poll attempt, epoch ms */
  last_poll_ms: number;
  consecutive_failures: number;
  /** bounded reason of the last failure */
  last_error: string | null;
  status: HealthStatus;
  sample: MinerSample | null;
  /** details fetched rarely */
  details: MinerDetailsInfo | null;
}

export interface MinerDetailsInfo {
  uid: string;
  serial: string | null;
  mac: string | null;
  hostname: string;
  model: string;
  firmware: string;
  api_version: string | null;
  platform: string;
  sticker_hashrate_ghs: number | null;
  fetched_ms: number;
  /** errors the miner reports itself (GetErrors), read with the details; null = its API has none */
  errors?: StoredMinerError[] | null;
}

/** Fleet aggregate per tenant (and per tenant+site), refreshed each cycle. */
export interface FleetAggregate {
  tenant: string;
  site: string | null;
  updated_ms: number;
  miners_total: number;
  by_status: Record<HealthStatus, number>;
  overheating: number;
  hashrate_ghs: number;
  hashrate_nominal_ghs: number;
  power_w: number;
  boards_hashing: number;
  boards_total: number;
}

export type EventKind =
  | 'miner_offline'
  | 'miner_online'
  | 'status_changed'
  /** the control board rebooted (system uptime went down) and no control action explains it */
  | 'reboot_detected'
  /** bosminer restarted (its uptime went down, the system's did not) and no control action explains it */
  | 'mining_restarted'
  /** a reboot or mining restart that follows a control action of the product (data.restart, data.action) */
  | 'planned_restart'
  | 'hashboard_lost'
  | 'hashboard_recovered'
  | 'overheating'
  | 'pool_dead'
  | 'firmware_changed'
  | 'control_action'
  | 'job_step';

export interface FleetEvent {
  time_ms: number;
  tenant: string;
  site: string;
  miner: string;
  kind: EventKind;
  severity: 'info' | 'warning' | 'critical';
  message: string;
  /** who did it, for control actions and job steps */
  actor?: string;
  result?: string;
  data?: Record<string, string | number | boolean>;
}

/**
 * InfluxDB schema (measurement -> tags, fields). Every miner point carries `up` (1 reached,
 * 0 not reached); an unreachable miner still gets a point with `up=0` and `status="offline"`
 * so availability is `mean(up)` over any window.
 */
export const MEASUREMENTS = {
  miner: 'miner',
  hashboard: 'hashboard',
  fan: 'fan',
  pool: 'pool',
  event: 'event',
  /** 1-minute rollup of `miner`, written by the collector itself */
  miner1m: 'miner_1m',
  /** 1-hour rollup of `miner` */
  miner1h: 'miner_1h',
  /** 1-minute fleet rollup: one point per (tenant, site, model, collector) and minute (FLEET_ROLLUP_FIELDS) */
  fleet1m: 'fleet_1m',
  /** 1-hour fleet rollup, same tags and fields as `fleet_1m` */
  fleet1h: 'fleet_1h',
} as const;

export const MINER_TAGS = ['tenant', 'site', 'miner', 'model'] as const;

/**
 * Rollup fields (same names in miner_1m and miner_1h): means of hashrate_ghs,
 * hashrate_nominal_ghs, power_w, efficiency_jth; maxima temp_chip_max_c, temp_board_max_c;
 * minimum fan_rpm_min; last shares_accepted/rejected/stale; `up` is the fraction of polls
 * that reached the miner (0..1); `samples` the number of polls folded in.
 */
export const ROLLUP_FIELDS = [
  'hashrate_ghs',
  'hashrate_nominal_ghs',
  'power_w',
  'efficiency_jth',
  'temp_chip_max_c',
  'temp_board_max_c',
  'fan_rpm_min',
  'shares_accepted',
  'shares_rejected',
  'shares_stale',
  'up',
  'samples',
] as const;

/** Tags of `fleet_1m` / `fleet_1h`; `collector` keeps the points of several collector processes apart so they add up. */
export const FLEET_TAGS = ['tenant', 'site', 'model', 'collector'] as const;

/**
 * Fields of `fleet_1m` / `fleet_1h`, over the miners of one (tenant, site, model) polled by one
 * collector in the window: `miners` polled (int); `online` = sum of the miners' `up` (float, so
 * 9.5 = on average 9.5 miners reachable); sums of the per-miner window means of hashrate_ghs,
 * hashrate_nominal_ghs, power_w (0 when no miner had a value); max temp_chip_max_c; `samples`
 * = polls folded in (int).
 */
export const FLEET_ROLLUP_FIELDS = [
  'miners',
  'online',
  'hashrate_ghs',
  'hashrate_nominal_ghs',
  'power_w',
  'temp_chip_max_c',
  'samples',
] as const;
