import { describe, expect, it } from 'vitest';
import { downsampleMinMax } from '../../../services/query/chart-downsample.ts';

describe('chart downsampling (min/max per bucket)', () => {
  it('leaves a series that fits alone', () => {
    const d = { x: [1, 2, 3], values: [[1, null, 3]] };
    expect(downsampleMinMax(d, 10)).toBe(d);
  });

  it('keeps at most maxPoints, in time order, and keeps a one-point spike and dip', () => {
    const n = 43_200; // 30 days of minutes
    const x = Array.from({ length: n }, (_, i) => i * 60);
    const y = x.map((_, i) => (i === 12_345 ? 500 : i === 30_000 ? -7 : 100 + Math.sin(i / 500)));
    const power = y.map((_, i) => (i % 1000 === 0 ? null : 3_000));
    const d = downsampleMinMax({ x, values: [y, power] }, 1_000);
    expect(d.x.length).toBeLessThanOrEqual(1_000);
    expect(d.x.length).toBeGreaterThan(900);
    for (let i = 1; i < d.x.length; i++) expect(d.x[i]!).toBeGreaterThan(d.x[i - 1]!);
    expect(d.values[0]).toContain(500);
    expect(d.values[0]).toContain(-7);
    expect(d.x[d.values[0]!.indexOf(500)]).toBe(12_345 * 60);
    // every series is read at the kept x
    expect(d.values[1]!.length).toBe(d.x.length);
    expect(d.x[0]).toBe(0);
  });

  it('takes the extremes from the next series where the first has only gaps', () => {
    const x = Array.from({ length: 100 }, (_, i) => i);
    const d = downsampleMinMax({ x, values: [x.map(() => null), x.map(i => (i === 77 ? 9 : 1))] }, 10);
    expect(d.values[1]).toContain(9);
    expect(d.values[0]!.every(v => v === null)).toBe(true);
  });

  it('refuses a budget below two points', () => {
    expect(() => downsampleMinMax({ x: [1, 2, 3], values: [[1, 2, 3]] }, 1)).toThrow(/maxPoints/);
  });
});
