// ConfigurationService: the whole configuration (pools, cooling, tuner, DPS, hashboards) and the
// model's constraints.
import type { GetConstraintsResponseInput, GetMinerConfigurationResponseInput } from '../../proto/types.ts';
import { DPS_SHUTDOWN_HOURS, QUICK_RAMPING_LIMITS } from '../miner-config.ts';
import { groupToConfig } from '../pools.ts';
import type { VirtualMiner } from '../virtual-miner.ts';
import { celsius, hours, hz, ths, volt, watt } from './common.ts';
import { coolingConfiguration } from './cooling.ts';
import { unary, type ServiceHandlers } from './types.ts';

export function minerConfiguration(miner: VirtualMiner): GetMinerConfigurationResponseInput {
  const d = miner.dps;
  const t = miner.tuner;
  const m = miner.manual;
  return {
    pool_groups: miner.poolGroups.map(groupToConfig),
    temperature: coolingConfiguration(miner.cooling),
    tuner: {
      enabled: miner.performance === 'tuner' && t.enabled,
      tuner_mode: t.mode === 'power' ? 'TUNER_MODE_POWER_TARGET' : 'TUNER_MODE_HASHRATE_TARGET',
      power_target: watt(
        t.mode === 'power' ? t.powerTargetW : miner.expectedPowerW(t.hashrateTargetThs * 1000),
      ),
      hashrate_target: ths(t.hashrateTargetThs),
    },
    dps: {
      enabled: d.enabled,
      power_step: watt(d.powerStepW),
      hashrate_step: ths(d.hashrateStepThs),
      min_power_target: watt(d.minPowerTargetW),
      min_hashrate_target: ths(d.minHashrateTargetThs),
      shutdown_enabled: d.shutdownEnabled,
      shutdown_duration: hours(d.shutdownDurationH),
      mode: d.mode,
      on_start_target_percent: d.onStartTargetPercent,
    },
    hashboard_config: {
      global_frequency: hz(m.globalFrequencyHz),
      global_voltage: volt(m.globalVoltageV),
      hashboards: miner.boardEnabledStates().map(b => {
        const s = m.boards.get(b.id);
        return {
          id: b.id,
          enabled: b.enabled,
          frequency: hz(s?.frequencyHz ?? m.globalFrequencyHz),
          voltage: volt(s?.voltageV ?? m.globalVoltageV),
        };
      }),
      quick_ramping_time_up_s: miner.quickRamping.upS,
      quick_ramping_time_down_s: miner.quickRamping.downS,
    },
  };
}

export function constraints(miner: VirtualMiner): GetConstraintsResponseInput {
  const spec = miner.spec;
  const p = spec.powerTarget;
  const h = miner.hashrateLimitsThs();
  const c = spec.cooling;
  const temp = (
    def: number,
    min: number,
    max: number,
  ): { default: { degree_c: number }; min: { degree_c: number }; max: { degree_c: number } } => ({
    default: celsius(def),
    min: celsius(min),
    max: celsius(max),
  });
  return {
    tuner_constraints: {
      power_target: { default: watt(p.default), min: watt(p.min), max: watt(p.max) },
      hashrate_target: { default: ths(h.default), min: ths(h.min), max: ths(h.max) },
      enabled: { default: true },
      default_mode: 'TUNER_MODE_POWER_TARGET',
    },
    cooling_constraints: {
      default_cooling_mode: 'COOLING_MODE_AUTO',
      target_temperature: temp(c.target, 0, 200),
      hot_temperature: temp(c.hot, 0, 200),
      dangerous_temperature: temp(c.dangerous, 0, 200),
      fan_speed_ratio: { default: 0.7, min: 0, max: 1 },
      minimum_required_fans: { default: spec.fans, min: 0, max: spec.fans },
      min_fan_speed: { default: 10, min: 0, max: 100 },
      max_fan_speed: { default: 100, min: 0, max: 100 },
      pause_cooldown_fan_speed_ratio: { default: 0.3, min: 0, max: 1 },
      default_fan_pause_mode: 'FAN_PAUSE_MODE_AUTO',
      default_fan_pause_runtime: 'FAN_PAUSE_RUNTIME_LIMITED',
      fan_pause_runtime_limited_duration_s: 600,
    },
    dps_constraints: {
      power_step: {
        default: watt(Math.round(spec.nominalPowerW * 0.1)),
        min: watt(1),
        max: watt(p.max - p.min),
      },
      hashrate_step: {
        default: ths(Math.round(spec.stickerGhs / 10_000)),
        min: ths(0.001),
        max: ths(h.max - h.min),
      },
      min_power_target: { default: watt(p.min), min: watt(p.min), max: watt(p.max) },
      min_hashrate_target: {
        default: ths(Math.round(spec.stickerGhs / 2_000)),
        min: ths(h.min),
        max: ths(h.max),
      },
      shutdown_enabled: { default: false },
      shutdown_duration: {
        default: hours(DPS_SHUTDOWN_HOURS.default),
        min: hours(DPS_SHUTDOWN_HOURS.min),
        max: hours(DPS_SHUTDOWN_HOURS.max),
      },
      enabled: { default: false },
      mode: 'DPS_MODE_NORMAL',
      on_start_target_percent: { default: 100, min: 0, max: 100 },
    },
    hashboards_constraints: {
      hashboard_ids: miner.hashboardIds(),
      enabled: { default: true },
      frequency: {
        default: hz(spec.nominalFrequencyHz),
        min: hz(spec.frequencyHz.min),
        max: hz(spec.frequencyHz.max),
      },
      voltage: {
        default: volt(spec.nominalVoltageV),
        min: volt(spec.voltageV.min),
        max: volt(spec.voltageV.max),
      },
      quick_ramping_time_s: {
        default: miner.timings.quickRamping.upS,
        min: QUICK_RAMPING_LIMITS.min,
        max: QUICK_RAMPING_LIMITS.max,
      },
    },
  };
}

export const configurationHandlers: ServiceHandlers = {
  GetMinerConfiguration: unary<unknown, GetMinerConfigurationResponseInput>(
    ({ miner }) => minerConfiguration(miner),
    { cache: true },
  ),
  GetConstraints: unary<unknown, GetConstraintsResponseInput>(({ miner }) => constraints(miner), {
    cache: true,
  }),
};
