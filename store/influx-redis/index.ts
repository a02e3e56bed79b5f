import type { Redis } from 'ioredis';
import type { Logger } from '../../runtime/logger.ts';
import type { Store } from '../store.ts';
import { redisFirmware } from './firmware.ts';
import { redisCache } from './cache.ts';
import { RedisJobs } from './jobs.ts';
import { InfluxClient, type InfluxSettings } from './influx-client.ts';
import { RedisInventory } from './inventory.ts';
import { RedisPubSub } from './pubsub.ts';
import { createRedis, redactRedisUrl } from './redis-connection.ts';
import { redisKeys, type RedisKeys } from './redis-keys.ts';
import { redisSchedules } from './schedules.ts';

const DEFAULT_FIRMWARE_DIR = './.data/firmware';
import { RedisState } from './redis-state.ts';

export interface InfluxRedisStoreOptions {
  redisUrl: string;
  redisPrefix: string;
  influx: InfluxSettings;
  log?: Logger | undefined;
  /** connection name shown in Redis CLIENT LIST */
  name?: string;
  /** folder of firmware image bytes, shared by every API replica (FIRMWARE_DIR) */
  firmwareDir?: string;
}

export interface InfluxRedisStore extends Store {
  readonly backend: 'influx-redis';
  readonly redis: Redis;
  readonly keys: RedisKeys;
  readonly influx: InfluxClient;
}

/** The farm backend: InfluxDB (v1 API) for series, Redis for state, BullMQ for jobs. */
export function openInfluxRedisStore(opts: InfluxRedisStoreOptions): InfluxRedisStore {
  const redis = createRedis(opts.redisUrl, { ...(opts.log ? { logger: opts.log } : {}), name: opts.name ?? 'bosfleet' });
  return influxRedisStoreOver({
    redis,
    keys: redisKeys(opts.redisPrefix),
    influx: new InfluxClient(opts.influx),
    location: `InfluxDB ${opts.influx.url}/${opts.influx.db}, Redis ${redactRedisUrl(opts.redisUrl)} (prefix ${opts.redisPrefix})`,
    ...(opts.log ? { log: opts.log } : {}),
    ...(opts.firmwareDir ? { firmwareDir: opts.firmwareDir } : {}),
  });
}

export interface InfluxRedisConnections {
  redis: Redis;
  keys: RedisKeys;
  influx: InfluxClient;
  location?: string;
  log?: Logger;
  /** folder of firmware image bytes (FIRMWARE_DIR). @defaultValue ./.data/firmware, FIRMWARE_DIR's default */
  firmwareDir?: string;
}

/** The store over connections the caller already holds (tests, processes that share one Redis); close() quits that Redis. */
export function influxRedisStoreOver(c: InfluxRedisConnections): InfluxRedisStore {
  const { redis, keys, influx } = c;
  const jobs = new RedisJobs(redis, keys, c.log);
  return {
    backend: 'influx-redis',
    location: c.location ?? `Redis prefix ${keys.prefix}`,
    redis,
    keys,
    influx,
    schedules: redisSchedules(redis, keys, c.log),
    firmware: redisFirmware(redis, keys, c.firmwareDir ?? DEFAULT_FIRMWARE_DIR, c.log),
    jobs,
    cache: redisCache(redis, keys),
    inventory: new RedisInventory(redis, keys),
    pubsub: new RedisPubSub(redis, keys),
    state: new RedisState(redis, keys, c.log ? { logger: c.log } : {}),
    async close() {
      await jobs.close();
      await redis.quit().catch(() => undefined);
      redis.disconnect();
    },
  };
}
