import { emptyAggregate } from '../../core/fleet-aggregates.ts';
import type { FleetAggregate } from '../../core/samples.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { Store } from '../../store/store.ts';
import type { CollectorConfig } from '../config.ts';
import type { InventoryMiner } from '../inventory/schema.ts';
import type { CollectorMetrics } from '../metrics.ts';
import { MinerLeases } from './miner-leases.ts';

/** The lease ttl of a configuration: COLLECTOR_LEASE_TTL_MS, else (0) three poll intervals. */
export function leaseTtlMsOf(c: Pick<CollectorConfig, 'COLLECTOR_LEASE_TTL_MS' | 'COLLECTOR_POLL_INTERVAL_MS'>): number {
  return c.COLLECTOR_LEASE_TTL_MS > 0 ? c.COLLECTOR_LEASE_TTL_MS : 3 * c.COLLECTOR_POLL_INTERVAL_MS;
}

/**
 * The collector's MinerLeases over its store. A member that leaves (stopped or expired) had its
 * part in every fleet aggregate: the survivors that noticed overwrite it with empty parts, so the
 * miners they took over are not counted twice while its last part is still fresh.
 */
export function startLeases(
  config: CollectorConfig,
  o: { store: Store; log: Logger; metrics: CollectorMetrics; collectorId: string; inventory: () => readonly InventoryMiner[]; onChange: () => void },
): MinerLeases {
  return new MinerLeases({
    leases: o.store.leases,
    member: o.collectorId,
    ttlMs: leaseTtlMsOf(config),
    settleMs: config.COLLECTOR_POLL_INTERVAL_MS,
    log: o.log,
    onChange: o.onChange,
    onMemberGone: member => {
      o.log.info({ member }, 'collector lease ended; its miners are taken over');
      const now = Date.now();
      const parts = new Map<string, FleetAggregate>();
      for (const m of o.inventory()) {
        parts.set(m.tenant, emptyAggregate(m.tenant, null, now));
        parts.set(`${m.tenant}\u0000${m.site}`, emptyAggregate(m.tenant, m.site, now));
      }
      o.store.state.putAggregates(member, [...parts.values()]).catch(err => o.log.warn({ member, err: (err as Error).message }, 'aggregate parts of a departed collector not cleared (store unavailable); they age out'));
    },
    gauges: { owned: n => o.metrics.leaseMinersOwned.set(n), members: n => o.metrics.leaseMembers.set(n) },
  });
}
