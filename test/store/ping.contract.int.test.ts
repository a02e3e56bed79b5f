import { describe, expect, it } from 'vitest';
import { waitForRedis } from '../../store/influx-redis/redis-connection.ts';
import { BACKENDS, openTestStore } from './backends.ts';

// store.ping() names each dependency and says whether it answers (what /health/ready reports).

const NAMES = { embedded: ['sqlite'], 'influx-redis': ['redis', 'influxdb'] } as const;

describe.each(BACKENDS)('store ping on %s', backend => {
  it('answers up for every dependency while open', async () => {
    const store = await openTestStore(backend);
    try {
      if (store.backend === 'influx-redis') await waitForRedis(store.redis, 5_000);
      const pings = await store.ping(1_500);
      expect(pings.map(p => p.name)).toEqual(NAMES[backend]);
      for (const p of pings) expect(p).toMatchObject({ status: 'up', latency_ms: expect.any(Number) });
    } finally {
      await store.destroy();
    }
  });

  it('answers down, with a message of its own, once closed', async () => {
    const store = await openTestStore(backend);
    if (store.backend === 'influx-redis') await waitForRedis(store.redis, 5_000);
    await store.close();
    try {
      const pings = await store.ping(500);
      const first = pings[0]!;
      expect(first).toMatchObject({ name: NAMES[backend][0], status: 'down' });
      expect(first.message).toMatch(/^(not reachable|unexpected answer|no answer within 500 ms)$/);
    } finally {
      const again = await store.reopen();
      if (again.backend === 'influx-redis') await waitForRedis(again.redis, 5_000);
      await again.destroy();
    }
  });
});
