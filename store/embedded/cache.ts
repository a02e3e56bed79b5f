import type { CachePort } from '../ports/cache.ts';

/** Short-lived values in this process's memory: one process, and losing them on a restart costs one re-read. */
export function memoryCache(now: () => number = Date.now): CachePort {
  const entries = new Map<string, { value: string; expiresMs: number }>();
  const name = (key: readonly string[]): string => JSON.stringify(key);
  return {
    async get(key) {
      const k = name(key);
      const e = entries.get(k);
      if (!e) return null;
      if (e.expiresMs <= now()) {
        entries.delete(k);
        return null;
      }
      return e.value;
    },
    async set(key, value, ttlMs) {
      const t = now();
      // Expired entries are swept on writes so the map stays bounded by what is live.
      if (entries.size > 0 && entries.size % 1024 === 0) for (const [k, e] of entries) if (e.expiresMs <= t) entries.delete(k);
      entries.set(name(key), { value, expiresMs: t + ttlMs });
    },
    async del(key) {
      entries.delete(name(key));
    },
  };
}
