// CoolingService: fan and temperature state, cooling modes.
import type {
  CoolingAutoModeInput,
  CoolingConfigurationInput,
  CoolingHydroModeInput,
  CoolingManualModeInput,
  GetCoolingStateResponseInput,
  SetCoolingModeRequestOutput,
  SetCoolingModeResponseInput,
  SetImmersionModeRequestOutput,
  SetImmersionModeResponseInput,
  Temperature,
} from '../../proto/types.ts';
import { defaultCooling, type CoolingConfig } from '../miner-config.ts';
import { invalidArgument } from '../rpc-error.ts';
import type { VirtualMiner } from '../virtual-miner.ts';
import { celsius, round } from './common.ts';
import { unary, type ServiceHandlers } from './types.ts';

type ModeMessages = {
  auto?: CoolingAutoModeInput;
  manual?: CoolingManualModeInput;
  immersion?: CoolingHydroModeInput;
  hydro?: CoolingHydroModeInput;
};

/** The configured cooling mode as the oneof members of CoolingConfiguration / SetCoolingModeResponse. */
export function coolingModeMessage(c: CoolingConfig): ModeMessages {
  const temps = {
    target_temperature: celsius(c.targetC),
    hot_temperature: celsius(c.hotC),
    dangerous_temperature: celsius(c.dangerousC),
  };
  switch (c.mode) {
    case 'auto':
      return {
        auto: {
          ...temps,
          min_fan_speed: c.minFanSpeed ?? 10,
          max_fan_speed: c.maxFanSpeed ?? 100,
          ...(c.minimumRequiredFans !== undefined ? { minimum_required_fans: c.minimumRequiredFans } : {}),
          pause_mode: { auto: {} },
        },
      };
    case 'manual':
      return {
        manual: {
          fan_speed_ratio: c.fanSpeedRatio,
          ...temps,
          ...(c.minimumRequiredFans !== undefined ? { minimum_required_fans: c.minimumRequiredFans } : {}),
          pause_mode: { auto: {} },
        },
      };
    case 'immersion':
      return { immersion: temps };
    case 'hydro':
      return { hydro: temps };
  }
}

export function coolingConfiguration(c: CoolingConfig): CoolingConfigurationInput {
  return coolingModeMessage(c);
}

function temp(t: Temperature | null | undefined, fallback: number): number {
  return t ? t.degree_c : fallback;
}

/** CoolingConfig from a SetCoolingMode request; fields not given take the model defaults. */
function configFromRequest(miner: VirtualMiner, req: SetCoolingModeRequestOutput): CoolingConfig {
  const d = defaultCooling(miner.spec);
  const base = { targetC: d.targetC, hotC: d.hotC, dangerousC: d.dangerousC };
  switch (req.mode) {
    case 'auto': {
      const m = req.auto;
      return {
        mode: 'auto',
        targetC: temp(m?.target_temperature, base.targetC),
        hotC: temp(m?.hot_temperature, base.hotC),
        dangerousC: temp(m?.dangerous_temperature, base.dangerousC),
        minFanSpeed: m?.min_fan_speed ?? 10,
        maxFanSpeed: m?.max_fan_speed ?? 100,
        minimumRequiredFans: m?.minimum_required_fans ?? miner.spec.fans,
      };
    }
    case 'manual': {
      const m = req.manual;
      return {
        mode: 'manual',
        fanSpeedRatio: m?.fan_speed_ratio ?? 0.7,
        targetC: temp(m?.target_temperature, base.targetC),
        hotC: temp(m?.hot_temperature, base.hotC),
        dangerousC: temp(m?.dangerous_temperature, base.dangerousC),
        minimumRequiredFans: m?.minimum_required_fans ?? miner.spec.fans,
      };
    }
    case 'immersion':
    case 'hydro': {
      const m = req.mode === 'immersion' ? req.immersion : req.hydro;
      return {
        mode: req.mode,
        targetC: temp(m?.target_temperature, 55),
        hotC: temp(m?.hot_temperature, 75),
        dangerousC: temp(m?.dangerous_temperature, 90),
      };
    }
    default:
      throw invalidArgument('SetCoolingMode needs one of auto, manual, immersion or hydro');
  }
}

export const coolingHandlers: ServiceHandlers = {
  GetCoolingState: unary<unknown, GetCoolingStateResponseInput>(
    ({ miner, now }) => {
      const view = miner.view(now);
      const hottest = view.boards[view.hottestBoard];
      return {
        fans: view.fans.map(f => ({
          position: f.position,
          rpm: f.rpm,
          target_speed_ratio: round(f.ratio, 3),
        })),
        highest_temperature: {
          id: hottest?.index ?? 0,
          location: 'SENSOR_LOCATION_CHIP',
          temperature: celsius(hottest?.chipTempC ?? view.ambientC),
        },
      };
    },
    { cache: true },
  ),

  SetCoolingMode: unary<SetCoolingModeRequestOutput, SetCoolingModeResponseInput>(
    ({ miner, now, request }) => {
      miner.setCooling(now, configFromRequest(miner, request));
      return coolingModeMessage(miner.cooling);
    },
  ),

  // Deprecated since 1.4.0: switches between immersion and the default auto mode.
  SetImmersionMode: unary<SetImmersionModeRequestOutput, SetImmersionModeResponseInput>(
    ({ miner, now, request }) => {
      const d = defaultCooling(miner.spec);
      miner.setCooling(
        now,
        request.enable_immersion_mode ? { mode: 'immersion', targetC: 55, hotC: 75, dangerousC: 90 } : d,
      );
      return { immersion_mode: miner.cooling.mode === 'immersion' };
    },
  ),
};
