/**
 * Output rounding, by unit: enough digits to be exact for an operator, few enough to keep
 * answers short (an LLM reads every digit). TH/s and kW 3 decimals, W and °C 1, J/TH and
 * percentages 2, minutes 1.
 */
const roundTo = (v: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};

export const ths = (ghs: number): number => roundTo(ghs / 1_000, 3);
export const kw = (w: number): number => roundTo(w / 1_000, 3);
export const watts = (w: number): number => roundTo(w, 1);
export const celsius = (c: number): number => roundTo(c, 1);
export const jth = (v: number): number => roundTo(v, 2);
export const pct = (v: number): number => roundTo(v, 2);
export const minutes = (v: number): number => roundTo(v, 1);

export function nullable<T>(fn: (v: number) => T): (v: number | null | undefined) => T | null {
  return v => (v === null || v === undefined || !Number.isFinite(v) ? null : fn(v));
}

/** Rounding for a telemetry unit label. */
export function roundForUnit(unit: string): (v: number) => number {
  switch (unit) {
    case 'TH/s':
    case 'kW':
      return v => roundTo(v, 3);
    case 'W':
    case '°C':
      return v => roundTo(v, 1);
    case 'rpm':
    case 'miners':
      return v => roundTo(v, 2);
    default:
      return v => roundTo(v, 2);
  }
}

/** part / whole in percent, or null without a whole. */
export function ratioPct(part: number, whole: number): number | null {
  return whole > 0 ? pct((part / whole) * 100) : null;
}
