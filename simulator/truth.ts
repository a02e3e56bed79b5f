// Ground truth of a miner in our units (the names of the `miner`/`hashboard`/`fan`/`pool` fields
// in DESIGN.md), noise-free, so tests can compare what the collector stored with what the miner
// really did. API readings differ from these by their noise (≤ 1 % for hashrate windows,
// ≤ 0.6 % power, ≤ 0.4 °C chip temperature, ≤ 1.2 % fan rpm) and by up to 1 s of caching.
import type { MinerStatus, TunerState } from '../proto/types.ts';
import type { Fault } from './faults.ts';
import { activePool, poolAlive } from './pools.ts';
import { VirtualMiner } from './virtual-miner.ts';

export interface BoardTruth {
  id: string;
  enabled: boolean;
  hashing: boolean;
  chips: number;
  hashrate_ghs: number;
  hashrate_nominal_ghs: number;
  hashrate_error_mhs: number;
  temp_chip_c: number;
  temp_board_c: number;
  temp_inlet_c: number;
  temp_outlet_c: number;
  voltage_v: number;
  frequency_mhz: number;
  power_w: number;
}

export interface FanTruth {
  position: number;
  rpm: number;
  pwm_ratio: number;
}

export interface PoolTruth {
  group: string;
  url: string;
  user: string;
  enabled: boolean;
  alive: boolean;
  active: boolean;
  accepted: number;
  rejected: number;
  stale: number;
}

export interface MinerTruth {
  id: string;
  at_ms: number;
  model: string;
  model_key: string;
  tenant: string;
  site: string;
  rack: string;
  host: string;
  port: number;
  uid: string;
  serial_number: string;
  mac_address: string;
  hostname: string;
  /** Answers on its address (false while rebooting or cut off). */
  reachable: boolean;
  /** Control board up (false only during a reboot). */
  booted: boolean;
  status: MinerStatus;
  tuner_state: TunerState;
  firmware: string;
  uptime_s: number;
  bosminer_uptime_s: number;
  /** Real hashrate, 1-minute window (DESIGN: `hashrate_ghs`), GH/s. */
  hashrate_ghs: number;
  hashrate_5m_ghs: number;
  /** Instantaneous real hashrate, GH/s. */
  hashrate_instant_ghs: number;
  hashrate_nominal_ghs: number;
  hashrate_error_mhs: number;
  sticker_hashrate_ghs: number;
  power_w: number;
  efficiency_jth: number;
  power_target_w: number;
  temp_chip_max_c: number;
  temp_board_max_c: number;
  ambient_c: number;
  fans: FanTruth[];
  fan_rpm_min: number;
  fan_rpm_avg: number;
  boards: BoardTruth[];
  boards_hashing: number;
  boards_total: number;
  shares_accepted: number;
  shares_rejected: number;
  shares_stale: number;
  pools: PoolTruth[];
  cooling_mode: string;
  locate: boolean;
  faults: Fault[];
}

export function minerTruth(miner: VirtualMiner, now: number): MinerTruth {
  const v = miner.trueView(now);
  const dead = miner.deadPool;
  const mining = miner.isMining && miner.status === 'MINER_STATUS_NORMAL';
  const pools: PoolTruth[] = miner.poolGroups.flatMap(g => {
    const active = mining ? activePool(g, dead) : undefined;
    return g.pools.map(p => ({
      group: g.name,
      url: p.url,
      user: p.user,
      enabled: p.enabled,
      alive: p.enabled && poolAlive(p, dead),
      active: p === active,
      accepted: Math.floor(p.accepted),
      rejected: Math.floor(p.rejected),
      stale: Math.floor(p.stale),
    }));
  });
  const fans = v.fans.map(f => ({ position: f.position, rpm: f.rpm, pwm_ratio: f.ratio }));
  const rpms = fans.map(f => f.rpm);
  const p = miner.placement;
  return {
    id: miner.id,
    at_ms: now,
    model: miner.spec.name,
    model_key: miner.spec.key,
    tenant: p.tenant,
    site: p.site,
    rack: p.rack,
    host: p.host,
    port: p.port,
    uid: miner.identity.uid,
    serial_number: miner.identity.serialNumber,
    mac_address: miner.identity.macAddress,
    hostname: miner.network.hostname,
    reachable: miner.reachable,
    booted: miner.isBooted,
    status: v.status,
    tuner_state: v.tunerState,
    firmware: miner.firmware,
    uptime_s: v.systemUptimeS,
    bosminer_uptime_s: v.bosminerUptimeS,
    hashrate_ghs: v.realGhs[VirtualMiner.W_1M] ?? 0,
    hashrate_5m_ghs: v.realGhs[VirtualMiner.W_5M] ?? 0,
    hashrate_instant_ghs: v.instantGhs,
    hashrate_nominal_ghs: v.nominalGhs,
    hashrate_error_mhs: v.errorMhs,
    sticker_hashrate_ghs: miner.spec.stickerGhs,
    power_w: v.powerW,
    efficiency_jth: v.efficiencyJth,
    power_target_w: miner.activePowerTargetW(),
    temp_chip_max_c: v.maxChipTempC,
    temp_board_max_c: v.maxBoardTempC,
    ambient_c: v.ambientC,
    fans,
    fan_rpm_min: rpms.length ? Math.min(...rpms) : 0,
    fan_rpm_avg: rpms.length ? rpms.reduce((s, r) => s + r, 0) / rpms.length : 0,
    boards: v.boards.map(b => ({
      id: b.id,
      enabled: b.enabled,
      hashing: b.hashing,
      chips: b.chips,
      hashrate_ghs: b.realGhs[VirtualMiner.W_1M] ?? 0,
      hashrate_nominal_ghs: b.nominalGhs,
      hashrate_error_mhs: b.errorMhs,
      temp_chip_c: b.chipTempC,
      temp_board_c: b.boardTempC,
      temp_inlet_c: b.inletC,
      temp_outlet_c: b.outletC,
      voltage_v: b.voltageV,
      frequency_mhz: b.frequencyHz / 1e6,
      power_w: b.powerW,
    })),
    boards_hashing: v.boards.filter(b => b.hashing && b.chips > 0).length,
    boards_total: v.boards.length,
    shares_accepted: pools.reduce((s, x) => s + x.accepted, 0),
    shares_rejected: pools.reduce((s, x) => s + x.rejected, 0),
    shares_stale: pools.reduce((s, x) => s + x.stale, 0),
    pools,
    cooling_mode: miner.cooling.mode,
    locate: miner.locate,
    faults: miner.listFaults(),
  };
}
