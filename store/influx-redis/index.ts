import type { Redis } from 'ioredis';
import type { Logger } from '../../runtime/logger.ts';
import type { Store } from '../store.ts';
import { redisFirmware } from './firmware.ts';
import { redisCache } from './cache.ts';
import { RedisJobs } from './jobs.ts';
import { InfluxClient, type InfluxSettings } from './influx-client.ts';
import { RedisInventory } from './inventory.ts';
import { RedisPubSub } from './pubsub.ts';
import { createCollectorMetrics, type CollectorMetrics } from '../../collector/metrics.ts';
import { InfluxRedisEvents, type EventPointWriter } from './events.ts';
import { InfluxWriter } from './influx-writer.ts';
import { RedisSessions } from './sessions.ts';
import { RedisWindowCounter } from './window-counter.ts';
import { timedPing } from '../ping.ts';
import { createRedis, redactRedisUrl } from './redis-connection.ts';
import { redisKeys, type RedisKeys } from './redis-keys.ts';
import { redisSchedules } from './schedules.ts';
import { redisEnergy } from './energy.ts';
import { toLines } from './line-protocol.ts';
import type { SeriesPoint } from '../ports/series.ts';

const DEFAULT_FIRMWARE_DIR = './.data/firmware';
import { RedisState } from './redis-state.ts';
import type { SnapshotStoreOptions } from './snapshot-store.ts';
import { influxSeries } from './series.ts';
import { RedisLeases } from './leases.ts';

export interface InfluxRedisStoreOptions {
  redisUrl: string;
  redisPrefix: string;
  influx: InfluxSettings;
  log?: Logger | undefined;
  /** connection name shown in Redis CLIENT LIST */
  name?: string;
  /** folder of firmware image bytes, shared by every API replica (FIRMWARE_DIR) */
  firmwareDir?: string;
  events?: InfluxRedisEventOptions;
  /**
   * a second, impatient Redis connection (500 ms command timeout) for the rate limiters, so a
   * slow Redis does not stall every request (the API server); default: the main connection
   */
  rateLimitConnection?: boolean;
}

export interface InfluxRedisEventOptions {
  /**
   * where the `event` points go; default: a writer of the store's own, started on the first
   * event and drained on close()
   */
  writer?: EventPointWriter;
  /** approximate cap per tenant stream; @defaultValue 10000 */
  maxLen?: number;
  metrics?: CollectorMetrics;
}

export interface InfluxRedisStore extends Store {
  readonly backend: 'influx-redis';
  readonly redis: Redis;
  readonly keys: RedisKeys;
  readonly influx: InfluxClient;
}

/** The farm backend: InfluxDB (v1 API) for series, Redis for state, BullMQ for jobs. */
export function openInfluxRedisStore(opts: InfluxRedisStoreOptions): InfluxRedisStore {
  const redis = createRedis(opts.redisUrl, { ...(opts.log ? { logger: opts.log } : {}), name: opts.name ?? 'bosfleet' });
  const limiterRedis = opts.rateLimitConnection
    ? createRedis(opts.redisUrl, {
        ...(opts.log ? { logger: opts.log } : {}),
        name: `${opts.name ?? 'bosfleet'}-ratelimit`,
        commandTimeoutMs: 500,
      })
    : undefined;
  return influxRedisStoreOver({
    ...(limiterRedis ? { limiterRedis } : {}),
    redis,
    keys: redisKeys(opts.redisPrefix),
    influx: new InfluxClient(opts.influx),
    location: `InfluxDB ${opts.influx.url}/${opts.influx.db}, Redis ${redactRedisUrl(opts.redisUrl)} (prefix ${opts.redisPrefix})`,
    ...(opts.log ? { log: opts.log } : {}),
    ...(opts.firmwareDir ? { firmwareDir: opts.firmwareDir } : {}),
    ...(opts.events ? { events: opts.events } : {}),
  });
}

export interface InfluxRedisConnections {
  redis: Redis;
  keys: RedisKeys;
  influx: InfluxClient;
  location?: string;
  log?: Logger;
  /** folder of firmware image bytes (FIRMWARE_DIR). @defaultValue ./.data/firmware, FIRMWARE_DIR's default */
  firmwareDir?: string;
  events?: InfluxRedisEventOptions;
  /** the state port's metrics and collector id (a collector's own store) */
  state?: SnapshotStoreOptions;
  /** Redis for the rate limiters (closed with the store); default: redis */
  limiterRedis?: Redis;
}

/** The store over connections the caller already holds (tests, processes that share one Redis); close() quits that Redis. */
export function influxRedisStoreOver(c: InfluxRedisConnections): InfluxRedisStore {
  const { redis, keys, influx } = c;
  const jobs = new RedisJobs(redis, keys, c.log);
  const ownWriter = c.events?.writer ? null : new LazyEventWriter(influx, c.log);
  const events = new InfluxRedisEvents({
    redis,
    keys,
    influx,
    writer: c.events?.writer ?? ownWriter!,
    maxLen: c.events?.maxLen ?? 10_000,
    metrics: c.events?.metrics,
    logger: c.log,
  });
  return {
    backend: 'influx-redis',
    location: c.location ?? `Redis prefix ${keys.prefix}`,
    redis,
    keys,
    influx,
    schedules: redisSchedules(redis, keys, c.log),
    energy: redisEnergy(redis, keys),
    firmware: redisFirmware(redis, keys, c.firmwareDir ?? DEFAULT_FIRMWARE_DIR, c.log),
    jobs,
    cache: redisCache(redis, keys),
    inventory: new RedisInventory(redis, keys),
    pubsub: new RedisPubSub(redis, keys),
    state: new RedisState(redis, keys, { ...(c.log ? { logger: c.log } : {}), ...c.state }),
    events,
    sessions: new RedisSessions(redis, keys),
    limits: new RedisWindowCounter(c.limiterRedis ?? redis, keys),
    ping: timeoutMs =>
      Promise.all([
        timedPing('redis', async () => (await redis.ping()) === 'PONG', timeoutMs),
        timedPing('influxdb', () => influx.ping(), timeoutMs),
      ]),
    series: influxSeries(influx),
    leases: new RedisLeases(redis, keys),
    async close() {
      await jobs.close();
      await ownWriter?.close();
      if (c.limiterRedis && c.limiterRedis !== redis) {
        await c.limiterRedis.quit().catch(() => undefined);
        c.limiterRedis.disconnect();
      }
      await redis.quit().catch(() => undefined);
      redis.disconnect();
    },
  };
}

/**
 * The store's own writer for `event` points when the caller hands none: created and started on
 * the first event, so a read-only process never opens a write path.
 */
class LazyEventWriter implements EventPointWriter {
  private writer: InfluxWriter | null = null;
  private readonly influx: InfluxClient;
  private readonly log: Logger | undefined;

  constructor(influx: InfluxClient, log: Logger | undefined) {
    this.influx = influx;
    this.log = log;
  }

  write(points: readonly SeriesPoint[]): void {
    if (!this.writer) {
      const writer = new InfluxWriter({
        settings: this.influx.settings,
        client: this.influx,
        metrics: createCollectorMetrics(undefined, { processMetrics: false }),
        ...(this.log ? { logger: this.log } : {}),
        batchSize: 1_000,
        flushIntervalMs: 1_000,
        bufferMaxPoints: 100_000,
        maxRetryDelayMs: 30_000,
      });
      // start() does not reject: a failed CREATE DATABASE is logged and retried before the next write.
      void writer.start();
      this.writer = writer;
    }
    this.writer.write(toLines(points));
  }

  async close(): Promise<void> {
    await this.writer?.close({ timeoutMs: 10_000 });
  }
}
