// PerformanceService: tuner state and profiles, power/hashrate targets (validated against the
// model's constraints; applying one retunes the miner: TUNING for a few seconds, then STABLE),
// DPS, performance modes, quick ramping.
import type {
  DecrementHashrateTargetRequestOutput,
  DecrementPowerTargetRequestOutput,
  GetMinerEfficiencyProfileResponseInput,
  GetTunerStateResponseInput,
  IncrementHashrateTargetRequestOutput,
  IncrementPowerTargetRequestOutput,
  ListTargetProfilesResponseInput,
  PerformanceModeInput,
  QuickRampingResponseInput,
  RelativeTargetReference,
  SetDefaultHashrateTargetRequestOutput,
  SetDefaultPowerTargetRequestOutput,
  SetDefaultQuickRampingRequestOutput,
  SetDPSRequestOutput,
  SetDPSResponseInput,
  SetHashrateTargetRequestOutput,
  SetHashrateTargetResponseInput,
  SetPerformanceModeRequestOutput,
  SetPowerTargetRequestOutput,
  SetPowerTargetResponseInput,
  SetQuickRampingRequestOutput,
  SetRelativeTargetRequestOutput,
} from '../../proto/types.ts';
import { DPS_SHUTDOWN_HOURS, type ManualPerformance } from '../miner-config.ts';
import { invalidArgument } from '../rpc-error.ts';
import type { VirtualMiner } from '../virtual-miner.ts';
import { applies, celsius, ghs, hours, hz, round, ths, timestamp, volt, watt } from './common.ts';
import { unary, type ServiceHandlers } from './types.ts';

/** The power target the tuner is configured with, W (derived when it runs a hashrate target). */
function configuredPowerW(miner: VirtualMiner): number {
  return miner.tuner.mode === 'power'
    ? miner.tuner.powerTargetW
    : Math.round(miner.expectedPowerW(miner.tuner.hashrateTargetThs * 1000));
}

function configuredHashrateThs(miner: VirtualMiner): number {
  return miner.tuner.mode === 'hashrate'
    ? miner.tuner.hashrateTargetThs
    : round(miner.targetOperatingGhs() / 1000, 3);
}

function requirePositive(value: number | undefined, what: string): number {
  if (value === undefined || !Number.isFinite(value) || value <= 0)
    throw invalidArgument(`${what} is required and must be positive`);
  return value;
}

function relativeReference(ref: RelativeTargetReference): 'nominal' | 'min' | 'max' | 'current' {
  switch (ref) {
    case 'RELATIVE_TARGET_REFERENCE_MIN':
      return 'min';
    case 'RELATIVE_TARGET_REFERENCE_MAX':
      return 'max';
    case 'RELATIVE_TARGET_REFERENCE_CURRENT':
      return 'current';
    default:
      return 'nominal';
  }
}

function checkPercentage(p: number): void {
  if (!Number.isFinite(p) || p <= 0 || p > 1000)
    throw invalidArgument(`percentage must be within (0, 1000], got ${p}`);
}

export function performanceMode(miner: VirtualMiner): PerformanceModeInput {
  if (miner.performance === 'manual') {
    const m = miner.manual;
    return {
      manual_mode: {
        global_frequency: hz(m.globalFrequencyHz),
        global_voltage: volt(m.globalVoltageV),
        hashboards: [...m.boards].map(([id, s]) => ({
          id,
          frequency: hz(s.frequencyHz ?? m.globalFrequencyHz),
          voltage: volt(s.voltageV ?? m.globalVoltageV),
        })),
      },
    };
  }
  const t = miner.activeTuner;
  return {
    tuner_mode:
      t.mode === 'power'
        ? { power_target: { power_target: watt(t.powerTargetW) } }
        : { hashrate_target: { hashrate_target: ths(t.hashrateTargetThs) } },
  };
}

export function dpsResponse(miner: VirtualMiner): SetDPSResponseInput {
  const d = miner.dps;
  return {
    enabled: d.enabled,
    shutdown_enabled: d.shutdownEnabled,
    shutdown_duration: hours(d.shutdownDurationH),
    power_target: { power_step: watt(d.powerStepW), min_power_target: watt(d.minPowerTargetW) },
    hashrate_target: {
      hashrate_step: ths(d.hashrateStepThs),
      min_hashrate_target: ths(d.minHashrateTargetThs),
    },
    mode: d.mode,
    on_start_target_percent: d.onStartTargetPercent,
  };
}

function setDps(miner: VirtualMiner, now: number, req: SetDPSRequestOutput): void {
  const next = { ...miner.dps };
  if (req.enable !== undefined) next.enabled = req.enable;
  if (req.enable_shutdown !== undefined) next.shutdownEnabled = req.enable_shutdown;
  if (req.shutdown_duration) {
    const h = req.shutdown_duration.hours;
    if (h < DPS_SHUTDOWN_HOURS.min || h > DPS_SHUTDOWN_HOURS.max) {
      throw invalidArgument(
        `shutdown_duration ${h} h is out of range ${DPS_SHUTDOWN_HOURS.min}–${DPS_SHUTDOWN_HOURS.max} h`,
      );
    }
    next.shutdownDurationH = h;
  }
  const pt = miner.spec.powerTarget;
  const hl = miner.hashrateLimitsThs();
  if (req.target?.target === 'power_target' && req.target.power_target) {
    const { power_step, min_power_target } = req.target.power_target;
    if (power_step) {
      if (power_step.watt < 1 || power_step.watt > pt.max - pt.min)
        throw invalidArgument(`power_step ${power_step.watt} W is out of range 1–${pt.max - pt.min} W`);
      next.powerStepW = power_step.watt;
    }
    if (min_power_target) {
      if (min_power_target.watt < pt.min || min_power_target.watt > pt.max) {
        throw invalidArgument(
          `min_power_target ${min_power_target.watt} W is out of range ${pt.min}–${pt.max} W`,
        );
      }
      next.minPowerTargetW = min_power_target.watt;
    }
  } else if (req.target?.target === 'hashrate_target' && req.target.hashrate_target) {
    const { hashrate_step, min_hashrate_target } = req.target.hashrate_target;
    if (hashrate_step) {
      const v = hashrate_step.terahash_per_second;
      if (!(v > 0 && v <= hl.max - hl.min))
        throw invalidArgument(
          `hashrate_step ${v} TH/s is out of range (0, ${round(hl.max - hl.min, 3)}] TH/s`,
        );
      next.hashrateStepThs = v;
    }
    if (min_hashrate_target) {
      const v = min_hashrate_target.terahash_per_second;
      if (v < hl.min || v > hl.max)
        throw invalidArgument(`min_hashrate_target ${v} TH/s is out of range ${hl.min}–${hl.max} TH/s`);
      next.minHashrateTargetThs = v;
    }
  }
  if (req.mode !== undefined && req.mode !== 'DPS_MODE_UNSPECIFIED') next.mode = req.mode;
  if (req.on_start_target_percent !== undefined) {
    if (req.on_start_target_percent > 100)
      throw invalidArgument(`on_start_target_percent must be 0–100, got ${req.on_start_target_percent}`);
    next.onStartTargetPercent = req.on_start_target_percent;
  }
  miner.advance(now);
  miner.dps = next;
  miner.changed();
}

function setPerformanceMode(miner: VirtualMiner, now: number, req: SetPerformanceModeRequestOutput): void {
  const mode = req.mode;
  const apply = applies(req.save_action);
  if (mode?.mode === 'tuner_mode' && mode.tuner_mode) {
    const t = mode.tuner_mode;
    if (t.target === 'power_target') {
      miner.setPowerTarget(
        now,
        requirePositive(t.power_target?.power_target?.watt, 'tuner_mode.power_target.power_target'),
        apply,
      );
    } else if (t.target === 'hashrate_target') {
      miner.setHashrateTarget(
        now,
        requirePositive(
          t.hashrate_target?.hashrate_target?.terahash_per_second,
          'tuner_mode.hashrate_target.hashrate_target',
        ),
        apply,
      );
    } else {
      throw invalidArgument('tuner_mode needs power_target or hashrate_target');
    }
    return;
  }
  if (mode?.mode === 'manual_mode' && mode.manual_mode) {
    const m = mode.manual_mode;
    const manual: ManualPerformance = {
      globalFrequencyHz: m.global_frequency?.hertz ?? miner.manual.globalFrequencyHz,
      globalVoltageV: m.global_voltage?.volt ?? miner.manual.globalVoltageV,
      boards: new Map(
        m.hashboards.map(b => [
          b.id,
          {
            ...(b.frequency ? { frequencyHz: b.frequency.hertz } : {}),
            ...(b.voltage ? { voltageV: b.voltage.volt } : {}),
          },
        ]),
      ),
    };
    miner.setManualPerformance(now, manual, apply);
    return;
  }
  throw invalidArgument('mode must be manual_mode or tuner_mode');
}

function powerTargetResponse(w: number): SetPowerTargetResponseInput {
  return { power_target: watt(w) };
}

function hashrateTargetResponse(t: number): SetHashrateTargetResponseInput {
  return { hashrate_target: ths(t) };
}

export const performanceHandlers: ServiceHandlers = {
  GetTunerState: unary<unknown, GetTunerStateResponseInput>(
    ({ miner, now }) => {
      const state = miner.tunerState(now);
      if (miner.performance === 'manual') return { overall_tuner_state: state };
      const t = miner.activeTuner;
      const { power, hashrate } = miner.profiles(now);
      if (t.mode === 'power') {
        const p = power.find(x => x.targetW === t.powerTargetW);
        return {
          overall_tuner_state: state,
          power_target_mode_state: {
            ...(p
              ? {
                  profile: {
                    created: timestamp(p.createdMs),
                    target: watt(p.targetW),
                    measured_hashrate: ghs(p.measuredGhs),
                    estimated_power_consumption: watt(p.estimatedPowerW),
                  },
                }
              : {}),
            current_target: watt(t.powerTargetW),
          },
        };
      }
      const p = hashrate.find(x => x.targetThs === t.hashrateTargetThs);
      return {
        overall_tuner_state: state,
        hashrate_target_mode_state: {
          ...(p
            ? {
                profile: {
                  created: timestamp(p.createdMs),
                  target: ths(p.targetThs),
                  measured_hashrate: ghs(p.measuredGhs),
                  estimated_power_consumption: watt(p.estimatedPowerW),
                },
              }
            : {}),
          current_target: ths(t.hashrateTargetThs),
        },
      };
    },
    { cache: true },
  ),

  ListTargetProfiles: unary<unknown, ListTargetProfilesResponseInput>(({ miner, now }) => {
    const { power, hashrate } = miner.profiles(now);
    return {
      power_target_profiles: power.map(p => ({
        created: timestamp(p.createdMs),
        target: watt(p.targetW),
        measured_hashrate: ghs(p.measuredGhs),
        estimated_power_consumption: watt(p.estimatedPowerW),
      })),
      hashrate_target_profiles: hashrate.map(p => ({
        created: timestamp(p.createdMs),
        target: ths(p.targetThs),
        measured_hashrate: ghs(p.measuredGhs),
        estimated_power_consumption: watt(p.estimatedPowerW),
      })),
    };
  }),

  GetMinerEfficiencyProfile: unary<unknown, GetMinerEfficiencyProfileResponseInput>(({ miner, now }) => ({
    points: miner.efficiencyCurve(now).map(p => ({
      quality: 3,
      power_target: watt(p.powerTargetW),
      consumption: watt(p.consumptionW),
      fan_speed: Math.round(p.fanRatio * 100),
      outlet_temp: celsius(p.outletC),
      ambient_temp: celsius(p.ambientC),
      hashrate: ths(p.hashrateGhs / 1000),
      frequency: hz(p.frequencyHz),
      voltage: volt(p.voltageV),
    })),
  })),

  SetPowerTarget: unary<SetPowerTargetRequestOutput, SetPowerTargetResponseInput>(({ miner, now, request }) =>
    powerTargetResponse(
      miner.setPowerTarget(
        now,
        requirePositive(request.power_target?.watt, 'power_target'),
        applies(request.save_action),
      ),
    ),
  ),
  SetDefaultPowerTarget: unary<SetDefaultPowerTargetRequestOutput, SetPowerTargetResponseInput>(
    ({ miner, now, request }) =>
      powerTargetResponse(
        miner.setPowerTarget(now, miner.spec.powerTarget.default, applies(request.save_action)),
      ),
  ),
  IncrementPowerTarget: unary<IncrementPowerTargetRequestOutput, SetPowerTargetResponseInput>(
    ({ miner, now, request }) => {
      const inc = requirePositive(request.power_target_increment?.watt, 'power_target_increment');
      return powerTargetResponse(
        miner.setPowerTarget(now, configuredPowerW(miner) + inc, applies(request.save_action)),
      );
    },
  ),
  DecrementPowerTarget: unary<DecrementPowerTargetRequestOutput, SetPowerTargetResponseInput>(
    ({ miner, now, request }) => {
      const dec = requirePositive(request.power_target_decrement?.watt, 'power_target_decrement');
      return powerTargetResponse(
        miner.setPowerTarget(now, configuredPowerW(miner) - dec, applies(request.save_action)),
      );
    },
  ),
  SetRelativePowerTarget: unary<SetRelativeTargetRequestOutput, SetPowerTargetResponseInput>(
    ({ miner, now, request }) => {
      checkPercentage(request.percentage);
      const p = miner.spec.powerTarget;
      const ref = relativeReference(request.reference);
      const base =
        ref === 'min'
          ? p.min
          : ref === 'max'
            ? p.max
            : ref === 'current'
              ? configuredPowerW(miner)
              : miner.spec.nominalPowerW;
      return powerTargetResponse(
        miner.setPowerTarget(
          now,
          Math.round((base * request.percentage) / 100),
          applies(request.save_action),
        ),
      );
    },
  ),

  SetHashrateTarget: unary<SetHashrateTargetRequestOutput, SetHashrateTargetResponseInput>(
    ({ miner, now, request }) =>
      hashrateTargetResponse(
        miner.setHashrateTarget(
          now,
          requirePositive(request.hashrate_target?.terahash_per_second, 'hashrate_target'),
          applies(request.save_action),
        ),
      ),
  ),
  SetDefaultHashrateTarget: unary<SetDefaultHashrateTargetRequestOutput, SetHashrateTargetResponseInput>(
    ({ miner, now, request }) =>
      hashrateTargetResponse(
        miner.setHashrateTarget(now, miner.hashrateLimitsThs().default, applies(request.save_action)),
      ),
  ),
  IncrementHashrateTarget: unary<IncrementHashrateTargetRequestOutput, SetHashrateTargetResponseInput>(
    ({ miner, now, request }) => {
      const inc = requirePositive(
        request.hashrate_target_increment?.terahash_per_second,
        'hashrate_target_increment',
      );
      return hashrateTargetResponse(
        miner.setHashrateTarget(now, configuredHashrateThs(miner) + inc, applies(request.save_action)),
      );
    },
  ),
  DecrementHashrateTarget: unary<DecrementHashrateTargetRequestOutput, SetHashrateTargetResponseInput>(
    ({ miner, now, request }) => {
      const dec = requirePositive(
        request.hashrate_target_decrement?.terahash_per_second,
        'hashrate_target_decrement',
      );
      return hashrateTargetResponse(
        miner.setHashrateTarget(now, configuredHashrateThs(miner) - dec, applies(request.save_action)),
      );
    },
  ),
  SetRelativeHashrateTarget: unary<SetRelativeTargetRequestOutput, SetHashrateTargetResponseInput>(
    ({ miner, now, request }) => {
      checkPercentage(request.percentage);
      const l = miner.hashrateLimitsThs();
      const ref = relativeReference(request.reference);
      const base =
        ref === 'min'
          ? l.min
          : ref === 'max'
            ? l.max
            : ref === 'current'
              ? configuredHashrateThs(miner)
              : miner.spec.stickerGhs / 1000;
      return hashrateTargetResponse(
        miner.setHashrateTarget(
          now,
          round((base * request.percentage) / 100, 3),
          applies(request.save_action),
        ),
      );
    },
  ),

  SetDPS: unary<SetDPSRequestOutput, SetDPSResponseInput>(({ miner, now, request }) => {
    setDps(miner, now, request);
    return dpsResponse(miner);
  }),

  SetPerformanceMode: unary<SetPerformanceModeRequestOutput, PerformanceModeInput>(
    ({ miner, now, request }) => {
      setPerformanceMode(miner, now, request);
      return performanceMode(miner);
    },
  ),
  GetActivePerformanceMode: unary<unknown, PerformanceModeInput>(({ miner }) => performanceMode(miner)),

  RemoveTunedProfiles: unary<unknown, object>(({ miner, now }) => {
    miner.removeTunedProfiles(now);
    return {};
  }),

  SetQuickRamping: unary<SetQuickRampingRequestOutput, QuickRampingResponseInput>(
    ({ miner, now, request }) => {
      miner.setQuickRamping(now, request.up_s, request.down_s);
      return { up_s: miner.quickRamping.upS, down_s: miner.quickRamping.downS };
    },
  ),
  SetDefaultQuickRamping: unary<SetDefaultQuickRampingRequestOutput, QuickRampingResponseInput>(
    ({ miner, now }) => {
      miner.setQuickRamping(now, miner.timings.quickRamping.upS, miner.timings.quickRamping.downS);
      return { up_s: miner.quickRamping.upS, down_s: miner.quickRamping.downS };
    },
  ),
};
