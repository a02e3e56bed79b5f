import type { Redis } from 'ioredis';
import type { Logger } from '../../runtime/logger.ts';
import type { Store } from '../store.ts';
import { InfluxClient, type InfluxSettings } from './influx-client.ts';
import { createRedis, redactRedisUrl } from './redis-connection.ts';
import { redisKeys, type RedisKeys } from './redis-keys.ts';
import { influxSeries } from './series.ts';

export interface InfluxRedisStoreOptions {
  redisUrl: string;
  redisPrefix: string;
  influx: InfluxSettings;
  log?: Logger | undefined;
  /** connection name shown in Redis CLIENT LIST */
  name?: string;
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
  });
}

export interface InfluxRedisConnections {
  redis: Redis;
  keys: RedisKeys;
  influx: InfluxClient;
  location?: string;
  log?: Logger;
}

/** The store over connections the caller already holds (tests, processes that share one Redis); close() quits that Redis. */
export function influxRedisStoreOver(c: InfluxRedisConnections): InfluxRedisStore {
  const { redis, keys, influx } = c;
  return {
    backend: 'influx-redis',
    location: c.location ?? `Redis prefix ${keys.prefix}`,
    redis,
    keys,
    influx,
    series: influxSeries(influx),
    async close() {
      await redis.quit().catch(() => undefined);
      redis.disconnect();
    },
  };
}
