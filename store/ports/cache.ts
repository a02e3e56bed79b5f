/**
 * Short-lived values that are cheap to lose (miner constraints read from the miner). Keys are
 * parts joined by the adapter; values are strings the caller serialises.
 */
export interface CachePort {
  get(key: readonly string[]): Promise<string | null>;
  set(key: readonly string[], value: string, ttlMs: number): Promise<void>;
  del(key: readonly string[]): Promise<void>;
}
