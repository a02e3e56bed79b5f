import { boardHashing } from './normalize.ts';
import type { FleetEvent, HealthStatus, MinerRef, MinerSample } from './samples.ts';

/** What the detector remembers of a miner between polls. */
export interface MinerObservation {
  status: HealthStatus;
  sample: MinerSample | null;
  firmware: string | null;
  uptimeS: number | null;
}

function ev(ref: MinerRef, timeMs: number, kind: FleetEvent['kind'], severity: FleetEvent['severity'], message: string, data?: FleetEvent['data']): FleetEvent {
  return { time_ms: timeMs, tenant: ref.tenant, site: ref.site, miner: ref.id, kind, severity, message, ...(data ? { data } : {}) };
}

/**
 * Compares two observations of one miner and names what happened in between: offline and
 * back, status changes, reboots (uptime went down), hashboards lost or back, overheating,
 * dead pools, firmware changes. Pure, so each rule is testable on its own.
 */
export function detectEvents(ref: MinerRef, prev: MinerObservation | null, next: MinerObservation, timeMs: number): FleetEvent[] {
  if (!prev) return [];
  const out: FleetEvent[] = [];
  if (prev.status !== 'offline' && next.status === 'offline') {
    out.push(ev(ref, timeMs, 'miner_offline', 'critical', `miner ${ref.id} stopped answering`));
  } else if (prev.status === 'offline' && next.status !== 'offline') {
    out.push(ev(ref, timeMs, 'miner_online', 'info', `miner ${ref.id} is reachable again (${next.status})`));
  } else if (prev.status !== next.status) {
    out.push(ev(ref, timeMs, 'status_changed', next.status === 'degraded' ? 'warning' : 'info', `miner ${ref.id} status ${prev.status} -> ${next.status}`, { from: prev.status, to: next.status }));
  }
  if (prev.uptimeS !== null && next.uptimeS !== null && next.uptimeS + 30 < prev.uptimeS) {
    out.push(ev(ref, timeMs, 'reboot_detected', 'warning', `miner ${ref.id} restarted (uptime ${prev.uptimeS}s -> ${next.uptimeS}s)`, { uptime_before_s: prev.uptimeS, uptime_after_s: next.uptimeS }));
  }
  if (prev.firmware && next.firmware && prev.firmware !== next.firmware) {
    out.push(ev(ref, timeMs, 'firmware_changed', 'info', `miner ${ref.id} firmware ${prev.firmware} -> ${next.firmware}`, { from: prev.firmware, to: next.firmware }));
  }
  const a = prev.sample;
  const b = next.sample;
  if (a && b) {
    const down = (s: MinerSample): Set<string> => new Set(s.hashboards.filter(h => h.enabled && !boardHashing(h)).map(h => h.board));
    if (b.miner_status === 'normal' && a.miner_status === 'normal') {
      const before = down(a);
      const after = down(b);
      for (const board of after) if (!before.has(board)) out.push(ev(ref, timeMs, 'hashboard_lost', 'critical', `miner ${ref.id} hashboard ${board} stopped hashing`, { board }));
      for (const board of before) if (!after.has(board)) out.push(ev(ref, timeMs, 'hashboard_recovered', 'info', `miner ${ref.id} hashboard ${board} is hashing again`, { board }));
    }
    if (!a.degraded_reasons.includes('overheating') && b.degraded_reasons.includes('overheating')) {
      out.push(ev(ref, timeMs, 'overheating', 'critical', `miner ${ref.id} is overheating (chip ${b.temp_chip_max_c ?? '?'} °C)`, { temp_chip_max_c: b.temp_chip_max_c ?? -1 }));
    }
    if (!a.degraded_reasons.includes('pool_dead') && b.degraded_reasons.includes('pool_dead')) {
      out.push(ev(ref, timeMs, 'pool_dead', 'critical', `miner ${ref.id} has no alive pool`));
    }
  }
  return out;
}
