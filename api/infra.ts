import type { Redis } from 'ioredis';
import { CredentialStore } from '../collector/credentials.ts';
import { FleetError } from '../core/errors.ts';
import type { Logger } from '../runtime/logger.ts';
import { MinerClientPool } from '../collector/miner-client-pool.ts';
import type { InfluxRedisStore } from '../store/influx-redis/index.ts';
import type { InfluxClient } from '../store/influx-redis/influx-client.ts';
import type { RedisKeys } from '../store/influx-redis/redis-keys.ts';
import { openStore } from '../store/open-store.ts';
import type { Store } from '../store/store.ts';
import { SecretBox } from '../collector/secret-box.ts';
import type { ApiConfig } from './config.ts';
import type { ApiInfra } from '../services/context.ts';

export interface InfraHandle {
  infra: ApiInfra;
  /** close miner channels, and the store when this handle opened it */
  close(): Promise<void>;
}

/**
 * The connections and shared clients every API-side process runs on (the API server, stdio MCP).
 * `store` is the one the caller already holds (one process running the collector and the API on
 * one embedded store); without it the configured store is opened here and closed by close().
 */
export function createInfra(config: ApiConfig, log: Logger, name: string, opts: { store?: Store; rateLimitConnection?: boolean } = {}): InfraHandle {
  const owned = opts.store === undefined;
  const s = opts.store ?? openStore(config, { log, name, rateLimitConnection: opts.rateLimitConnection ?? false, firmwareDir: config.FIRMWARE_DIR });
  const { redis, keys, influx } = farmConnections(s);
  const credentials = new CredentialStore({
    defaultUsername: config.MINER_DEFAULT_USERNAME,
    ...(config.MINER_DEFAULT_PASSWORD ? { defaultPassword: config.MINER_DEFAULT_PASSWORD } : {}),
    inventory: s.inventory,
    ...(config.BOSFLEET_SECRET_KEY ? { box: new SecretBox(config.BOSFLEET_SECRET_KEY) } : {}),
  });
  const minerPool = new MinerClientPool(credentials, { timeoutMs: config.MINER_RPC_TIMEOUT_MS });
  return {
    infra: { config, log, store: s, redis, keys, influx, minerPool, credentials },
    async close() {
      minerPool.closeAll();
      if (owned) await s.close();
    },
  };
}

/**
 * The old `redis` / `keys` / `influx` fields of ApiInfra, until every service reads through the
 * store's ports (then this function goes with them). On the embedded store they do not exist: any
 * use says which code has not moved yet, instead of connecting to a Redis nobody configured.
 */
function farmConnections(store: Store): { redis: Redis; keys: RedisKeys; influx: InfluxClient } {
  if (store.backend === 'influx-redis') {
    const s = store as InfluxRedisStore;
    return { redis: s.redis, keys: s.keys, influx: s.influx };
  }
  const missing = (what: string): never =>
    new Proxy({}, {
      get(_t, prop) {
        if (prop === 'then' || typeof prop === 'symbol') return undefined;
        return () => {
          throw new FleetError('unavailable', `${what}.${String(prop)} used on the embedded store; this code has not moved onto the store's ports yet`);
        };
      },
    }) as never;
  return { redis: missing('redis'), keys: missing('keys'), influx: missing('influx') };
}
