/**
 * Unit conversions between the miner API's units and ours, in one place.
 * The API reports real/nominal hashrate in GH/s, error hashrate in MH/s, targets in TH/s,
 * frequency in Hz and power as integer watts.
 */
export const ghsFromMhs = (mhs: number): number => mhs / 1_000;
export const mhsFromGhs = (ghs: number): number => ghs * 1_000;
export const ghsFromThs = (ths: number): number => ths * 1_000;
export const thsFromGhs = (ghs: number): number => ghs / 1_000;
export const mhzFromHz = (hz: number): number => hz / 1_000_000;
export const hzFromMhz = (mhz: number): number => mhz * 1_000_000;
export const kwFromW = (w: number): number => w / 1_000;
export const phsFromGhs = (ghs: number): number => ghs / 1_000_000;

/** Efficiency in J/TH from watts and GH/s; undefined when there is no hashrate to divide by. */
export function efficiencyJth(powerW: number, hashrateGhs: number): number | undefined {
  if (!(hashrateGhs > 0) || !(powerW >= 0)) return undefined;
  return powerW / thsFromGhs(hashrateGhs);
}

/** Percent of nominal; undefined without a nominal figure. */
export function percentOf(value: number, nominal: number): number | undefined {
  if (!(nominal > 0)) return undefined;
  return (value / nominal) * 100;
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
