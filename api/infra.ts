import { influxSettingsFrom } from '../collector/config.ts';
import { CredentialStore } from '../collector/credentials.ts';
import type { Logger } from '../runtime/logger.ts';
import { MinerClientPool } from '../collector/miner-client-pool.ts';
import { openInfluxRedisStore } from '../store/influx-redis/index.ts';
import { SecretBox } from '../collector/secret-box.ts';
import type { ApiConfig } from './config.ts';
import type { ApiInfra } from '../services/context.ts';

export interface InfraHandle {
  infra: ApiInfra;
  /** close miner channels and the Redis connection */
  close(): Promise<void>;
}

/** The connections and shared clients every API-side process runs on (the API server, stdio MCP). */
export function createInfra(config: ApiConfig, log: Logger, name: string, opts: { rateLimitConnection?: boolean } = {}): InfraHandle {
  const store = openInfluxRedisStore({
    rateLimitConnection: opts.rateLimitConnection ?? false,
    redisUrl: config.REDIS_URL,
    redisPrefix: config.REDIS_PREFIX,
    influx: influxSettingsFrom(config),
    log,
    name,
    firmwareDir: config.FIRMWARE_DIR,
  });
  // Until every service reads through the store's ports, the farm connections are shared as before.
  const { redis, keys, influx } = store;
  const credentials = new CredentialStore({
    defaultUsername: config.MINER_DEFAULT_USERNAME,
    ...(config.MINER_DEFAULT_PASSWORD ? { defaultPassword: config.MINER_DEFAULT_PASSWORD } : {}),
    inventory: store.inventory,
    ...(config.BOSFLEET_SECRET_KEY ? { box: new SecretBox(config.BOSFLEET_SECRET_KEY) } : {}),
  });
  const minerPool = new MinerClientPool(credentials, { timeoutMs: config.MINER_RPC_TIMEOUT_MS });
  return {
    infra: { config, log, store, redis, keys, influx, minerPool, credentials },
    async close() {
      minerPool.closeAll();
      await store.close();
    },
  };
}
