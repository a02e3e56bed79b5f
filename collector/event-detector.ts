import { boardHashing } from './normalize.ts';
import type { FleetEvent, HealthStatus, MinerRef, MinerSample } from '../core/samples.ts';

/** What the detector remembers of a miner between polls. */
export interface MinerObservation {
  status: HealthStatus;
  sample: MinerSample | null;
  firmware: string | null;
  /** bosminer (mining daemon) uptime */
  uptimeS: number | null;
  /** control board uptime; null when unknown */
  systemUptimeS?: number | null;
  /**
   * Boards reported lost (hashboard_lost) and not yet back; set by detectEvents on `next`, so
   * hashboard_recovered is only ever said of a board that was said lost.
   */
  lostBoards?: string[];
}

/** A control action the product performed on a miner (a `control_action` event). */
export interface AuditedAction {
  time_ms: number;
  action: string;
  actor: string | null;
}

/** An action recorded up to this long before a restart (or shortly after: clocks) caused it. */
const ACTION_BEFORE_RESTART_MS = 10 * 60_000;
const ACTION_AFTER_RESTART_MS = 30_000;

function ev(ref: MinerRef, timeMs: number, kind: FleetEvent['kind'], severity: FleetEvent['severity'], message: string, data?: FleetEvent['data']): FleetEvent {
  return { time_ms: timeMs, tenant: ref.tenant, site: ref.site, miner: ref.id, kind, severity, message, ...(data ? { data } : {}) };
}

/**
 * Compares two observations of one miner and names what happened in between: offline and
 * back, status changes, reboots (uptime went down), hashboards lost or back, overheating,
 * dead pools, firmware changes. Pure, so each rule is testable on its own.
 */
export function detectEvents(ref: MinerRef, prev: MinerObservation | null, next: MinerObservation, timeMs: number): FleetEvent[] {
  if (!prev) {
    // A board already down at first sight was never said lost, so its return is not news either.
    next.lostBoards = [];
    return [];
  }
  const out: FleetEvent[] = [];
  if (prev.status !== 'offline' && next.status === 'offline') {
    out.push(ev(ref, timeMs, 'miner_offline', 'critical', `miner ${ref.id} stopped answering`));
  } else if (prev.status === 'offline' && next.status !== 'offline') {
    out.push(ev(ref, timeMs, 'miner_online', 'info', `miner ${ref.id} is reachable again (${next.status})`));
  } else if (prev.status !== next.status) {
    out.push(ev(ref, timeMs, 'status_changed', next.status === 'degraded' ? 'warning' : 'info', `miner ${ref.id} status ${prev.status} -> ${next.status}`, { from: prev.status, to: next.status }));
  }
  // A system reboot resets the control board's uptime; a mining restart only bosminer's. A
  // stopped bosminer has no uptime, so stop and start are status changes, not restarts.
  const sysBefore = prev.systemUptimeS ?? null;
  const sysAfter = next.systemUptimeS ?? null;
  const stopped = (o: MinerObservation): boolean => o.sample?.miner_status === 'not_started';
  if (sysBefore !== null && sysAfter !== null && sysAfter + 30 < sysBefore) {
    out.push(ev(ref, timeMs, 'reboot_detected', 'warning', `miner ${ref.id} rebooted (system uptime ${sysBefore}s -> ${sysAfter}s)`, { restart: 'system', uptime_before_s: sysBefore, uptime_after_s: sysAfter }));
  } else if (prev.uptimeS !== null && next.uptimeS !== null && next.uptimeS + 30 < prev.uptimeS && !stopped(prev) && !stopped(next)) {
    out.push(ev(ref, timeMs, 'mining_restarted', 'warning', `miner ${ref.id} restarted mining (bosminer uptime ${prev.uptimeS}s -> ${next.uptimeS}s; the system kept running)`, { restart: 'mining', uptime_before_s: prev.uptimeS, uptime_after_s: next.uptimeS }));
  }
  if (prev.firmware && next.firmware && prev.firmware !== next.firmware) {
    out.push(ev(ref, timeMs, 'firmware_changed', 'info', `miner ${ref.id} firmware ${prev.firmware} -> ${next.firmware}`, { from: prev.firmware, to: next.firmware }));
  }
  const a = prev.sample;
  const b = next.sample;
  const down = (s: MinerSample): Set<string> => new Set(s.hashboards.filter(h => h.enabled && !boardHashing(h)).map(h => h.board));
  // Boards said lost and not said back; an observation made outside detectEvents has none
  // recorded, and its own down boards stand in.
  const lost = new Set(prev.lostBoards ?? (a?.miner_status === 'normal' ? down(a) : []));
  if (b && b.miner_status === 'normal') {
    const after = down(b);
    for (const board of after)
      if (!lost.has(board)) {
        lost.add(board);
        out.push(ev(ref, timeMs, 'hashboard_lost', 'critical', `miner ${ref.id} hashboard ${board} stopped hashing`, { board }));
      }
    for (const board of [...lost])
      if (!after.has(board)) {
        lost.delete(board);
        out.push(ev(ref, timeMs, 'hashboard_recovered', 'info', `miner ${ref.id} hashboard ${board} is hashing again`, { board }));
      }
  }
  next.lostBoards = [...lost];
  if (a && b) {
    if (!a.degraded_reasons.includes('overheating') && b.degraded_reasons.includes('overheating')) {
      out.push(ev(ref, timeMs, 'overheating', 'critical', `miner ${ref.id} is overheating (chip ${b.temp_chip_max_c ?? '?'} °C)`, { temp_chip_max_c: b.temp_chip_max_c ?? -1 }));
    }
    if (!a.degraded_reasons.includes('pool_dead') && b.degraded_reasons.includes('pool_dead')) {
      out.push(ev(ref, timeMs, 'pool_dead', 'critical', `miner ${ref.id} has no alive pool`));
    }
  }
  return out;
}

/** Restart events (reboot_detected, mining_restarted) whose restart an audited control action explains. */
export function isRestartEvent(e: FleetEvent): boolean {
  return e.kind === 'reboot_detected' || e.kind === 'mining_restarted';
}

/**
 * A restart the product itself caused is not a fault: when a successful control action on the
 * miner was recorded shortly before the restart (its time is the event time minus the new
 * uptime), the event becomes `planned_restart`, naming the action and who asked for it.
 */
export function attributeRestart(e: FleetEvent, actions: readonly AuditedAction[]): FleetEvent {
  if (!isRestartEvent(e)) return e;
  const after = Number(e.data?.uptime_after_s ?? 0);
  const restartedMs = e.time_ms - after * 1000;
  const cause = actions
    .filter(a => a.time_ms >= restartedMs - ACTION_BEFORE_RESTART_MS && a.time_ms <= restartedMs + ACTION_AFTER_RESTART_MS)
    .sort((x, y) => y.time_ms - x.time_ms)[0];
  if (!cause) return e;
  const what = e.kind === 'reboot_detected' ? 'rebooted' : 'restarted mining';
  return {
    ...e,
    kind: 'planned_restart',
    severity: 'info',
    message: `miner ${e.miner} ${what} after the control action ${cause.action}${cause.actor ? ` by ${cause.actor}` : ''}`,
    data: { ...e.data, action: cause.action, ...(cause.actor ? { actor: cause.actor } : {}) },
  };
}
