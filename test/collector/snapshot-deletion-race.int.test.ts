import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { redisKeys } from '../../store/influx-redis/redis-keys.ts';
import type { MinerSnapshot } from '../../core/samples.ts';
import { SnapshotStore } from '../../store/influx-redis/snapshot-store.ts';

// Issue 15, security 5: a miner deleted while its poll was in flight came back as a stale
// snapshot forever (the poll's snapshot was written after the deletion, and nothing ever
// deleted it again). Real Redis, random key prefix.

const keys = redisKeys(`test:${randomUUID()}`);
let redis: Redis;

function snap(id: string, pollMs: number): MinerSnapshot {
  const ref = { id, tenant: 'acme', site: 'dc-1', address: '10.0.0.1:50051', credentials: 'default', labels: {} };
  return {
    ref,
    last_seen_ms: null,
    last_poll_ms: pollMs,
    consecutive_failures: 1,
    last_error: 'unreachable',
    status: 'offline',
    sample: null,
    details: null,
  };
}

async function present(id: string): Promise<boolean> {
  const [s, all, tenant, site] = await Promise.all([
    redis.exists(keys.snapshot(id)),
    redis.sismember(keys.allMiners(), id),
    redis.sismember(keys.tenantMiners('acme'), id),
    redis.sismember(keys.siteMiners('acme', 'dc-1'), id),
  ]);
  return s + all + tenant + site > 0;
}

beforeAll(() => {
  redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 1 });
});

afterAll(async () => {
  const stale = await redis.keys(`${keys.custom('')}*`).catch(() => [] as string[]);
  if (stale.length > 0) await redis.del(...stale);
  redis.disconnect();
});

describe('a miner removed while its poll is in flight', () => {
  it('a snapshot written after the removal does not bring it back', async () => {
    const store = new SnapshotStore(redis, keys);
    await store.writeSnapshots([snap('m-late', 1_000)]);
    await store.removeMiner('m-late');
    // The poll that was in flight when the miner was deleted reports now.
    await store.writeSnapshots([snap('m-late', 2_000)]);
    expect(await present('m-late')).toBe(false);
  });

  it('a write racing the removal does not bring it back', async () => {
    const store = new SnapshotStore(redis, keys);
    for (let round = 0; round < 18; round++) {
      const id = `m-race-${round}`;
      await store.writeSnapshots([snap(id, 1_000)]);
      const write = store.writeSnapshots([snap(id, 2_000)]);
      await Promise.all([write, store.removeMiner(id)]);
      expect(await present(id), id).toBe(false);
    }
  });

  it('a miner registered again is stored again', async () => {
    const store = new SnapshotStore(redis, keys);
    await store.writeSnapshots([snap('m-back', 1_000)]);
    await store.removeMiner('m-back');
    store.readmit(['m-back']);
    await store.writeSnapshots([snap('m-back', 3_000)]);
    expect(await present('m-back')).toBe(true);
  });
});
