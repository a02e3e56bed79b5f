import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createRedis, waitForRedis } from '../../store/influx-redis/redis-connection.ts';
import { redisKeys } from '../../store/influx-redis/redis-keys.ts';
import type { MinerDetailsInfo, MinerSnapshot } from '../../core/samples.ts';
import { SnapshotStore } from '../../store/influx-redis/snapshot-store.ts';

// Real Redis. A collector that restarts while a miner is offline has never reached it: the
// miner keeps the identity it last reported (from its previous snapshot), not model null.
const redis = createRedis(inject('redisUrl'));
const keys = redisKeys(`test:${randomUUID()}`);
beforeAll(async () => {
  await waitForRedis(redis, 5_000);
});
afterAll(async () => {
  const ks = await redis.keys(`${keys.prefix}:*`);
  if (ks.length > 0) await redis.del(...ks);
  redis.disconnect();
});

const ref = { id: 'm-1', tenant: 'acme', site: 'dc-1', address: '10.0.0.1:50051', credentials: 'default', labels: {} };
const details: MinerDetailsInfo = { uid: 'u1', serial: 's1', mac: null, hostname: 'miner-1', model: 'Antminer S21', firmware: '2024-01', api_version: '1.2.0', platform: 'PLATFORM_AM3_BBB', sticker_hashrate_ghs: 200_000, fetched_ms: 1 };
const offline = (d: MinerDetailsInfo | null): MinerSnapshot => ({ ref, last_seen_ms: null, last_poll_ms: 2, consecutive_failures: 3, last_error: 'unreachable', status: 'offline', sample: null, details: d });

describe('offline identity', () => {
  it('an offline miner keeps its last reported model across a collector restart', async () => {
    await new SnapshotStore(redis, keys).writeSnapshots([offline(details)]);
    // a new collector process: this miner has not answered it yet
    const restarted = new SnapshotStore(redis, keys);
    await restarted.writeSnapshots([offline(null)]);
    await restarted.writeSnapshots([offline(null)]);
    expect((await restarted.getSnapshot('m-1'))?.details?.model).toBe('Antminer S21');
    expect(await restarted.listIds({ tenant: 'acme', model: 'Antminer S21' })).toEqual(['m-1']);
  });
});
