import { describe, expect, it } from 'vitest';
import {
  STAT_COLUMNS,
  decodeWindowStatColumns,
  encodeWindowStat,
  type WindowStat,
} from '../../collector/window-stats.ts';

/** The format's decoder written out plainly into WindowStat objects: the reference the column decoder must match. */
function decodeWindowStat(value: string): WindowStat | null {
  const p = value.split(',');
  if (p.length !== 15 || p[0] !== '1') return null;
  const n = (i: number): number | null => {
    const t = p[i]!;
    if (t === '') return null;
    const v = Number(t);
    return Number.isFinite(v) ? v : null;
  };
  const mean = (i: number): { sum: number; n: number } => {
    const m = n(i);
    const c = n(i + 1) ?? 0;
    return m === null || c <= 0 ? { sum: 0, n: 0 } : { sum: m * c, n: c };
  };
  const text = (t: string): string => t.replaceAll('%2C', ',').replaceAll('%25', '%');
  const polls = n(1);
  const reached = n(2);
  if (polls === null || reached === null) return null;
  return {
    polls,
    reached,
    hashrate_ghs: mean(3),
    hashrate_nominal_ghs: mean(5),
    power_w: mean(7),
    temp_chip_max_c: mean(9),
    temp_chip_max_max_c: n(11),
    temp_board_max_c: n(12),
    site: text(p[13]!),
    model: text(p[14]!),
  };
}

// A seeded generator, so a failure can be replayed.
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

function randomValue(r: () => number): string {
  const mean = (): { sum: number; n: number } => {
    const n = r() < 0.2 ? 0 : Math.floor(r() * 360);
    return { sum: n > 0 ? (r() * 200_000 - 10) * n : 0, n };
  };
  const polls = 1 + Math.floor(r() * 360);
  const sites = ['s1', 's,2', 'dc%3', ''];
  const s: WindowStat = {
    site: sites[Math.floor(r() * sites.length)]!,
    model: r() < 0.3 ? '' : 'S19j Pro, hydro',
    polls,
    reached: Math.floor(r() * polls),
    hashrate_ghs: mean(),
    hashrate_nominal_ghs: mean(),
    power_w: mean(),
    temp_chip_max_c: mean(),
    temp_chip_max_max_c: r() < 0.2 ? null : r() * 100,
    temp_board_max_c: r() < 0.2 ? null : r() * 80,
  };
  const text = encodeWindowStat(s);
  const k = r();
  // Some values malformed the ways a reader may meet: another format version, cut short, junk.
  if (k < 0.05) return `2${text.slice(1)}`;
  if (k < 0.1) return text.slice(0, Math.floor(text.length / 2));
  if (k < 0.12) return text.replace(/^1,\d+/, '1,x');
  return text;
}

describe('decodeWindowStatColumns', () => {
  it('decodes into columns exactly what decodeWindowStat decodes, and rejects the same values', () => {
    const r = rng(7);
    const out = new Float64Array(3 * STAT_COLUMNS);
    for (let round = 0; round < 2_000; round++) {
      const v = randomValue(r);
      const d = decodeWindowStat(v);
      out.fill(-1);
      const tags = decodeWindowStatColumns(v, out, STAT_COLUMNS);
      if (d === null) {
        expect(tags, v).toBeNull();
        expect(
          out.every(x => x === -1),
          'a rejected value writes nothing',
        ).toBe(true);
        continue;
      }
      expect(tags, v).toEqual({ site: d.site, model: d.model });
      const row = [...out.subarray(STAT_COLUMNS, 2 * STAT_COLUMNS)];
      const orNaN = (x: number | null): number => (x === null ? NaN : x);
      expect(row, v).toEqual([
        d.polls,
        d.reached,
        d.hashrate_ghs.sum,
        d.hashrate_ghs.n,
        d.hashrate_nominal_ghs.sum,
        d.hashrate_nominal_ghs.n,
        d.power_w.sum,
        d.power_w.n,
        d.temp_chip_max_c.sum,
        d.temp_chip_max_c.n,
        orNaN(d.temp_chip_max_max_c),
        orNaN(d.temp_board_max_c),
      ]);
      // neighbours untouched
      expect(out[STAT_COLUMNS - 1]).toBe(-1);
      expect(out[2 * STAT_COLUMNS]).toBe(-1);
    }
  });
});
