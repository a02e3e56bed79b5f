// Configuration a virtual miner keeps (what the Set* RPCs change and GetMinerConfiguration shows),
// with the firmware defaults per model.
import type { ModelSpec } from './models.ts';

export type CoolingConfig =
  | {
      mode: 'auto';
      targetC: number;
      hotC: number;
      dangerousC: number;
      minFanSpeed?: number;
      maxFanSpeed?: number;
      minimumRequiredFans?: number;
    }
  | {
      mode: 'manual';
      fanSpeedRatio: number;
      targetC: number;
      hotC: number;
      dangerousC: number;
      minimumRequiredFans?: number;
    }
  | { mode: 'immersion'; targetC: number; hotC: number; dangerousC: number }
  | { mode: 'hydro'; targetC: number; hotC: number; dangerousC: number };

export interface TunerConfig {
  enabled: boolean;
  mode: 'power' | 'hashrate';
  powerTargetW: number;
  hashrateTargetThs: number;
}

export interface ManualPerformance {
  globalFrequencyHz: number;
  globalVoltageV: number;
  boards: Map<string, { frequencyHz?: number; voltageV?: number }>;
}

export interface DpsConfig {
  enabled: boolean;
  powerStepW: number;
  hashrateStepThs: number;
  minPowerTargetW: number;
  minHashrateTargetThs: number;
  shutdownEnabled: boolean;
  shutdownDurationH: number;
  mode: 'DPS_MODE_NORMAL' | 'DPS_MODE_BOOST';
  onStartTargetPercent: number;
}

export interface QuickRamping {
  upS: number;
  downS: number;
}

export interface NetworkConfig {
  protocol: 'dhcp' | 'static';
  hostname: string;
  static?: { address: string; netmask: string; gateway: string; dnsServers: string[] };
}

export interface AutoUpgradeConfig {
  enabled: boolean;
  schedule?:
    | { kind: 'daily'; hours: number; minutes: number; seconds: number }
    | { kind: 'weekly'; dayOfWeek: number; hours: number; minutes: number; seconds: number }
    | { kind: 'monthly'; dayOfMonth: number; hours: number; minutes: number; seconds: number };
  lastExecutionMs?: number;
}

export type LicenseState =
  | {
      kind: 'valid';
      type: 'LICENSE_TYPE_STANDARD' | 'LICENSE_TYPE_CUSTOM';
      contractName: string;
      devFeeBsp: number;
    }
  | { kind: 'none' };

export const QUICK_RAMPING_LIMITS = { min: 0, max: 600 } as const;
export const DPS_SHUTDOWN_HOURS = { min: 1, max: 48, default: 3 } as const;

export function defaultCooling(spec: ModelSpec): CoolingConfig {
  return {
    mode: 'auto',
    targetC: spec.cooling.target,
    hotC: spec.cooling.hot,
    dangerousC: spec.cooling.dangerous,
    minFanSpeed: 10,
    maxFanSpeed: 100,
    minimumRequiredFans: spec.fans,
  };
}

export function defaultDps(spec: ModelSpec): DpsConfig {
  return {
    enabled: false,
    powerStepW: Math.round(spec.nominalPowerW * 0.1),
    hashrateStepThs: Math.round(spec.stickerGhs / 10_000) / 1,
    minPowerTargetW: spec.powerTarget.min,
    minHashrateTargetThs: Math.round(spec.stickerGhs / 2_000) / 1,
    shutdownEnabled: false,
    shutdownDurationH: DPS_SHUTDOWN_HOURS.default,
    mode: 'DPS_MODE_NORMAL',
    onStartTargetPercent: 100,
  };
}

/** Advanced settings schema (a small JSON Schema, as GetSettingsSchema returns) and defaults. */
export const ADVANCED_SETTINGS_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  additionalProperties: false,
  properties: {
    allow_disabling_hashboards_on_nopic_miners: {
      type: 'boolean',
      default: false,
      description: 'Allow disabling hashboards on miners without a PIC.',
    },
    min_fan_pwm: {
      type: 'integer',
      minimum: 0,
      maximum: 100,
      default: 10,
      description: 'Lowest fan PWM (%) in auto cooling.',
    },
    rambo_mode: {
      type: 'boolean',
      default: false,
      description: 'Skip safety ramps when starting (faster, riskier).',
    },
    hashboard_init_retries: {
      type: 'integer',
      minimum: 0,
      maximum: 10,
      default: 3,
      description: 'Retries before a hashboard is declared failed.',
    },
  },
} as const;

export type AdvancedSettingValue = boolean | number;

export function advancedSettingDefaults(): Record<string, AdvancedSettingValue> {
  const out: Record<string, AdvancedSettingValue> = {};
  for (const [key, def] of Object.entries(ADVANCED_SETTINGS_SCHEMA.properties)) out[key] = def.default;
  return out;
}
