import { describe, expect, it } from 'vitest';
import { attributeRestart, detectEvents, type MinerObservation } from '../../collector/event-detector.ts';
import type { FleetEvent, MinerRef, MinerSample } from '../../core/samples.ts';

// Which restart happened, and whether the product caused it; boards said back only after lost.
const ref: MinerRef = { id: 'm1', tenant: 't', site: 's', address: '127.0.0.1:50051', credentials: 'default', labels: {} };
const board = (id: string, ghs: number) => ({ board: id, enabled: true, hashrate_ghs: ghs, hashrate_nominal_ghs: 34_000, hashrate_error_mhs: 0, temp_chip_c: 70, temp_board_c: 60, temp_inlet_c: null, temp_outlet_c: null, voltage_v: 13, frequency_mhz: 600, chips: ghs > 0 ? 126 : 0 });
function sample(over: Partial<MinerSample> = {}): MinerSample {
  return {
    time_ms: 0, ref, model: 'S19j Pro', hostname: 'h', firmware: 'fw1', status: 'online', degraded_reasons: [], miner_status: 'normal', tuner_state: 'stable',
    hashrate_ghs: 102_000, hashrate_5m_ghs: 102_000, hashrate_nominal_ghs: 104_000, hashrate_error_mhs: 10, power_w: 3070, power_target_w: 3100, efficiency_jth: 30,
    temp_chip_max_c: 75, temp_board_max_c: 62, fan_rpm_min: 4000, fan_rpm_avg: 4100, shares_accepted: 100, shares_rejected: 1, shares_stale: 0, uptime_s: 1000, system_uptime_s: 50_000,
    boards_hashing: 3, boards_total: 3, hashboards: [board('1', 34_000), board('2', 34_000), board('3', 34_000)], fans: [], pools: [], ...over,
  };
}
const obs = (s: MinerSample): MinerObservation => ({ status: s.status, sample: s, firmware: 'fw1', uptimeS: s.uptime_s, systemUptimeS: s.system_uptime_s ?? null });
const NOW = 1_800_000_000_000;

describe('restarts', () => {
  it('tells a bosminer restart (system kept running) from a system reboot', () => {
    const restart = detectEvents(ref, obs(sample()), obs(sample({ uptime_s: 5, system_uptime_s: 50_010 })), NOW);
    expect(restart.map(e => e.kind)).toEqual(['mining_restarted']);
    const reboot = detectEvents(ref, obs(sample()), obs(sample({ uptime_s: 5, system_uptime_s: 40 })), NOW);
    expect(reboot.map(e => e.kind)).toEqual(['reboot_detected']);
    expect(reboot[0]!.data).toMatchObject({ restart: 'system' });
  });

  it('a stop is a status change, not a restart', () => {
    const stopped = sample({ status: 'stopped', miner_status: 'not_started', uptime_s: 0, system_uptime_s: 50_010 });
    expect(detectEvents(ref, obs(sample()), obs(stopped), NOW).map(e => e.kind)).toEqual(['status_changed']);
  });

  it('a restart right after an audited control action is planned, naming the action and who asked', () => {
    const [e] = detectEvents(ref, obs(sample()), obs(sample({ uptime_s: 5, system_uptime_s: 50_010 })), NOW) as [FleetEvent];
    const planned = attributeRestart(e, [{ time_ms: NOW - 7_000, action: 'restart', actor: 'alice' }]);
    expect(planned).toMatchObject({ kind: 'planned_restart', severity: 'info', data: { restart: 'mining', action: 'restart', actor: 'alice' } });
    // an action long before the restart explains nothing
    expect(attributeRestart(e, [{ time_ms: NOW - 3_600_000, action: 'restart', actor: 'alice' }]).kind).toBe('mining_restarted');
  });
});

describe('hashboard events', () => {
  it('never says a board recovered that was not said lost', () => {
    const dead = sample({ hashboards: [board('1', 34_000), board('2', 0), board('3', 34_000)], boards_hashing: 2, status: 'degraded', degraded_reasons: ['hashboard_down'] });
    // the board was already down when the collector first saw the miner: never said lost
    const b = obs(dead);
    expect(detectEvents(ref, null, b, NOW)).toEqual([]);
    const c = obs(sample());
    const kinds = detectEvents(ref, b, c, NOW + 10_000).map(e => e.kind);
    expect(kinds).not.toContain('hashboard_recovered');
    // lost then recovered, three times: three of each
    let prev = c;
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) {
      const l = obs(dead);
      seen.push(...detectEvents(ref, prev, l, NOW + i * 2).map(e => e.kind));
      const r = obs(sample());
      seen.push(...detectEvents(ref, l, r, NOW + i * 2 + 1).map(e => e.kind));
      prev = r;
    }
    expect(seen.filter(k => k === 'hashboard_lost')).toHaveLength(3);
    expect(seen.filter(k => k === 'hashboard_recovered')).toHaveLength(3);
  });
});
