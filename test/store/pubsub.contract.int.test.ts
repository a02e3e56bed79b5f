import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Subscription } from '../../store/ports/pubsub.ts';
import { waitForRedis } from '../../store/influx-redis/redis-connection.ts';
import { BACKENDS, openTestStore, type TestStore } from './backends.ts';

async function until(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 20));
  }
}

describe.each(BACKENDS)('pub/sub port on %s', backend => {
  let store: TestStore;
  const subs: Subscription[] = [];

  beforeEach(async () => {
    store = await openTestStore(backend);
    // The farm connection has no offline queue: wait until it is connected.
    if (store.backend === 'influx-redis') expect(await waitForRedis(store.redis, 5_000)).toBe(true);
  });

  afterEach(async () => {
    for (const s of subs.splice(0)) await s.close();
    await store.destroy();
  });

  it('delivers a published change to every subscriber, after it was listening', async () => {
    const a: string[] = [];
    const b: string[] = [];
    let listening = 0;
    subs.push(
      await store.pubsub.subscribeInventoryChanges({
        onMessage: m => a.push(m),
        onListening: async () => void listening++,
      }),
    );
    // Resolved only once listening: a change published now is not lost.
    expect(listening).toBe(1);
    subs.push(await store.pubsub.subscribeInventoryChanges({ onMessage: m => b.push(m) }));
    await store.pubsub.publishInventoryChange({ type: 'inventory', op: 'upsert', id: 'm1', tenant: 'acme' });
    await store.pubsub.publishInventoryChange({ type: 'inventory', op: 'remove', id: 'm1', tenant: 'acme' });
    await until('both messages at both subscribers', () => a.length === 2 && b.length === 2);
    expect(a.map(m => JSON.parse(m))).toEqual([
      { type: 'inventory', op: 'upsert', id: 'm1', tenant: 'acme' },
      { type: 'inventory', op: 'remove', id: 'm1', tenant: 'acme' },
    ]);
    expect(b).toEqual(a);
  });

  it('reports a failing onListening instead of dropping it', async () => {
    const errors: string[] = [];
    subs.push(
      await store.pubsub.subscribeInventoryChanges({
        onMessage: () => undefined,
        onListening: async () => {
          throw new Error('reload failed');
        },
        onError: err => errors.push(err.message),
      }),
    );
    await until('the error reported', () => errors.length > 0);
    expect(errors[0]).toBe('reload failed');
  });
});
