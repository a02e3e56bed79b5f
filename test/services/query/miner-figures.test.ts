import { describe, expect, it } from 'vitest';
import type { HashboardSample, MinerSample, MinerSnapshot } from '../../../core/samples.ts';
import { minerRowAt, minerTableOf } from '../../../services/query/miner-table.ts';
import { snap } from './table-snapshots.ts';

// Issue #14 items 1 and 4 at the table every list, summary and by_model answer is built from:
// a dead board is a shortfall against the miner's full expected hashrate, and a paused, stopped
// or not-hashing miner adds no current hashrate (its lagging 1-minute window still says it does).

const board = (id: string, ghs: number, nominal: number): HashboardSample => ({
  board: id,
  enabled: true,
  hashrate_ghs: ghs,
  hashrate_nominal_ghs: nominal,
  hashrate_error_mhs: 0,
  temp_chip_c: 70,
  temp_board_c: 60,
  temp_inlet_c: null,
  temp_outlet_c: null,
  voltage_v: null,
  frequency_mhz: null,
  chips: 63,
});

function withSample(s: MinerSnapshot, patch: Partial<MinerSample>, status?: MinerSnapshot['status']): MinerSnapshot {
  const sample = { ...s.sample!, ...patch, ...(status ? { status } : {}) } as MinerSample;
  return { ...s, sample, ...(status ? { status } : {}) };
}

describe('miner figures in the table', () => {
  it('an S9 with one of three boards dead is at 2/3 of its expected hashrate, not above 100 %', () => {
    // The miner's own nominal drops with the dead board: 9,475 GH/s for 2 boards hashing 10,000.
    const s9 = withSample(snap({ id: 's9' }), {
      model: 'S9',
      hashrate_ghs: 10_000,
      hashrate_nominal_ghs: 9_475,
      boards_hashing: 2,
      boards_total: 3,
      hashboards: [board('6', 5_000, 4_737.5), board('7', 5_000, 4_737.5), board('8', 0, 0)],
    });
    const row = minerRowAt(minerTableOf('t', [s9]), 0);
    expect(row.nominal_ghs).toBeCloseTo(14_212.5, 1);
    expect(row.pct_nominal!).toBeCloseTo((10_000 / 14_212.5) * 100, 3);
    expect(row.pct_nominal!).toBeLessThan(90);
  });

  it('a paused, stopped or not-hashing miner adds no current hashrate and has no efficiency', () => {
    const lagging = { hashrate_ghs: 119_800, power_w: 50, efficiency_jth: 0.42 };
    const paused = withSample(snap({ id: 'p' }), { ...lagging, miner_status: 'paused' }, 'paused');
    const stopped = withSample(snap({ id: 's' }), { ...lagging, miner_status: 'not_started' }, 'stopped');
    const idle = withSample(snap({ id: 'z' }), { ...lagging, boards_hashing: 0 });
    const t = minerTableOf('t', [paused, stopped, idle]);
    for (let i = 0; i < t.size; i++) {
      const row = minerRowAt(t, i);
      expect(row.hashrate_ghs, row.id).toBe(0);
      expect(row.efficiency_jth, row.id).toBeNull();
      expect(row.power_w, row.id).toBe(50);
    }
  });
});
