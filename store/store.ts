/**
 * The storage ports every service, the collector and the transports depend on, bundled as one
 * Store. Each port is an interface in store/ports/; store/embedded/ and store/influx-redis/
 * implement all of them and pass one contract suite (test/store/).
 */
import type { FirmwarePort } from './ports/firmware.ts';
import type { SchedulesPort } from './ports/schedules.ts';
import type { EnergyPort } from './ports/energy.ts';
import type { CachePort } from './ports/cache.ts';
import type { JobsPort } from './ports/jobs.ts';
import type { InventoryPort } from './ports/inventory.ts';
import type { PubSubPort } from './ports/pubsub.ts';
import type { StatePort } from './ports/state.ts';
import type { EventsPort } from './ports/events.ts';
import type { LimitsPort } from './ports/limits.ts';
import type { SessionsPort } from './ports/sessions.ts';
import type { DependencyPing } from './ping.ts';
import type { SeriesPort } from './ports/series.ts';
import type { LeasesPort } from './ports/leases.ts';

export const STORE_BACKENDS = ['embedded', 'influx-redis'] as const;
export type StoreBackend = (typeof STORE_BACKENDS)[number];

export interface Store {
  readonly backend: StoreBackend;
  /** where the data lives, for the start banner, /health and logs (no secrets) */
  readonly location: string;
  readonly jobs: JobsPort;
  readonly cache: CachePort;
  readonly inventory: InventoryPort;
  readonly pubsub: PubSubPort;
  /** latest snapshots, indexes, aggregates, heartbeat, per-miner window statistics */
  readonly state: StatePort;
  /** fleet events and the control audit trail */
  readonly events: EventsPort;
  /** console sessions and one-time login codes */
  readonly sessions: SessionsPort;
  /** fixed-window counters of the rate limiters */
  readonly limits: LimitsPort;
  /** asks every dependency of the store for a sign of life, each within timeoutMs (for /health/ready) */
  ping(timeoutMs: number): Promise<DependencyPing[]>;
  close(): Promise<void>;
  readonly schedules: SchedulesPort;
  /** curtailment policies, fetched prices, executions and their step claims */
  readonly energy: EnergyPort;
  readonly firmware: FirmwarePort;
  readonly series: SeriesPort;
  /** which collector process polls which miners (collector/leases/) */
  readonly leases: LeasesPort;
}
