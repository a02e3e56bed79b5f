import { describe, expect, it } from 'vitest';
import { detectEvents, type MinerObservation } from '../../collector/event-detector.ts';
import type { MinerRef, MinerSample } from '../../core/samples.ts';

const ref: MinerRef = { id: 'm1', tenant: 't', site: 's', address: '127.0.0.1:50051', credentials: 'default', labels: {} };
const board = (id: string, ghs: number) => ({ board: id, enabled: true, hashrate_ghs: ghs, hashrate_nominal_ghs: 34_000, hashrate_error_mhs: 0, temp_chip_c: 70, temp_board_c: 60, temp_inlet_c: null, temp_outlet_c: null, voltage_v: 13, frequency_mhz: 600, chips: 126 });
function sample(over: Partial<MinerSample> = {}): MinerSample {
  return {
    time_ms: 0, ref, model: 'S19j Pro', hostname: 'h', firmware: 'fw1', status: 'online', degraded_reasons: [], miner_status: 'normal', tuner_state: 'stable',
    hashrate_ghs: 102_000, hashrate_5m_ghs: 102_000, hashrate_nominal_ghs: 104_000, hashrate_error_mhs: 10, power_w: 3070, power_target_w: 3100, efficiency_jth: 30,
    temp_chip_max_c: 75, temp_board_max_c: 62, fan_rpm_min: 4000, fan_rpm_avg: 4100, shares_accepted: 100, shares_rejected: 1, shares_stale: 0, uptime_s: 1000,
    boards_hashing: 3, boards_total: 3, hashboards: [board('1', 34_000), board('2', 34_000), board('3', 34_000)], fans: [], pools: [], ...over,
  };
}
const obs = (s: MinerSample | null, status = s?.status ?? 'offline', firmware = 'fw1', uptimeS: number | null = s?.uptime_s ?? null): MinerObservation => ({ status, sample: s, firmware, uptimeS });
const kinds = (prev: MinerObservation | null, next: MinerObservation): string[] => detectEvents(ref, prev, next, 1).map(e => e.kind);

describe('event detection', () => {
  it('says nothing on first sight or when nothing changed', () => {
    expect(kinds(null, obs(sample()))).toEqual([]);
    expect(kinds(obs(sample()), obs(sample({ uptime_s: 1010 })))).toEqual([]);
  });
  it('sees a miner going offline and coming back', () => {
    expect(kinds(obs(sample()), obs(sample(), 'offline'))).toEqual(['miner_offline']);
    expect(kinds(obs(sample(), 'offline'), obs(sample()))).toEqual(['miner_online']);
  });
  it('sees a mining restart from bosminer uptime going down (no system uptime: not a reboot), and a firmware change', () => {
    expect(kinds(obs(sample()), obs(sample({ uptime_s: 20 }), 'online', 'fw2'))).toEqual(['mining_restarted', 'firmware_changed']);
  });
  it('sees a hashboard lost and recovered', () => {
    const lost = sample({ hashboards: [board('1', 34_000), board('2', 0), board('3', 34_000)], boards_hashing: 2, status: 'degraded', degraded_reasons: ['hashboard_down'] });
    expect(kinds(obs(sample()), obs(lost))).toEqual(['status_changed', 'hashboard_lost']);
    expect(kinds(obs(lost), obs(sample()))).toEqual(['status_changed', 'hashboard_recovered']);
  });
  it('sees overheating and a dead pool once, when they start', () => {
    const hot = sample({ status: 'degraded', degraded_reasons: ['overheating'], temp_chip_max_c: 104 });
    expect(kinds(obs(sample()), obs(hot))).toEqual(['status_changed', 'overheating']);
    expect(kinds(obs(hot), obs(hot))).toEqual([]);
    const dead = sample({ status: 'degraded', degraded_reasons: ['pool_dead'] });
    expect(kinds(obs(sample()), obs(dead))).toEqual(['status_changed', 'pool_dead']);
  });
});
