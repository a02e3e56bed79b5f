import { hostname } from 'node:os';
import { z } from 'zod';
import { cfg, loadConfig } from '../runtime/config-loader.ts';
import type { InfluxSettings } from '../store/influx-redis/influx-client.ts';
import { STORE_BACKENDS } from '../store/store.ts';
import { sharedCredentialsSchema } from './inventory/credential-policy.ts';

/** InfluxDB keys, shared by every component that reads or writes series. */
export const influxConfigShape = {
  INFLUX_URL: cfg.url('http://127.0.0.1:8086'),
  INFLUX_DB: z.string().regex(/^[A-Za-z0-9_.-]+$/, { error: 'expected a database name of letters, digits, _ . -' }).default('bosfleet'),
  INFLUX_FLAVOUR: cfg.oneOf(['1', '2', '3'] as const, '1'),
  INFLUX_AUTH: cfg.oneOf(['none', 'basic', 'token'] as const, 'none'),
  INFLUX_USERNAME: cfg.optionalStr(),
  INFLUX_PASSWORD: cfg.optionalStr(),
  INFLUX_TOKEN: cfg.optionalStr(),
  INFLUX_TIMEOUT_MS: cfg.int(30_000, 100, 600_000),
};

export const redisConfigShape = {
  REDIS_URL: z.string().regex(/^rediss?:\/\//, { error: 'expected a redis:// or rediss:// URL' }).default('redis://127.0.0.1:6379'),
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]+$/, { error: 'expected letters, digits, _ . -' }).default('bosfleet'),
};

/**
 * Which store every component runs on. BOSFLEET_STORE's default depends on the other keys
 * (parseConfig: influx-redis when INFLUX_URL or REDIS_URL is given, else embedded);
 * BOSFLEET_DATA_DIR's on the user's data directory (store/open-store.ts).
 */
export const storeConfigShape = {
  BOSFLEET_STORE: cfg.oneOf(STORE_BACKENDS, 'embedded'),
  BOSFLEET_DATA_DIR: cfg.optionalStr(),
};

export const collectorConfigSchema = z.object({
  LOG_LEVEL: cfg.oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
  ...storeConfigShape,
  ...influxConfigShape,
  INFLUX_BATCH_SIZE: cfg.int(5_000, 1, 1_000_000),
  INFLUX_FLUSH_INTERVAL_MS: cfg.int(1_000, 10, 600_000),
  INFLUX_BUFFER_MAX_POINTS: cfg.int(1_000_000, 1_000, 100_000_000),
  INFLUX_MAX_RETRY_DELAY_MS: cfg.int(30_000, 100, 3_600_000),
  INFLUX_WRITE_CONCURRENCY: cfg.int(4, 1, 64),
  ...redisConfigShape,
  COLLECTOR_INVENTORY_FILE: cfg.optionalStr(),
  COLLECTOR_POLL_INTERVAL_MS: cfg.int(10_000, 1_000, 3_600_000),
  COLLECTOR_CONCURRENCY: cfg.int(256, 1, 10_000),
  /** worker threads polling disjoint miner sets (collector/poll-threads.ts); 1 = poll on the main thread */
  COLLECTOR_POLL_THREADS: cfg.int(1, 1, 16),
  COLLECTOR_RPC_TIMEOUT_MS: cfg.int(5_000, 100, 120_000),
  COLLECTOR_DETAILS_INTERVAL_MS: cfg.int(300_000, 10_000, 86_400_000),
  COLLECTOR_OFFLINE_AFTER_MISSES: cfg.int(3, 1, 1_000),
  COLLECTOR_BACKOFF_MAX_MS: cfg.int(300_000, 1_000, 86_400_000),
  COLLECTOR_STATUS_STREAM: cfg.bool(true),
  COLLECTOR_LOW_HASHRATE_PCT: cfg.num(90, 1, 100),
  COLLECTOR_HOT_TEMP_C: cfg.num(90, 30, 150),
  COLLECTOR_EVENTS_MAXLEN: cfg.int(10_000, 100, 10_000_000),
  COLLECTOR_SCAN_CONCURRENCY: cfg.int(64, 1, 4_096),
  COLLECTOR_SCAN_TIMEOUT_MS: cfg.int(1_500, 100, 60_000),
  /** V8 --heap-growing-percent; 0 = V8's own (bench/README.md: 50 kept 5,000 miners under 150 MB per 1,000). */
  COLLECTOR_HEAP_GROWING_PCT: cfg.int(50, 0, 400),
  COLLECTOR_HTTP_HOST: z.string().default('127.0.0.1'),
  COLLECTOR_HTTP_PORT: cfg.int(9_464, 0, 65_535),
  COLLECTOR_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'expected 1-64 letters, digits, _ . -' })
    .optional(),
  /** a collector process that stops renewing loses its miners this long after; 0 = three poll intervals */
  COLLECTOR_LEASE_TTL_MS: cfg.int(0, 0, 3_600_000),
  COLLECTOR_SHARD: z
    .string()
    .regex(/^\d{1,4}\/\d{1,4}$/, { error: 'expected i/n: this collector polls shard i (0-based) of n, e.g. 0/2' })
    .refine(v => {
      const [i, n] = v.split('/').map(Number) as [number, number];
      return n >= 1 && i < n;
    }, { error: 'expected i/n with n >= 1 and 0 <= i < n' })
    .default('0/1'),
  MINER_DEFAULT_USERNAME: z.string().min(1).default('root'),
  MINER_DEFAULT_PASSWORD: cfg.optionalStr(),
  /** Instance-wide credentials a tenant's own (API-added) miners may use: name@tenant pairs, * = every tenant. */
  MINER_SHARED_CREDENTIALS: sharedCredentialsSchema,
  BOSFLEET_SECRET_KEY: z
    .string()
    .refine(v => Buffer.from(v, 'base64').length === 32, { error: 'expected 32 random bytes in base64 (openssl rand -base64 32)' })
    .optional(),
});

export type CollectorConfig = z.output<typeof collectorConfigSchema>;

export function loadCollectorConfig(env: NodeJS.ProcessEnv = process.env): CollectorConfig {
  return loadConfig(collectorConfigSchema, env);
}

/**
 * This collector's stable instance id (COLLECTOR_ID, else the host name made tag-safe): the
 * `collector` tag of fleet rollups, so several collectors' points add up instead of overwriting.
 */
export function collectorIdOf(c: { COLLECTOR_ID?: string | undefined; COLLECTOR_SHARD?: string | undefined }): string {
  if (c.COLLECTOR_ID) return c.COLLECTOR_ID;
  const host = hostname().replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 56) || 'collector';
  // Shards on one host must not share an id: their aggregates and rollups would overwrite each other.
  const shard = parseShard(c.COLLECTOR_SHARD ?? '0/1');
  return shard.count > 1 ? `${host}.s${shard.index}` : host;
}

export interface Shard {
  index: number;
  count: number;
}

export function parseShard(text: string): Shard {
  const [index, count] = text.split('/').map(Number) as [number, number];
  return { index, count };
}

export function influxSettingsFrom(c: {
  INFLUX_URL: string;
  INFLUX_DB: string;
  INFLUX_FLAVOUR: '1' | '2' | '3';
  INFLUX_AUTH: 'none' | 'basic' | 'token';
  INFLUX_USERNAME?: string | undefined;
  INFLUX_PASSWORD?: string | undefined;
  INFLUX_TOKEN?: string | undefined;
  INFLUX_TIMEOUT_MS: number;
}): InfluxSettings {
  return {
    url: c.INFLUX_URL,
    db: c.INFLUX_DB,
    flavour: c.INFLUX_FLAVOUR,
    auth: c.INFLUX_AUTH,
    ...(c.INFLUX_USERNAME ? { username: c.INFLUX_USERNAME } : {}),
    ...(c.INFLUX_PASSWORD ? { password: c.INFLUX_PASSWORD } : {}),
    ...(c.INFLUX_TOKEN ? { token: c.INFLUX_TOKEN } : {}),
    timeoutMs: c.INFLUX_TIMEOUT_MS,
  };
}
