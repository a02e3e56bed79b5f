import type { FleetEvent } from '../core/samples.ts';

/**
 * InfluxDB keeps one point per series and timestamp: two events of one kind for one miner in the
 * same millisecond would overwrite each other. Each later one moves to the next free millisecond
 * of its series and keeps that time everywhere. Both adapters apply it so they store the same times.
 */
export class DistinctEventTimes {
  /** last timestamp written per event series (tenant, site, miner, kind, severity) */
  private readonly lastTimes = new Map<string, number>();

  apply(e: FleetEvent): FleetEvent {
    const key = `${e.tenant}\u0000${e.site}\u0000${e.miner}\u0000${e.kind}\u0000${e.severity}`;
    const last = this.lastTimes.get(key);
    const time = last !== undefined && e.time_ms <= last ? last + 1 : Math.round(e.time_ms);
    this.lastTimes.set(key, time);
    if (this.lastTimes.size > 10_000) {
      // Only series written within the last minute can still collide with a new event.
      for (const [k, t] of this.lastTimes) if (t < time - 60_000) this.lastTimes.delete(k);
    }
    return time === e.time_ms ? e : { ...e, time_ms: time };
  }
}
