import { randomUUID } from 'node:crypto';
import { toLines } from '../../store/influx-redis/line-protocol.ts';
import { influxSeriesWriter } from '../../store/influx-redis/series.ts';
import type { SeriesPoint } from '../../store/ports/series.ts';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { InfluxRedisEvents } from '../../store/influx-redis/events.ts';
import { InfluxClient, rowsOf, type InfluxSettings } from '../../store/influx-redis/influx-client.ts';
import { InfluxWriter } from '../../store/influx-redis/influx-writer.ts';
import { createCollectorMetrics, type CollectorMetrics } from '../../collector/metrics.ts';
import { createRedis, waitForRedis } from '../../store/influx-redis/redis-connection.ts';
import { redisKeys, type RedisKeys } from '../../store/influx-redis/redis-keys.ts';
import type { EventKind, FleetEvent } from '../../core/samples.ts';

// Events go to real InfluxDB (through InfluxWriter) and to a real Redis stream per tenant.

const T0 = Math.floor(Date.now() / 60_000) * 60_000 - 600_000;
const KINDS: EventKind[] = ['miner_offline', 'miner_online', 'control_action'];

function ev(i: number, over: Partial<FleetEvent> = {}): FleetEvent {
  return {
    time_ms: T0 + i * 1_000,
    tenant: 'acme',
    site: 'dc-1',
    miner: `m-${i % 4}`,
    kind: KINDS[i % 3]!,
    severity: i % 3 === 0 ? 'warning' : 'info',
    message: `event ${i}`,
    ...(i % 3 === 2 ? { actor: 'alice', result: 'ok', data: { power_target_w: 3000 + i } } : {}),
    ...over,
  };
}

describe('InfluxRedisEvents (the farm backend of the events port)', () => {
  let redis: Redis;
  let keys: RedisKeys;
  let metrics: CollectorMetrics;
  const lines: string[] = [];
  const sink = { write: (l: readonly SeriesPoint[]) => void lines.push(...toLines(l)) };

  beforeEach(async () => {
    redis = createRedis(inject('redisUrl'));
    await waitForRedis(redis, 5_000);
    keys = redisKeys(`test:${randomUUID()}`);
    metrics = createCollectorMetrics();
    lines.length = 0;
  });

  afterEach(async () => {
    const ks = await redis.keys(`${keys.prefix}:*`);
    if (ks.length > 0) await redis.del(...ks);
    redis.disconnect();
  });

  it('round-trips through the Redis stream newest first, with filters, and counts by kind', async () => {
    const log = new InfluxRedisEvents({ redis, keys, writer: sink, maxLen: 1_000, metrics });
    const events = Array.from({ length: 30 }, (_, i) => ev(i));
    await log.record(events);
    await log.record([ev(100, { tenant: 'beta', miner: 'b-1' })]);
    expect(lines).toHaveLength(31);

    const recent = await log.recent('acme', { limit: 5 });
    expect(recent.map(e => e.message)).toEqual(['event 29', 'event 28', 'event 27', 'event 26', 'event 25']);
    expect(recent[0]!.id).toMatch(/^\d+-\d+$/);
    const { id: _id, ...first } = recent[2]!;
    expect(first).toEqual(events[27]); // data, actor, result preserved
    expect((await log.recent('acme', { miner: 'm-1', limit: 100 })).map(e => e.message)).toEqual(
      events
        .filter(e => e.miner === 'm-1')
        .reverse()
        .map(e => e.message),
    );
    expect(
      (await log.recent('acme', { kind: 'control_action', sinceMs: T0 + 20_000 })).map(e => e.message),
    ).toEqual(['event 29', 'event 26', 'event 23', 'event 20']);
    expect((await log.recent('beta')).map(e => e.miner)).toEqual(['b-1']);
    expect(await log.recent('nobody')).toEqual([]);

    const byKind = Object.fromEntries((await metrics.events.get()).values.map(v => [v.labels.kind, v.value]));
    expect(byKind).toEqual({ miner_offline: 10, miner_online: 11, control_action: 10 });
  });

  it('caps each tenant stream near maxLen', async () => {
    const log = new InfluxRedisEvents({ redis, keys, writer: sink, maxLen: 100 });
    for (let b = 0; b < 10; b++) await log.record(Array.from({ length: 100 }, (_, i) => ev(b * 100 + i)));
    const len = await redis.xlen(keys.events('acme'));
    // MAXLEN ~ trims whole stream nodes (100 entries each by default): at least maxLen, never far beyond it.
    expect(len).toBeGreaterThanOrEqual(100);
    expect(len).toBeLessThanOrEqual(200);
    const recent = await log.recent('acme', { limit: 10_000 });
    expect(recent.length).toBe(100); // limit is capped at maxLen
    expect(recent[0]!.message).toBe('event 999');
  });

  it('writes event points that read back from InfluxDB', async () => {
    const settings: InfluxSettings = {
      url: inject('influxUrl'),
      db: `t_${randomUUID().replaceAll('-', '')}`,
      auth: 'none',
      flavour: '1',
    };
    const writer = new InfluxWriter({
      settings,
      metrics: createCollectorMetrics(),
      batchSize: 100,
      flushIntervalMs: 60_000,
      bufferMaxPoints: 1_000,
      maxRetryDelayMs: 1_000,
    });
    try {
      await writer.start();
      const log = new InfluxRedisEvents({ redis, keys, writer: influxSeriesWriter(writer), maxLen: 1_000 });
      await log.record([ev(2, { message: 'set "power" \\ target' }), ev(3)]);
      await writer.flush();
      const rows = rowsOf(await new InfluxClient(settings).query('SELECT * FROM event ORDER BY time'));
      expect(rows).toEqual([
        {
          time: T0 + 2_000,
          tenant: 'acme',
          site: 'dc-1',
          miner: 'm-2',
          kind: 'control_action',
          severity: 'info',
          message: 'set "power" \\ target',
          actor: 'alice',
          result: 'ok',
          data: '{"power_target_w":3002}',
        },
        {
          time: T0 + 3_000,
          tenant: 'acme',
          site: 'dc-1',
          miner: 'm-3',
          kind: 'miner_offline',
          severity: 'warning',
          message: 'event 3',
          actor: null,
          result: null,
          data: null,
        },
      ]);
    } finally {
      await writer.close({ timeoutMs: 2_000 });
      await fetch(`${settings.url}/query`, {
        method: 'POST',
        body: new URLSearchParams({ q: `DROP DATABASE ${settings.db}` }),
      });
    }
  });

  it('still queues the InfluxDB point and throws FleetError(unavailable) when Redis is gone', async () => {
    const dead = createRedis('redis://127.0.0.1:1', { lazyConnect: true });
    const log = new InfluxRedisEvents({ redis: dead, keys, writer: sink, maxLen: 100, metrics });
    await expect(log.record([ev(1)])).rejects.toMatchObject({ code: 'unavailable' });
    expect(lines).toHaveLength(1);
    await expect(log.recent('acme')).rejects.toMatchObject({ code: 'unavailable' });
    expect((await metrics.redisErrors.get()).values[0]?.value).toBe(1);
    dead.disconnect();
  });
});
