// Miner models the simulator can play, with vendor figures (sticker hashrate and power) and the
// firmware-side limits (power target range, cooling thresholds) a Braiins OS miner reports.
import type { ControlBoardSocFamily, MinerModel, Platform } from '../proto/types.ts';

export type ModelKey = 's19jpro' | 's19xp' | 's21' | 's9';

export interface ModelSpec {
  key: ModelKey;
  /** MinerIdentity.miner_model / name, e.g. "Antminer S19J Pro". */
  name: string;
  /** Deprecated MinerIdentity.model enum value. */
  legacyModel: MinerModel;
  platform: Platform;
  socFamily: ControlBoardSocFamily;
  kernelVersion: string;
  /** Hashboard ids as the firmware reports them (S9: chains 6-8). */
  boardIds: readonly string[];
  chipsPerBoard: number;
  chipType: string;
  boardModel: string;
  boardSerialPrefix: string;
  minerSerialPrefix: string;
  fans: number;
  fanMaxRpm: number;
  /** Vendor nominal (sticker) hashrate, GH/s. */
  stickerGhs: number;
  /** Wall power at the sticker hashrate, W. */
  nominalPowerW: number;
  /** Control board, PSU overhead etc. when nothing hashes (fans excluded), W. */
  controllerW: number;
  /** Power of all fans at 100 % PWM, W (scales with the cube of the speed). */
  fanMaxW: number;
  powerTarget: { min: number; max: number; default: number };
  /** Average chip frequency at the sticker hashrate, Hz. */
  nominalFrequencyHz: number;
  frequencyHz: { min: number; max: number };
  /** Hashboard supply voltage at the sticker hashrate, V. */
  nominalVoltageV: number;
  voltageV: { min: number; max: number };
  /** Auto cooling defaults, °C (chip temperatures). */
  cooling: { target: number; hot: number; dangerous: number };
  psu?: {
    modelName: string;
    serialPrefix: string;
    minVoltageV: number;
    maxVoltageV: number;
    version: number;
    fwVersion: number;
  };
}

export const MODELS: Readonly<Record<ModelKey, ModelSpec>> = Object.freeze({
  s19jpro: {
    key: 's19jpro',
    name: 'Antminer S19J Pro',
    legacyModel: 'MINER_MODEL_ANTMINER_S19J_PRO',
    platform: 'PLATFORM_AM3_AML',
    socFamily: 'CONTROL_BOARD_SOC_FAMILY_AML',
    kernelVersion: '4.9.113',
    boardIds: ['1', '2', '3'],
    chipsPerBoard: 126,
    chipType: 'BM1362',
    boardModel: 'BHB42601',
    boardSerialPrefix: 'JYFPB',
    minerSerialPrefix: 'JYZZB',
    fans: 4,
    fanMaxRpm: 6_000,
    stickerGhs: 104_000,
    nominalPowerW: 3_070,
    controllerW: 45,
    fanMaxW: 120,
    powerTarget: { min: 1_200, max: 3_900, default: 3_070 },
    nominalFrequencyHz: 525e6,
    frequencyHz: { min: 250e6, max: 700e6 },
    nominalVoltageV: 13.6,
    voltageV: { min: 12.0, max: 15.0 },
    cooling: { target: 75, hot: 90, dangerous: 105 },
    psu: {
      modelName: 'APW121215e',
      serialPrefix: 'DGAH',
      minVoltageV: 12.0,
      maxVoltageV: 15.1,
      version: 113,
      fwVersion: 131,
    },
  },
  s19xp: {
    key: 's19xp',
    name: 'Antminer S19 XP',
    legacyModel: 'MINER_MODEL_ANTMINER_S19XP',
    platform: 'PLATFORM_AM3_BBB',
    socFamily: 'CONTROL_BOARD_SOC_FAMILY_BBB',
    kernelVersion: '4.19.94',
    boardIds: ['1', '2', '3'],
    chipsPerBoard: 110,
    chipType: 'BM1366',
    boardModel: 'BHB56801',
    boardSerialPrefix: 'FXDDB',
    minerSerialPrefix: 'HTM3B',
    fans: 4,
    fanMaxRpm: 6_000,
    stickerGhs: 141_000,
    nominalPowerW: 3_010,
    controllerW: 45,
    fanMaxW: 120,
    powerTarget: { min: 1_300, max: 3_800, default: 3_010 },
    nominalFrequencyHz: 505e6,
    frequencyHz: { min: 250e6, max: 650e6 },
    nominalVoltageV: 13.0,
    voltageV: { min: 11.8, max: 14.6 },
    cooling: { target: 75, hot: 90, dangerous: 105 },
    psu: {
      modelName: 'APW121417a',
      serialPrefix: 'DGBH',
      minVoltageV: 11.8,
      maxVoltageV: 14.6,
      version: 114,
      fwVersion: 131,
    },
  },
  s21: {
    key: 's21',
    name: 'Antminer S21',
    legacyModel: 'MINER_MODEL_UNSPECIFIED',
    platform: 'PLATFORM_CVITEK_BM1_AM2',
    socFamily: 'CONTROL_BOARD_SOC_FAMILY_CVITEK',
    kernelVersion: '5.10.4',
    boardIds: ['1', '2', '3'],
    chipsPerBoard: 108,
    chipType: 'BM1368',
    boardModel: 'BHB68601',
    boardSerialPrefix: 'KTGNB',
    minerSerialPrefix: 'KTZZB',
    fans: 4,
    fanMaxRpm: 6_600,
    stickerGhs: 200_000,
    nominalPowerW: 3_500,
    controllerW: 50,
    fanMaxW: 140,
    powerTarget: { min: 1_600, max: 4_300, default: 3_500 },
    nominalFrequencyHz: 490e6,
    frequencyHz: { min: 250e6, max: 650e6 },
    nominalVoltageV: 13.2,
    voltageV: { min: 12.0, max: 14.5 },
    cooling: { target: 75, hot: 90, dangerous: 105 },
    psu: {
      modelName: 'APW171215a',
      serialPrefix: 'DGKH',
      minVoltageV: 12.0,
      maxVoltageV: 14.5,
      version: 117,
      fwVersion: 133,
    },
  },
  s9: {
    key: 's9',
    name: 'Antminer S9',
    legacyModel: 'MINER_MODEL_ANTMINER_S9',
    platform: 'PLATFORM_AM1_S9',
    socFamily: 'CONTROL_BOARD_SOC_FAMILY_ZYNQ',
    kernelVersion: '4.4.0',
    boardIds: ['6', '7', '8'],
    chipsPerBoard: 63,
    chipType: 'BM1387',
    boardModel: 'S9 Hash Board',
    boardSerialPrefix: 'S9HB',
    minerSerialPrefix: 'S9ZZB',
    fans: 2,
    fanMaxRpm: 6_000,
    stickerGhs: 14_000,
    nominalPowerW: 1_350,
    controllerW: 25,
    fanMaxW: 50,
    powerTarget: { min: 600, max: 1_650, default: 1_350 },
    nominalFrequencyHz: 650e6,
    frequencyHz: { min: 300e6, max: 800e6 },
    nominalVoltageV: 8.8,
    voltageV: { min: 7.9, max: 9.4 },
    cooling: { target: 80, hot: 95, dangerous: 110 },
  },
} satisfies Record<ModelKey, ModelSpec>);

export const MODEL_KEYS = Object.keys(MODELS) as ModelKey[];

export function isModelKey(key: string): key is ModelKey {
  return Object.hasOwn(MODELS, key);
}

/** Default fleet mix (weights). */
export const DEFAULT_MODEL_MIX: Readonly<Record<ModelKey, number>> = Object.freeze({
  s19jpro: 50,
  s21: 30,
  s19xp: 15,
  s9: 5,
});

/**
 * Parses a model mix such as "s19jpro:60,s21:30,s9:10" (weights, not necessarily summing to 100;
 * a key without weight counts 1). Throws with a message naming the bad item.
 */
export function parseModelMix(spec: string): Record<ModelKey, number> {
  const mix = { s19jpro: 0, s19xp: 0, s21: 0, s9: 0 } satisfies Record<ModelKey, number>;
  for (const raw of spec.split(',')) {
    const item = raw.trim();
    if (!item) continue;
    const [key = '', weight] = item.split(':');
    const k = key
      .trim()
      .toLowerCase()
      .replace(/[\s_-]/g, '');
    if (!isModelKey(k)) throw new Error(`unknown model '${key}' (known: ${MODEL_KEYS.join(', ')})`);
    const w = weight === undefined ? 1 : Number(weight);
    if (!Number.isFinite(w) || w < 0) throw new Error(`bad weight '${weight}' for model ${k}`);
    mix[k] += w;
  }
  if (Object.values(mix).every(w => w === 0)) throw new Error('the model mix has no positive weight');
  return mix;
}

/** Splits n miners over the mix with largest-remainder rounding; every positive weight gets its share. */
export function modelCounts(n: number, mix: Readonly<Record<ModelKey, number>>): Record<ModelKey, number> {
  const total = MODEL_KEYS.reduce((s, k) => s + mix[k], 0);
  const counts = { s19jpro: 0, s19xp: 0, s21: 0, s9: 0 } satisfies Record<ModelKey, number>;
  const remainders: Array<[ModelKey, number]> = [];
  let assigned = 0;
  for (const k of MODEL_KEYS) {
    const exact = (n * mix[k]) / total;
    counts[k] = Math.floor(exact);
    assigned += counts[k];
    remainders.push([k, exact - counts[k]]);
  }
  remainders.sort((a, b) => b[1] - a[1]);
  for (let i = 0; assigned < n; i++, assigned++) {
    const entry = remainders[i % remainders.length] as [ModelKey, number];
    counts[entry[0]] += 1;
  }
  return counts;
}
