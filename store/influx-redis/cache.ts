import type { Redis } from 'ioredis';
import type { CachePort } from '../ports/cache.ts';
import type { RedisKeys } from './redis-keys.ts';

/** The constraints cache and other short-lived values, as Redis strings with a TTL. */
export function redisCache(redis: Redis, keys: RedisKeys): CachePort {
  return {
    get: key => redis.get(keys.custom(...key)),
    set: async (key, value, ttlMs) => {
      await redis.set(keys.custom(...key), value, 'PX', ttlMs);
    },
    del: async key => {
      await redis.del(keys.custom(...key));
    },
  };
}
