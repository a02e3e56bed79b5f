import type { Redis } from 'ioredis';
import type { LimitsPort, WindowHit } from '../ports/limits.ts';
import type { RedisKeys } from './redis-keys.ts';

const WINDOW_LUA = `
local current = redis.call('INCRBY', KEYS[1], ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {current, ttl}
`;

type WindowCommand = (key: string, windowMs: number, hits: number) => Promise<[number, number]>;

interface WaitingHit {
  resolve(r: WindowHit): void;
  reject(err: unknown): void;
}

/**
 * INCRBY + PEXPIRE on first hit, atomically (one Lua script, EVALSHA after the first call).
 *
 * Hits on a key whose call is still in flight wait and go together in the next call (INCRBY n),
 * each answered with the count it would have had alone (the batch's total minus the hits after
 * it): counts stay exact, but a busy subject costs one Redis round trip per round trip rather
 * than per request.
 */
export class RedisWindowCounter implements LimitsPort {
  private readonly redis: Redis;
  private readonly keys: RedisKeys;
  /** key → hits waiting for the call in flight on that key (present while one is in flight) */
  private readonly waiting = new Map<string, WaitingHit[]>();

  constructor(redis: Redis, keys: RedisKeys) {
    this.redis = redis;
    this.keys = keys;
    if (!('bosfleetWindowIncrBy' in redis))
      redis.defineCommand('bosfleetWindowIncrBy', { numberOfKeys: 1, lua: WINDOW_LUA });
  }

  /** Count one hit; returns the count in the current window and the ms until it resets. */
  hit(limiter: string, subject: string, windowMs: number): Promise<WindowHit> {
    const key = this.keys.custom('ratelimit', limiter, subject);
    return new Promise((resolve, reject) => {
      const queue = this.waiting.get(key);
      if (queue) {
        queue.push({ resolve, reject });
        return;
      }
      this.waiting.set(key, []);
      this.send(key, windowMs, [{ resolve, reject }]);
    });
  }

  private send(key: string, windowMs: number, hits: WaitingHit[]): void {
    const cmd = (this.redis as unknown as { bosfleetWindowIncrBy: WindowCommand }).bosfleetWindowIncrBy;
    cmd
      .call(this.redis, key, windowMs, hits.length)
      .then(
        ([total, ttlMs]) => {
          const first = Number(total) - hits.length + 1;
          hits.forEach((h, i) => h.resolve({ count: first + i, ttlMs: Number(ttlMs) }));
        },
        (err: unknown) => {
          for (const h of hits) h.reject(err);
        },
      )
      .finally(() => {
        const next = this.waiting.get(key) ?? [];
        if (next.length === 0) {
          this.waiting.delete(key);
          return;
        }
        this.waiting.set(key, []);
        this.send(key, windowMs, next);
      });
  }
}
