import { describe, expect, it } from 'vitest';
import { decodeWindowStat, emptyWindowStat, encodeWindowStat, foldEncodedWindowStat, mergeWindowStat, type WindowStat } from '../../collector/window-stats.ts';

const empty = emptyWindowStat;

// A seeded generator, so a failure can be replayed.
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
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

describe('foldEncodedWindowStat', () => {
  it('folds exactly what decode + merge would, skipping the same malformed values and other sites', () => {
    const r = rng(7);
    for (let round = 0; round < 200; round++) {
      const values = Array.from({ length: 12 }, () => randomValue(r));
      for (const site of [undefined, 's,2']) {
        const viaDecode = empty();
        const viaFold = empty();
        for (const v of values) {
          const d = decodeWindowStat(v);
          const took = d !== null && (site === undefined || d.site === site);
          if (took) mergeWindowStat(viaDecode, d);
          expect(foldEncodedWindowStat(viaFold, v, site), v).toBe(took);
        }
        expect(viaFold).toEqual(viaDecode);
      }
    }
  });
});
