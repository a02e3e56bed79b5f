import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitForRedis } from '../../store/influx-redis/redis-connection.ts';
import { BACKENDS, openTestStore, type TestStore } from './backends.ts';

// The limits port on both backends: fixed windows per (limiter, subject) that start over.

async function open(backend: TestStore['backend']): Promise<TestStore> {
  const s = await openTestStore(backend);
  if (s.backend === 'influx-redis' && !(await waitForRedis(s.redis, 5_000))) throw new Error('test Redis not reachable');
  return s;
}

describe.each(BACKENDS)('limits port on %s', backend => {
  let store: TestStore;
  beforeEach(async () => {
    store = await open(backend);
  });
  afterEach(async () => {
    await store.destroy();
  });

  it('counts hits in a window and says when it ends', async () => {
    const first = await store.limits.hit('api', 'sub:acme/ada', 60_000);
    expect(first.count).toBe(1);
    expect(first.ttlMs).toBeGreaterThan(55_000);
    expect(first.ttlMs).toBeLessThanOrEqual(60_000);
    expect((await store.limits.hit('api', 'sub:acme/ada', 60_000)).count).toBe(2);
    const third = await store.limits.hit('api', 'sub:acme/ada', 60_000);
    expect(third.count).toBe(3);
    // The window is fixed at the first hit: later hits do not extend it.
    expect(third.ttlMs).toBeLessThanOrEqual(first.ttlMs);
  });

  it('keeps limiters and subjects apart', async () => {
    await store.limits.hit('api', 'ip:10.0.0.1', 60_000);
    await store.limits.hit('api', 'ip:10.0.0.1', 60_000);
    expect((await store.limits.hit('control', 'ip:10.0.0.1', 60_000)).count).toBe(1);
    expect((await store.limits.hit('api', 'ip:10.0.0.2', 60_000)).count).toBe(1);
    expect((await store.limits.hit('api', 'ip:10.0.0.1', 60_000)).count).toBe(3);
  });

  it('counts concurrent hits exactly, each with its own count', async () => {
    const got = await Promise.all(Array.from({ length: 50 }, () => store.limits.hit('api', 'busy', 60_000)));
    expect(got.map(r => r.count).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('starts over once the window has passed', async () => {
    await store.limits.hit('auth_failures', 'ip:10.0.0.9', 300);
    expect((await store.limits.hit('auth_failures', 'ip:10.0.0.9', 300)).count).toBe(2);
    await expect
      .poll(async () => (await store.limits.hit('auth_failures', 'ip:10.0.0.9', 300)).count, { timeout: 5_000, interval: 100 })
      .toBe(1);
  });
});
