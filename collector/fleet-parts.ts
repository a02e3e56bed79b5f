import { emptyAggregate } from '../core/fleet-aggregates.ts';
import type { FleetAggregate } from '../core/samples.ts';

/**
 * This collector's parts of the fleet aggregates over time. A tenant or site it no longer has a
 * miner of (handed to another collector, or removed) still gets an empty part each cycle, so its
 * last non-empty part — fresh for minutes — is not added to the new owner's.
 */
export class FleetParts {
  private readonly seen = new Map<string, { tenant: string; site: string | null }>();

  complete(aggregates: readonly FleetAggregate[], nowMs: number): FleetAggregate[] {
    const out = [...aggregates];
    const now = new Set<string>();
    for (const a of aggregates) {
      const key = `${a.tenant}\u0000${a.site ?? ''}`;
      now.add(key);
      this.seen.set(key, { tenant: a.tenant, site: a.site });
    }
    for (const [key, k] of this.seen) if (!now.has(key)) out.push(emptyAggregate(k.tenant, k.site, nowMs));
    return out;
  }
}
