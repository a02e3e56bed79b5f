import { MEASUREMENTS, type FleetEvent, type MinerRef, type MinerSample } from '../core/samples.ts';
import type { SeriesPoint } from '../store/ports/series.ts';

/**
 * MinerSample / FleetEvent -> series points (core/series-schema.ts says which fields are
 * integers). This is the hot path (10k miners x ~10 points every 10 s): plain object literals,
 * no copying; the store renders them (line protocol, SQLite rows). Null, NaN and ±Infinity are
 * left out by the store; tags are given in key order.
 */

/** Tags of `miner` (and its rollups). */
export function minerTags(ref: MinerRef, model: string | null | undefined): SeriesPoint['tags'] {
  return { miner: ref.id, model, site: ref.site, tenant: ref.tenant };
}

/** All points of one successful poll: miner, then hashboards, fans, pools. */
export function samplePoints(s: MinerSample): SeriesPoint[] {
  const t = s.time_ms;
  const out: SeriesPoint[] = [
    {
      measurement: MEASUREMENTS.miner,
      tags: minerTags(s.ref, s.model),
      fields: {
        up: 1,
        status: s.status,
        hashrate_ghs: s.hashrate_ghs,
        hashrate_5m_ghs: s.hashrate_5m_ghs,
        hashrate_nominal_ghs: s.hashrate_nominal_ghs,
        hashrate_nominal_reported_ghs: s.hashrate_nominal_reported_ghs,
        hashrate_error_mhs: s.hashrate_error_mhs,
        power_w: s.power_w,
        power_target_w: s.power_target_w,
        efficiency_jth: s.efficiency_jth,
        temp_chip_max_c: s.temp_chip_max_c,
        temp_board_max_c: s.temp_board_max_c,
        fan_rpm_min: s.fan_rpm_min,
        fan_rpm_avg: s.fan_rpm_avg,
        shares_accepted: s.shares_accepted,
        shares_rejected: s.shares_rejected,
        shares_stale: s.shares_stale,
        tuner_state: s.tuner_state,
        uptime_s: s.uptime_s,
        system_uptime_s: s.system_uptime_s,
        boards_hashing: s.boards_hashing,
        boards_total: s.boards_total,
        firmware: s.firmware,
      },
      time_ms: t,
    },
  ];
  const { id: miner, site, tenant } = s.ref;
  for (const b of s.hashboards) {
    out.push({
      measurement: MEASUREMENTS.hashboard,
      tags: { board: b.board, miner, site, tenant },
      fields: {
        hashrate_ghs: b.hashrate_ghs,
        hashrate_nominal_ghs: b.hashrate_nominal_ghs,
        hashrate_error_mhs: b.hashrate_error_mhs,
        temp_chip_c: b.temp_chip_c,
        temp_board_c: b.temp_board_c,
        temp_inlet_c: b.temp_inlet_c,
        temp_outlet_c: b.temp_outlet_c,
        voltage_v: b.voltage_v,
        frequency_mhz: b.frequency_mhz,
        chips: b.chips,
        enabled: b.enabled,
      },
      time_ms: t,
    });
  }
  for (const fan of s.fans) {
    out.push({
      measurement: MEASUREMENTS.fan,
      tags: { fan: fan.fan, miner, site, tenant },
      fields: { rpm: fan.rpm, pwm_ratio: fan.pwm_ratio },
      time_ms: t,
    });
  }
  for (const p of s.pools) {
    out.push({
      measurement: MEASUREMENTS.pool,
      tags: { group: p.group, miner, pool: p.pool, site, tenant },
      fields: { accepted: p.accepted, rejected: p.rejected, stale: p.stale, alive: p.alive, active: p.active, enabled: p.enabled },
      time_ms: t,
    });
  }
  return out;
}

/**
 * The point of a poll that did not reach the miner: `up=0`, `status="offline"`, nothing else,
 * so availability is mean(up) and last-known values are never repeated as if fresh. Pass the
 * last known model so the point lands in the same series as the miner's online points.
 */
export function offlinePoint(ref: MinerRef, model: string | null, timeMs: number): SeriesPoint {
  return { measurement: MEASUREMENTS.miner, tags: minerTags(ref, model), fields: { up: 0, status: 'offline' }, time_ms: timeMs };
}

/** The audit-trail point of a FleetEvent (`data`, when present, as a JSON string field). */
export function eventPoint(e: FleetEvent): SeriesPoint {
  return {
    measurement: MEASUREMENTS.event,
    tags: { kind: e.kind, miner: e.miner, severity: e.severity, site: e.site, tenant: e.tenant },
    fields: {
      message: e.message,
      actor: e.actor,
      result: e.result,
      data: e.data && Object.keys(e.data).length > 0 ? JSON.stringify(e.data) : null,
    },
    time_ms: e.time_ms,
  };
}
