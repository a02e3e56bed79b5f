import type {
  GetCoolingStateResponse,
  GetHashboardsResponse,
  GetMinerConfigurationResponse,
  GetMinerDetailsResponse,
  GetMinerStatsResponse,
  GetPoolGroupsResponse,
  GetTunerStateResponse,
} from '../proto/types.ts';
import type { DegradedReason, FanSample, HashboardSample, HealthStatus, MinerDetailsInfo, MinerRef, MinerSample, PoolSample } from '../core/samples.ts';
import { efficiencyJth, mhzFromHz } from '../core/units.ts';

/**
 * Turns the telemetry RPC answers of one poll into a MinerSample. Values outside physical
 * bounds are rejected (null) or clamped, and each such decision is listed in `issues` so the
 * caller can log why; garbage never reaches storage.
 */
export interface PollResponses {
  stats: GetMinerStatsResponse;
  hashboards: GetHashboardsResponse;
  cooling: GetCoolingStateResponse;
  tuner: GetTunerStateResponse;
  pools: GetPoolGroupsResponse;
}

export interface NormalizeContext {
  ref: MinerRef;
  timeMs: number;
  details: MinerDetailsInfo | null;
  /** miner's own hot temperature from its cooling config, if known */
  hotTempC: number | null;
  fallbackHotTempC: number;
  lowHashratePct: number;
  /** bosminer uptime at details fetch time; uptime grows from there while bosminer runs */
  uptimeAtDetailsS: number | null;
  /** system (control board) uptime at details fetch time */
  systemUptimeAtDetailsS?: number | null;
  /**
   * The miner's previous sample, if any: its boards and their expected hashrate are the
   * miner's own history, so a board that stops reporting is still counted as a shortfall.
   */
  previous?: MinerSample | null;
  /** `MinerStatus` from the status stream or details, e.g. MINER_STATUS_NORMAL */
  minerStatus: string;
}

export interface NormalizeResult {
  sample: MinerSample;
  issues: string[];
}

const LIMITS = {
  temp: [-40, 200],
  power: [0, 20_000],
  hashrateGhs: [0, 10_000_000],
  rpm: [0, 30_000],
  voltage: [0, 100],
  mhz: [0, 5_000],
} as const satisfies Record<string, readonly [number, number]>;

class Checker {
  readonly issues: string[] = [];

  /** Reject (null) anything non-finite or outside [lo, hi]. */
  bounded(what: string, v: number | null | undefined, [lo, hi]: readonly [number, number]): number | null {
    if (v === null || v === undefined) return null;
    if (!Number.isFinite(v) || v < lo || v > hi) {
      this.issues.push(`${what}=${String(v)} rejected: outside ${lo}..${hi}`);
      return null;
    }
    return v;
  }

  /** Clamp negatives to 0 for quantities that cannot be negative; reject non-finite as 0. */
  nonNegative(what: string, v: number | null | undefined, hi: number = Number.MAX_SAFE_INTEGER): number {
    if (v === null || v === undefined) return 0;
    if (!Number.isFinite(v)) {
      this.issues.push(`${what}=${String(v)} rejected: not a number, stored as 0`);
      return 0;
    }
    if (v < 0) {
      this.issues.push(`${what}=${v} clamped to 0`);
      return 0;
    }
    if (v > hi) {
      this.issues.push(`${what}=${v} clamped to ${hi}`);
      return hi;
    }
    return v;
  }
}

/** `MINER_STATUS_NOT_STARTED` -> `not_started`; unknown numeric enum values -> `unknown_<n>`. */
export function enumSuffix(value: string | number, prefix: string): string {
  if (typeof value === 'number') return `unknown_${value}`;
  return value.startsWith(prefix) ? value.slice(prefix.length).toLowerCase() : value.toLowerCase();
}

export function stripPoolCredentials(url: string): string {
  return url.replace(/\/\/[^/@]*@/, '//');
}

const max = (xs: (number | null)[]): number | null => xs.reduce<number | null>((m, x) => (x === null ? m : m === null ? x : Math.max(m, x)), null);

export function normalizePoll(r: PollResponses, ctx: NormalizeContext): NormalizeResult {
  const c = new Checker();
  const reportedBoards: HashboardSample[] = r.hashboards.hashboards.map(b => {
    const id = b.id || '?';
    const st = b.stats;
    return {
      board: id,
      enabled: b.enabled,
      hashrate_ghs: c.nonNegative(`board ${id} hashrate_ghs`, st?.real_hashrate?.last_1m?.gigahash_per_second, LIMITS.hashrateGhs[1]),
      hashrate_nominal_ghs: c.nonNegative(`board ${id} hashrate_nominal_ghs`, st?.nominal_hashrate?.gigahash_per_second, LIMITS.hashrateGhs[1]),
      hashrate_error_mhs: c.nonNegative(`board ${id} hashrate_error_mhs`, st?.error_hashrate?.megahash_per_second),
      temp_chip_c: c.bounded(`board ${id} temp_chip_c`, b.highest_chip_temp?.temperature?.degree_c, LIMITS.temp),
      temp_board_c: c.bounded(`board ${id} temp_board_c`, b.board_temp?.degree_c, LIMITS.temp),
      temp_inlet_c: c.bounded(`board ${id} temp_inlet_c`, b.lowest_inlet_temp?.degree_c, LIMITS.temp),
      temp_outlet_c: c.bounded(`board ${id} temp_outlet_c`, b.highest_outlet_temp?.degree_c, LIMITS.temp),
      voltage_v: c.bounded(`board ${id} voltage_v`, b.current_voltage?.volt, LIMITS.voltage),
      frequency_mhz: c.bounded(`board ${id} frequency_mhz`, b.current_frequency ? mhzFromHz(b.current_frequency.hertz) : null, LIMITS.mhz),
      chips: b.chips_count ? c.nonNegative(`board ${id} chips`, b.chips_count.value, 10_000) : null,
    };
  });

  const fans: FanSample[] = r.cooling.fans.map((f, i) => {
    const ratio = f.target_speed_ratio;
    return {
      fan: String(f.position ?? i),
      rpm: c.nonNegative(`fan ${f.position ?? i} rpm`, f.rpm, LIMITS.rpm[1]),
      pwm_ratio: ratio === undefined ? null : c.bounded(`fan ${f.position ?? i} pwm_ratio`, ratio, [0, 1]),
    };
  });

  const pools: PoolSample[] = [];
  for (const g of r.pools.pool_groups) {
    for (const p of g.pools) {
      pools.push({
        group: g.name || g.uid || 'default',
        pool: stripPoolCredentials(p.url),
        user: p.user,
        accepted: c.nonNegative('pool accepted', p.stats?.accepted_shares),
        rejected: c.nonNegative('pool rejected', p.stats?.rejected_shares),
        stale: c.nonNegative('pool stale', p.stats?.stale_shares),
        alive: p.alive,
        active: p.active,
        enabled: p.enabled,
      });
    }
  }

  const ms = r.stats.miner_stats;
  const reportedHashrate = c.nonNegative('hashrate_ghs', ms?.real_hashrate?.last_1m?.gigahash_per_second, LIMITS.hashrateGhs[1]);
  const rawPower = r.stats.power_stats?.approximated_consumption?.watt;
  const power = c.bounded('power_w', rawPower ?? null, LIMITS.power);
  const powerTarget = r.tuner.power_target_mode_state?.current_target?.watt;
  const tempChipMax = max([...reportedBoards.map(b => b.temp_chip_c), r.cooling.highest_temperature?.location === 'SENSOR_LOCATION_CHIP' ? c.bounded('temp_chip_max_c', r.cooling.highest_temperature.temperature?.degree_c, LIMITS.temp) : null]);
  const tempBoardMax = max(reportedBoards.map(b => b.temp_board_c));
  const rpms = fans.map(f => f.rpm);

  const hashing = boardHashing;
  const minerStatus = enumSuffix(ctx.minerStatus, 'MINER_STATUS_');
  const tunerState = enumSuffix(r.tuner.overall_tuner_state, 'TUNER_STATE_');
  const mining = minerStatus === 'normal' || minerStatus === 'restricted' || minerStatus === 'unspecified';
  const hashboards = mining ? expectEveryBoard(reportedBoards, ctx) : reportedBoards.map(b => ({ ...b, hashrate_ghs: 0 }));
  const boardsHashing = hashboards.filter(hashing).length;
  // The 1-minute window lags: a miner that is paused, stopped or has no board hashing adds nothing now.
  const producing = mining && boardsHashing > 0;
  // a dead board's share of the lagging window is not output any more
  const deadBoardsGhs = reportedBoards.reduce((a, b, i) => a + b.hashrate_ghs - (hashboards[i]?.hashrate_ghs ?? b.hashrate_ghs), 0);
  const hashrate = producing ? Math.max(0, reportedHashrate - deadBoardsGhs) : 0;
  const reportedNominal = c.nonNegative('hashrate_nominal_reported_ghs', ms?.nominal_hashrate?.gigahash_per_second, LIMITS.hashrateGhs[1]);
  const nominal = mining ? Math.max(reportedNominal, hashboards.reduce((a, b) => a + b.hashrate_nominal_ghs, 0)) : reportedNominal;

  const reasons: DegradedReason[] = [];
  if (mining) {
    if (hashboards.some(b => b.enabled && !hashing(b))) reasons.push('hashboard_down');
    if (nominal > 0 && (hashrate / nominal) * 100 < ctx.lowHashratePct) reasons.push('low_hashrate');
    const enabledPools = pools.filter(p => p.enabled);
    if (enabledPools.length > 0 && !enabledPools.some(p => p.alive)) reasons.push('pool_dead');
    if (fans.length > 0 && fans.some(f => f.rpm === 0) && boardsHashing > 0) reasons.push('fan_failure');
  }
  const hot = ctx.hotTempC ?? ctx.fallbackHotTempC;
  if (tempChipMax !== null && tempChipMax >= hot) reasons.push('overheating');

  const status = deriveHealth(minerStatus, reasons);

  const sinceDetailsS = ctx.details ? Math.max(0, Math.floor((ctx.timeMs - ctx.details.fetched_ms) / 1000)) : 0;
  // bosminer's uptime only grows while it runs; a stopped bosminer has none (never the system's).
  const uptime = minerStatus !== 'not_started' && ctx.uptimeAtDetailsS !== null && ctx.details ? ctx.uptimeAtDetailsS + sinceDetailsS : 0;
  const systemUptime = ctx.systemUptimeAtDetailsS != null && ctx.details ? ctx.systemUptimeAtDetailsS + sinceDetailsS : null;

  const sample: MinerSample = {
    time_ms: ctx.timeMs,
    ref: ctx.ref,
    model: ctx.details?.model ?? ctx.ref.labels.model ?? 'unknown',
    hostname: ctx.details?.hostname ?? '',
    firmware: ctx.details?.firmware ?? '',
    status,
    degraded_reasons: reasons,
    miner_status: minerStatus,
    tuner_state: tunerState,
    hashrate_ghs: hashrate,
    hashrate_5m_ghs: producing ? c.nonNegative('hashrate_5m_ghs', ms?.real_hashrate?.last_5m?.gigahash_per_second, LIMITS.hashrateGhs[1]) : 0,
    hashrate_nominal_ghs: nominal,
    hashrate_nominal_reported_ghs: reportedNominal,
    hashrate_error_mhs: c.nonNegative('hashrate_error_mhs', ms?.error_hashrate?.megahash_per_second),
    power_w: power,
    power_target_w: powerTarget === undefined ? null : c.bounded('power_target_w', powerTarget, LIMITS.power),
    efficiency_jth: power === null || !producing ? null : (efficiencyJth(power, hashrate) ?? null),
    temp_chip_max_c: tempChipMax,
    temp_board_max_c: tempBoardMax,
    fan_rpm_min: rpms.length ? Math.min(...rpms) : null,
    fan_rpm_avg: rpms.length ? rpms.reduce((a, b) => a + b, 0) / rpms.length : null,
    shares_accepted: c.nonNegative('shares_accepted', r.stats.pool_stats?.accepted_shares),
    shares_rejected: c.nonNegative('shares_rejected', r.stats.pool_stats?.rejected_shares),
    shares_stale: c.nonNegative('shares_stale', r.stats.pool_stats?.stale_shares),
    uptime_s: uptime,
    system_uptime_s: systemUptime,
    boards_hashing: boardsHashing,
    boards_total: hashboards.length,
    hashboards,
    fans,
    pools,
  };
  return { sample, issues: c.issues };
}

/**
 * The miner's boards with the hashrate each is expected to give, counting every board it has:
 * a board that reports no nominal (dead, or its nominal dropped with it) is expected to give
 * what its hashing siblings give; a board the miner no longer lists at all (but did before) gets
 * a row with 0 hashrate. With no hashing sibling, the board's last expectation or the model's
 * sticker hashrate per board stands in. Disabled boards are not expected to hash.
 */
function expectEveryBoard(reported: HashboardSample[], ctx: NormalizeContext): HashboardSample[] {
  const prevBoards = ctx.previous?.hashboards ?? [];
  const listed = new Set(reported.map(b => b.board));
  const missing: HashboardSample[] = prevBoards
    .filter(b => b.enabled && !listed.has(b.board))
    .map(b => ({ ...b, hashrate_ghs: 0, hashrate_error_mhs: 0, temp_chip_c: null, temp_board_c: null, temp_inlet_c: null, temp_outlet_c: null, voltage_v: null, frequency_mhz: null, chips: 0 }));
  const all = [...reported, ...missing];
  const healthy = all.filter(b => b.enabled && b.hashrate_nominal_ghs > 0 && b.chips !== 0).map(b => b.hashrate_nominal_ghs);
  const sticker = ctx.details?.sticker_hashrate_ghs;
  const perBoardFallback = healthy.length > 0 ? median(healthy) : null;
  return all.map(b => {
    if (!b.enabled || (b.hashrate_nominal_ghs > 0 && b.chips !== 0)) return b;
    const history = prevBoards.find(p => p.board === b.board)?.hashrate_nominal_ghs ?? 0;
    const expected = perBoardFallback ?? (history > 0 ? history : sticker && all.length > 0 ? sticker / all.length : 0);
    // a board that is not hashing gives nothing now, whatever its lagging window says
    return { ...b, hashrate_ghs: 0, hashrate_nominal_ghs: Math.max(b.hashrate_nominal_ghs, expected) };
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * An enabled board counts as hashing when chips are detected and its real hashrate is at
 * least 5 % of its nominal. No detected chips or no nominal means the board is down even
 * while its windowed hashrate is still decaying.
 */
export function boardHashing(b: HashboardSample): boolean {
  if (!b.enabled || b.chips === 0) return false;
  return b.hashrate_nominal_ghs > 0 && b.hashrate_ghs >= b.hashrate_nominal_ghs * 0.05;
}

/** Health from the miner's own status (lower-cased suffix) and the degraded reasons found. */
export function deriveHealth(minerStatus: string, reasons: readonly DegradedReason[]): HealthStatus {
  if (minerStatus === 'paused' || minerStatus === 'suspended') return 'paused';
  if (minerStatus === 'not_started') return 'stopped';
  return reasons.length > 0 ? 'degraded' : 'online';
}

export function detailsInfo(d: GetMinerDetailsResponse, apiVersion: string | null, fetchedMs: number): MinerDetailsInfo {
  const release = d.bos_version?.current ?? '';
  return {
    uid: d.uid,
    serial: d.serial_number ?? null,
    mac: d.mac_address || null,
    hostname: d.hostname,
    model: d.miner_identity?.miner_model || d.miner_identity?.name || 'unknown',
    firmware: release,
    api_version: apiVersion,
    platform: typeof d.platform === 'string' ? d.platform : `unknown_${String(d.platform)}`,
    sticker_hashrate_ghs: d.sticker_hashrate ? d.sticker_hashrate.gigahash_per_second : null,
    fetched_ms: fetchedMs,
  };
}

/** The miner's configured hot temperature, whichever cooling mode is active. */
export function hotTemperatureC(cfg: GetMinerConfigurationResponse | null): number | null {
  const t = cfg?.temperature;
  if (!t) return null;
  const mode = t.auto ?? t.manual ?? t.immersion ?? t.hydro;
  const v = mode?.hot_temperature?.degree_c;
  return v !== undefined && Number.isFinite(v) && v > 0 ? v : null;
}
