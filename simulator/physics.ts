// Pure physics of a miner model: power ↔ hashrate (efficiency worsens with power), frequency and
// voltage at an operating point, and a first-order thermal model driven by load, ambient and fans.
// Everything here is a function of the model and its inputs; state lives in virtual-miner.ts.
import type { ModelSpec } from './models.ts';

/** Share of sticker power that does not scale with hashrate (controller, PSU losses, fans). */
const STATIC_FRACTION = 0.08;
/** Exponent of the dynamic part: P_dyn ∝ H^EXPONENT (V rises with f, so J/TH worsens with H). */
const EXPONENT = 1.7;
/** Fan ratio the tuner assumes when it budgets power for chips. */
export const REFERENCE_FAN_RATIO = 0.6;
/** Chip temperature rise over ambient at nominal board load with 100 % airflow, K. */
export const THERMAL_RISE_K = 35;

/** Total wall power, W, when the miner runs at `ghs` (all boards hashing). */
export function powerForHashrate(spec: ModelSpec, ghs: number): number {
  const ratio = Math.max(0, ghs) / spec.stickerGhs;
  return spec.nominalPowerW * (STATIC_FRACTION + (1 - STATIC_FRACTION) * ratio ** EXPONENT);
}

/** Hashrate, GH/s, the tuner reaches for a wall power target, W (inverse of powerForHashrate). */
export function hashrateForPower(spec: ModelSpec, powerW: number): number {
  const dyn = (powerW / spec.nominalPowerW - STATIC_FRACTION) / (1 - STATIC_FRACTION);
  if (dyn <= 0) return 0;
  return spec.stickerGhs * dyn ** (1 / EXPONENT);
}

/** Power of all fans at a PWM ratio, W. */
export function fanPowerW(spec: ModelSpec, ratio: number): number {
  return spec.fanMaxW * Math.max(0, Math.min(1, ratio)) ** 3;
}

/** Chip (hashboard) power of the whole miner at `ghs`, W: wall power minus controller and fans. */
export function chipPowerForHashrate(spec: ModelSpec, ghs: number): number {
  if (ghs <= 0) return 0;
  return Math.max(0, powerForHashrate(spec, ghs) - spec.controllerW - fanPowerW(spec, REFERENCE_FAN_RATIO));
}

/** Chip power of one board at the sticker point, W (the reference for "load"). */
export function nominalBoardPowerW(spec: ModelSpec): number {
  return chipPowerForHashrate(spec, spec.stickerGhs) / spec.boardIds.length;
}

/** Average chip frequency, Hz, giving `ghsPerBoard` on a board with all chips working. */
export function frequencyForBoardHashrate(spec: ModelSpec, ghsPerBoard: number): number {
  return spec.nominalFrequencyHz * (ghsPerBoard / (spec.stickerGhs / spec.boardIds.length));
}

/** Hashrate of one fully working board at a chip frequency, GH/s. */
export function boardHashrateForFrequency(spec: ModelSpec, hz: number): number {
  return (spec.stickerGhs / spec.boardIds.length) * (hz / spec.nominalFrequencyHz);
}

/** Board supply voltage the tuner picks for a frequency, V (clamped to the model's range). */
export function voltageForFrequency(spec: ModelSpec, hz: number): number {
  const v = spec.nominalVoltageV * (0.82 + 0.18 * (hz / spec.nominalFrequencyHz));
  return Math.min(spec.voltageV.max, Math.max(spec.voltageV.min, v));
}

/** Relative airflow at a fan PWM ratio (some convection even with fans at 0). */
export function airflow(fanRatio: number): number {
  return 0.25 + 0.75 * Math.max(0, Math.min(1, fanRatio));
}

export type CoolingKind = 'air' | 'immersion' | 'hydro';

/** Chip temperature a board settles at, °C. `load` = board chip power / nominal board power. */
export function chipTempEquilibrium(
  ambientC: number,
  load: number,
  fanRatio: number,
  kind: CoolingKind = 'air',
): number {
  if (kind !== 'air') return ambientC + 12 + 0.6 * THERMAL_RISE_K * load;
  return ambientC + (THERMAL_RISE_K * load) / airflow(fanRatio);
}

/** Fan ratio that keeps the chips at `targetC` under `load` (auto cooling), clamped to [min, max]. */
export function autoFanRatio(
  ambientC: number,
  load: number,
  targetC: number,
  minRatio: number,
  maxRatio: number,
): number {
  const headroom = Math.max(1, targetC - ambientC);
  const needed = ((THERMAL_RISE_K * load) / headroom - 0.25) / 0.75;
  return Math.min(maxRatio, Math.max(minRatio, needed));
}

/** PCB temperature from chip temperature, °C. */
export function boardTempFromChip(ambientC: number, chipC: number): number {
  return ambientC + 0.78 * (chipC - ambientC);
}

/** Inlet / outlet air (or liquid) temperatures of a board, °C. */
export function inletOutletTemps(ambientC: number, chipC: number): { inlet: number; outlet: number } {
  return { inlet: ambientC + 0.06 * (chipC - ambientC), outlet: ambientC + 0.55 * (chipC - ambientC) };
}

/** Relaxes `value` toward `target` over `dtMs` with time constant `tauMs` (exact first-order lag). */
export function relax(value: number, target: number, dtMs: number, tauMs: number): number {
  if (tauMs <= 0) return target;
  return target + (value - target) * Math.exp(-dtMs / tauMs);
}

/** Share difficulty a stratum pool's vardiff settles at for a hashrate (≈ one share every ~3 s). */
export function poolDifficulty(ghs: number): number {
  const sharesPerSecondAtDiff1 = (ghs * 1e9) / 2 ** 32;
  const diff = sharesPerSecondAtDiff1 / 0.33;
  return 2 ** Math.max(10, Math.round(Math.log2(Math.max(1, diff))));
}

export interface EfficiencyPoint {
  powerTargetW: number;
  consumptionW: number;
  hashrateGhs: number;
  frequencyHz: number;
  voltageV: number;
  fanRatio: number;
  outletC: number;
  ambientC: number;
}

/** The model's efficiency curve (ascending power targets, `points` points) at an ambient. */
export function efficiencyCurve(spec: ModelSpec, ambientC: number, points = 12): EfficiencyPoint[] {
  const out: EfficiencyPoint[] = [];
  const { min, max } = spec.powerTarget;
  for (let i = 0; i < points; i++) {
    const target = Math.round(min + ((max - min) * i) / (points - 1));
    const ghs = hashrateForPower(spec, target);
    const load = chipPowerForHashrate(spec, ghs) / spec.boardIds.length / nominalBoardPowerW(spec);
    const fan = autoFanRatio(ambientC, load, spec.cooling.target, 0.1, 1);
    const chip = chipTempEquilibrium(ambientC, load, fan);
    const hz = frequencyForBoardHashrate(spec, ghs / spec.boardIds.length);
    out.push({
      powerTargetW: target,
      consumptionW: Math.round(spec.controllerW + fanPowerW(spec, fan) + chipPowerForHashrate(spec, ghs)),
      hashrateGhs: ghs,
      frequencyHz: hz,
      voltageV: voltageForFrequency(spec, hz),
      fanRatio: fan,
      outletC: inletOutletTemps(ambientC, chip).outlet,
      ambientC,
    });
  }
  return out;
}
