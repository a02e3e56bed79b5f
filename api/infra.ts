import { influxSettingsFrom } from '../collector/config.ts';
import { CredentialStore } from '../collector/credentials.ts';
import { InfluxClient } from '../store/influx-redis/influx-client.ts';
import type { Logger } from '../runtime/logger.ts';
import { MinerClientPool } from '../collector/miner-client-pool.ts';
import { createRedis } from '../store/influx-redis/redis-connection.ts';
import { redisKeys } from '../store/influx-redis/redis-keys.ts';
import { SecretBox } from '../collector/secret-box.ts';
import type { ApiConfig } from './config.ts';
import type { ApiInfra } from '../services/context.ts';

export interface InfraHandle {
  infra: ApiInfra;
  /** close miner channels and the Redis connection */
  close(): Promise<void>;
}

/** The connections and shared clients every API-side process runs on (the API server, stdio MCP). */
export function createInfra(config: ApiConfig, log: Logger, name: string): InfraHandle {
  const keys = redisKeys(config.REDIS_PREFIX);
  const redis = createRedis(config.REDIS_URL, { logger: log, name });
  const influx = new InfluxClient(influxSettingsFrom(config));
  const credentials = new CredentialStore({
    defaultUsername: config.MINER_DEFAULT_USERNAME,
    ...(config.MINER_DEFAULT_PASSWORD ? { defaultPassword: config.MINER_DEFAULT_PASSWORD } : {}),
    redis,
    keys,
    ...(config.BOSFLEET_SECRET_KEY ? { box: new SecretBox(config.BOSFLEET_SECRET_KEY) } : {}),
  });
  const minerPool = new MinerClientPool(credentials, { timeoutMs: config.MINER_RPC_TIMEOUT_MS });
  return {
    infra: { config, log, redis, keys, influx, minerPool, credentials },
    async close() {
      minerPool.closeAll();
      await redis.quit().catch(() => undefined);
      redis.disconnect();
    },
  };
}
