/**
 * The storage ports every service, the collector and the transports depend on, bundled as one
 * Store. Each port is an interface in store/ports/; store/embedded/ and store/influx-redis/
 * implement all of them and pass one contract suite (test/store/).
 */
import type { EventsPort } from './ports/events.ts';
import type { LimitsPort } from './ports/limits.ts';
import type { SessionsPort } from './ports/sessions.ts';
import type { DependencyPing } from './ping.ts';

export const STORE_BACKENDS = ['embedded', 'influx-redis'] as const;
export type StoreBackend = (typeof STORE_BACKENDS)[number];

export interface Store {
  readonly backend: StoreBackend;
  /** where the data lives, for the start banner, /health and logs (no secrets) */
  readonly location: string;
  /** fleet events and the control audit trail */
  readonly events: EventsPort;
  /** console sessions and one-time login codes */
  readonly sessions: SessionsPort;
  /** fixed-window counters of the rate limiters */
  readonly limits: LimitsPort;
  /** asks every dependency of the store for a sign of life, each within timeoutMs (for /health/ready) */
  ping(timeoutMs: number): Promise<DependencyPing[]>;
  close(): Promise<void>;
}
