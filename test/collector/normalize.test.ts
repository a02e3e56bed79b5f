import { describe, expect, it } from 'vitest';
import { normalizePoll, type PollResponses } from '../../collector/normalize.ts';
import type { MinerRef } from '../../core/samples.ts';

// Decoded RPC answers as proto-loader yields them (snake_case, GH/s, MH/s, Hz, integer W).
const gh = (v: number) => ({ gigahash_per_second: v });
const board = (id: string, ghs: number, chipC: number, chips = 126) => ({
  id, enabled: true, chips_count: { value: chips }, current_voltage: { volt: 13.1 }, current_frequency: { hertz: 525_000_000 },
  highest_chip_temp: { location: 'SENSOR_LOCATION_CHIP', temperature: { degree_c: chipC } }, board_temp: { degree_c: chipC - 12 },
  stats: { real_hashrate: { last_1m: gh(ghs), last_5m: gh(ghs) }, nominal_hashrate: gh(34_700), error_hashrate: { megahash_per_second: 120 }, found_blocks: 0, best_share: 0, best_share_str: '' },
  lowest_inlet_temp: { degree_c: 24 }, highest_outlet_temp: { degree_c: 51 },
});
function responses(over: { power?: number; temps?: number[]; fanRpm?: number[]; hashrate?: number } = {}): PollResponses {
  const temps = over.temps ?? [71, 72, 73];
  return {
    stats: {
      pool_stats: { accepted_shares: 1200, rejected_shares: 3, stale_shares: 1, last_difficulty: 0, best_share: 0, generated_work: 0, best_share_str: '' },
      miner_stats: { real_hashrate: { last_1m: gh(over.hashrate ?? 103_500), last_5m: gh(103_000) }, nominal_hashrate: gh(104_100), error_hashrate: { megahash_per_second: 360 }, found_blocks: 0, best_share: 0, best_share_str: '' },
      power_stats: { approximated_consumption: { watt: over.power ?? 3070 }, efficiency: { joule_per_terahash: 29.7 } },
    },
    hashboards: { hashboards: temps.map((t, i) => board(String(i + 1), 34_500, t)) },
    cooling: { fans: (over.fanRpm ?? [4100, 4150, 4080, 4120]).map((rpm, i) => ({ position: i, rpm, target_speed_ratio: 0.55 })), highest_temperature: null },
    tuner: { overall_tuner_state: 'TUNER_STATE_STABLE', power_target_mode_state: { profile: null, current_target: { watt: 3100 } }, mode_state: 'power_target_mode_state' },
    pools: { pool_groups: [{ name: 'main', uid: 'g1', pools: [{ uid: 'p1', url: 'stratum+tcp://user:secret@pool.example:3333', user: 'acct.w1', enabled: true, alive: true, active: true, stats: { accepted_shares: 1200, rejected_shares: 3, stale_shares: 1 } }] }] },
  } as unknown as PollResponses;
}
const ref: MinerRef = { id: 'm1', tenant: 't', site: 's', address: '127.0.0.1:50051', credentials: 'default', labels: { model: 'S19j Pro' } };
const ctx = { ref, timeMs: 1_764_000_000_000, details: null, hotTempC: 90, fallbackHotTempC: 90, lowHashratePct: 90, uptimeAtDetailsS: null, minerStatus: 'MINER_STATUS_NORMAL' };

describe('normalisation', () => {
  it('converts units and derives efficiency, boards hashing and health', () => {
    const { sample, issues } = normalizePoll(responses(), ctx);
    expect(issues).toEqual([]);
    expect(sample).toMatchObject({ hashrate_ghs: 103_500, hashrate_nominal_ghs: 104_100, hashrate_error_mhs: 360, power_w: 3070, power_target_w: 3100, temp_chip_max_c: 73, temp_board_max_c: 61, fan_rpm_min: 4080, boards_hashing: 3, boards_total: 3, status: 'online', tuner_state: 'stable', miner_status: 'normal' });
    expect(sample.efficiency_jth).toBeCloseTo(3070 / 103.5, 6);
    expect(sample.hashboards[0]!.frequency_mhz).toBe(525);
    expect(sample.pools[0]!.pool).toBe('stratum+tcp://pool.example:3333');
  });

  it('rejects or clamps out-of-range values with a reason, never storing garbage', () => {
    const { sample, issues } = normalizePoll(responses({ power: -50, temps: [Number.NaN, 72, 999], fanRpm: [-10, 4000, 4000, 4000], hashrate: Number.POSITIVE_INFINITY }), ctx);
    expect(sample.power_w).toBeNull();
    expect(sample.efficiency_jth).toBeNull();
    expect(sample.hashboards[0]!.temp_chip_c).toBeNull();
    expect(sample.hashboards[2]!.temp_chip_c).toBeNull();
    expect(sample.temp_chip_max_c).toBe(72);
    expect(sample.fans[0]!.rpm).toBe(0);
    expect(sample.hashrate_ghs).toBe(0);
    expect(issues).toEqual(expect.arrayContaining([
      expect.stringMatching(/^power_w=-50 rejected/),
      expect.stringMatching(/^board 1 temp_chip_c=NaN rejected/),
      expect.stringMatching(/^board 3 temp_chip_c=999 rejected/),
      expect.stringMatching(/^fan 0 rpm=-10 clamped to 0/),
      expect.stringMatching(/^hashrate_ghs=Infinity rejected/),
    ]));
  });

  it('marks overheating, low hashrate and a dead board as degraded', () => {
    const hot = normalizePoll(responses({ temps: [71, 95, 72] }), ctx).sample;
    expect(hot.status).toBe('degraded');
    expect(hot.degraded_reasons).toContain('overheating');
    const low = normalizePoll(responses({ hashrate: 80_000 }), ctx).sample;
    expect(low.degraded_reasons).toEqual(['low_hashrate']);
    const r = responses();
    (r.hashboards.hashboards[1] as { chips_count: { value: number } }).chips_count = { value: 0 };
    const dead = normalizePoll(r, ctx).sample;
    expect(dead.boards_hashing).toBe(2);
    expect(dead.degraded_reasons).toContain('hashboard_down');
  });

  it('maps the miner status to paused or stopped', () => {
    expect(normalizePoll(responses(), { ...ctx, minerStatus: 'MINER_STATUS_PAUSED' }).sample.status).toBe('paused');
    expect(normalizePoll(responses(), { ...ctx, minerStatus: 'MINER_STATUS_NOT_STARTED' }).sample.status).toBe('stopped');
  });
});
