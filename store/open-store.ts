import { homedir } from 'node:os';
import { join } from 'node:path';
import { Gauge, type Registry } from 'prom-client';
import { influxSettingsFrom, type CollectorConfig } from '../collector/config.ts';
import type { Logger } from '../runtime/logger.ts';
import { openEmbeddedStore } from './embedded/index.ts';
import { openInfluxRedisStore } from './influx-redis/index.ts';
import type { Store } from './store.ts';

/** The keys that choose and reach a store; every component's config has them (collector/config.ts). */
export type StoreConfig = Pick<
  CollectorConfig,
  | 'BOSFLEET_STORE'
  | 'BOSFLEET_DATA_DIR'
  | 'REDIS_URL'
  | 'REDIS_PREFIX'
  | 'INFLUX_URL'
  | 'INFLUX_DB'
  | 'INFLUX_FLAVOUR'
  | 'INFLUX_AUTH'
  | 'INFLUX_USERNAME'
  | 'INFLUX_PASSWORD'
  | 'INFLUX_TOKEN'
  | 'INFLUX_TIMEOUT_MS'
>;

export interface OpenStoreOptions {
  log?: Logger | undefined;
  /** connection name shown in Redis CLIENT LIST (influx-redis) */
  name?: string;
  /** for the default data folder (XDG_DATA_HOME, HOME); default process.env */
  env?: NodeJS.ProcessEnv;
  /** influx-redis: a separate, impatient Redis connection for the rate limiters (the API) */
  rateLimitConnection?: boolean;
  /** influx-redis: folder of firmware image bytes (FIRMWARE_DIR) */
  firmwareDir?: string;
}

/** $XDG_DATA_HOME/bos-fleet, else ~/.local/share/bos-fleet (the XDG base directory default). */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_DATA_HOME;
  // XDG says a relative XDG_DATA_HOME is invalid and must be ignored.
  if (xdg && xdg.startsWith('/')) return join(xdg, 'bos-fleet');
  return join(env.HOME || homedir(), '.local', 'share', 'bos-fleet');
}

export function dataDirOf(config: Pick<StoreConfig, 'BOSFLEET_DATA_DIR'>, env: NodeJS.ProcessEnv = process.env): string {
  return config.BOSFLEET_DATA_DIR ?? defaultDataDir(env);
}

/**
 * The Store the configuration names. The embedded store takes the data folder's lock here, so a
 * second process on the same folder fails now with FleetError 'conflict' (one line, no stack).
 */
export function openStore(config: StoreConfig, o: OpenStoreOptions = {}): Store {
  if (config.BOSFLEET_STORE === 'embedded') {
    return openEmbeddedStore({ dataDir: dataDirOf(config, o.env), log: o.log });
  }
  return openInfluxRedisStore({
    redisUrl: config.REDIS_URL,
    redisPrefix: config.REDIS_PREFIX,
    influx: influxSettingsFrom(config),
    log: o.log,
    ...(o.name ? { name: o.name } : {}),
    ...(o.rateLimitConnection ? { rateLimitConnection: true } : {}),
    ...(o.firmwareDir ? { firmwareDir: o.firmwareDir } : {}),
  });
}

/** The start line: which backend and where its data is. */
export function storeLine(store: Pick<Store, 'backend' | 'location'>): string {
  return `store: ${store.backend} (${store.location})`;
}

/** `bosfleet_store_backend_info{backend="…"} 1` on a process's registry, for dashboards and alerts. */
export function registerStoreInfo(registry: Registry, store: Pick<Store, 'backend'>): void {
  const name = 'bosfleet_store_backend_info';
  if (registry.getSingleMetric(name)) return;
  const g = new Gauge({ name, help: 'The storage backend this process runs on (always 1).', labelNames: ['backend'], registers: [registry] });
  g.set({ backend: store.backend }, 1);
}
