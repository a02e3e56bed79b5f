/**
 * The storage ports every service, the collector and the transports depend on, bundled as one
 * Store. Each port is an interface in store/ports/; store/embedded/ and store/influx-redis/
 * implement all of them and pass one contract suite (test/store/).
 */
import type { SeriesPort } from './ports/series.ts';

export const STORE_BACKENDS = ['embedded', 'influx-redis'] as const;
export type StoreBackend = (typeof STORE_BACKENDS)[number];

export interface Store {
  readonly backend: StoreBackend;
  /** where the data lives, for the start banner, /health and logs (no secrets) */
  readonly location: string;
  close(): Promise<void>;
  readonly series: SeriesPort;
}
