import { randomUUID } from 'node:crypto';
import { influxSeriesWriter } from '../../store/influx-redis/series.ts';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { InfluxRedisEvents } from '../../store/influx-redis/events.ts';
import { InfluxClient, rowsOf, type InfluxSettings } from '../../store/influx-redis/influx-client.ts';
import { InfluxWriter } from '../../store/influx-redis/influx-writer.ts';
import { createCollectorMetrics } from '../../collector/metrics.ts';
import { createRedis, waitForRedis } from '../../store/influx-redis/redis-connection.ts';
import { redisKeys } from '../../store/influx-redis/redis-keys.ts';
import type { FleetEvent } from '../../core/samples.ts';

// Every recorded event is stored: real InfluxDB (one point per series and timestamp) and Redis.
const redis = createRedis(inject('redisUrl'));
const keys = redisKeys(`test:${randomUUID()}`);
afterAll(async () => {
  const ks = await redis.keys(`${keys.prefix}:*`);
  if (ks.length > 0) await redis.del(...ks);
  redis.disconnect();
});
beforeAll(async () => {
  await waitForRedis(redis, 5_000);
});

describe('events in one millisecond', () => {
  it('keeps three events of one kind for one miner in the same millisecond as three points', async () => {
    const settings: InfluxSettings = { url: inject('influxUrl'), db: `t_${randomUUID().replaceAll('-', '')}`, auth: 'none', flavour: '1' };
    const writer = new InfluxWriter({ settings, metrics: createCollectorMetrics(), batchSize: 100, flushIntervalMs: 60_000, bufferMaxPoints: 1_000, maxRetryDelayMs: 1_000 });
    try {
      await writer.start();
      const log = new InfluxRedisEvents({ redis, keys, writer: influxSeriesWriter(writer), maxLen: 1_000 });
      const at = Math.floor(Date.now() / 1000) * 1000 - 60_000;
      const ev = (board: string): FleetEvent => ({ time_ms: at, tenant: 'acme', site: 'dc-1', miner: 'm-1', kind: 'hashboard_recovered', severity: 'info', message: `board ${board} back`, data: { board } });
      await log.record([ev('1'), ev('2')]);
      await log.record([ev('3')]);
      await writer.flush();
      const rows = rowsOf(await new InfluxClient(settings).query(`SELECT * FROM event WHERE miner = 'm-1'`));
      expect(rows.map(r => r.message).sort()).toEqual(['board 1 back', 'board 2 back', 'board 3 back']);
      const stored = await log.recent('acme', { miner: 'm-1' });
      expect(stored).toHaveLength(3);
      // both stores carry the same (distinct) times
      expect(new Set(stored.map(e => e.time_ms)).size).toBe(3);
      expect(stored.map(e => e.time_ms).sort()).toEqual(rows.map(r => Number(r.time)).sort());
    } finally {
      await writer.close({ timeoutMs: 2_000 });
      await fetch(`${settings.url}/query`, { method: 'POST', body: new URLSearchParams({ q: `DROP DATABASE ${settings.db}` }) });
    }
  });
});
