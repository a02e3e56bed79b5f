/**
 * The clock the energy integration tests give their replicas: it runs 30 times faster than the
 * wall clock, so a plan minute (plans work in whole minutes, the ramp is kW per minute) passes
 * in 2 s. Each test file that imports it starts its own clock at import.
 */
export const SPEED = 30;
export const MIN = 60_000;
const R0 = Date.now();
export const now = (): number => R0 + (Date.now() - R0) * SPEED;
/** Wall milliseconds for `simMs` of plan time. */
export const wall = (simMs: number): number => simMs / SPEED;

/** A day-ahead price source (EUR/MWh) that is expensive (200) from `startMs` to `endMs` and cheap (40) around it. */
export function expensiveWindow(startMs: number, endMs: number) {
  return {
    kind: 'day_ahead' as const,
    format: 'json' as const,
    content: {
      currency: 'EUR',
      prices: [
        { start: startMs - 2 * MIN, end: startMs, price: 40 },
        { start: startMs, end: endMs, price: 200 },
        { start: endMs, end: startMs + 60 * MIN, price: 40 },
      ],
    },
  };
}
