import type { Redis } from 'ioredis';
import type { Counter, Gauge } from 'prom-client';
import { FleetError } from '../../core/errors.ts';
import type { RedisKeys } from '../../store/influx-redis/redis-keys.ts';
import {
  STAT_COLUMNS,
  WINDOW_RESOLUTIONS,
  decodeWindowStatColumns,
  minerOfField,
} from '../../collector/window-stats.ts';
import type { WindowUnit } from './window-stats.ts';

/**
 * The collector's window-statistics hashes (collector/window-stats.ts), read and decoded into
 * columns, with settled buckets kept in process memory. A bucket stops changing once its
 * window has closed and the collector has flushed it, so a 24 h window at 10,000 miners, about
 * 35 hashes of 10,000 fields (a HGETALL and a decode each: ~25 ms), is read from Redis once and
 * then only re-checked: one pipelined HLEN per cached bucket, and a bucket whose field count
 * changed (a collector that flushed late, after a Redis outage, or a new run's field) or that
 * expired is read again.
 */

/** One bucket decoded: a row per hash field, ids from WindowBuckets.names. */
export interface DecodedBucket {
  rows: number;
  miners: Int32Array;
  sites: Int32Array;
  models: Int32Array;
  /** STAT_COLUMNS numbers a row (collector/window-stats.ts STAT_COLUMN) */
  stats: Float64Array;
  /** the hash's field count when read, malformed values included (what HLEN is checked against) */
  fields: number;
}

/** Strings to small ints, so rows of many buckets merge by array index instead of by string. */
export class Interner {
  private readonly ids = new Map<string, number>();
  private readonly names: string[] = [];

  id(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.names.push(name);
      this.ids.set(name, id);
    }
    return id;
  }

  /** the id of a name, -1 when it was never seen */
  find(name: string): number {
    return this.ids.get(name) ?? -1;
  }

  name(id: number): string {
    return this.names[id]!;
  }

  get size(): number {
    return this.names.length;
  }
}

export interface WindowBucketsOptions {
  /** decoded buckets kept, in bytes (least recently used go first). @defaultValue 256 MiB */
  maxBytes?: number;
  /** a bucket is kept once it ended this long ago (window closed and flushed). @defaultValue 180000 */
  settleMs?: number;
  now?: () => number;
  /** lookups of settled buckets: hit (kept and unchanged) or miss (read from Redis) */
  counter?: Counter<'cache' | 'result'> | undefined;
  /** set to the bytes held */
  bytesGauge?: Gauge | undefined;
}

const EMPTY: DecodedBucket = {
  rows: 0,
  miners: new Int32Array(0),
  sites: new Int32Array(0),
  models: new Int32Array(0),
  stats: new Float64Array(0),
  fields: 0,
};

const bytesOf = (b: DecodedBucket): number => b.rows * (STAT_COLUMNS * 8 + 12) + 200;

export class WindowBuckets {
  readonly names = new Interner();
  private readonly redis: Redis;
  private readonly keys: RedisKeys;
  private readonly maxBytes: number;
  private readonly settleMs: number;
  private readonly now: () => number;
  private readonly counter: Counter<'cache' | 'result'> | undefined;
  private readonly bytesGauge: Gauge | undefined;
  /** settled buckets by Redis key, least recently used first */
  private readonly kept = new Map<string, DecodedBucket>();
  private keptBytes = 0;
  private readonly inflight = new Map<string, Promise<DecodedBucket>>();

  constructor(redis: Redis, keys: RedisKeys, o: WindowBucketsOptions = {}) {
    this.redis = redis;
    this.keys = keys;
    this.maxBytes = o.maxBytes ?? 256 * 1024 * 1024;
    this.settleMs = o.settleMs ?? 180_000;
    this.now = o.now ?? Date.now;
    this.counter = o.counter;
    this.bytesGauge = o.bytesGauge;
  }

  /** bytes of decoded buckets held */
  get bytes(): number {
    return this.keptBytes;
  }

  /** The buckets of a tenant, in the order asked; a bucket without a hash reads as no rows. */
  async read(tenant: string, units: readonly WindowUnit[], concurrency = 8): Promise<DecodedBucket[]> {
    const keys = units.map(u => this.keys.windowStats(tenant, u.res, u.startMs));
    await this.revalidate(keys);
    const out: DecodedBucket[] = new Array<DecodedBucket>(units.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < units.length) {
        const i = next++;
        out[i] = await this.bucket(keys[i]!, units[i]!);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, units.length)) }, worker));
    return out;
  }

  /** Drop kept buckets whose hash no longer has the field count they were read with. */
  private async revalidate(keys: readonly string[]): Promise<void> {
    const cached = keys.filter(k => this.kept.has(k));
    if (cached.length === 0) return;
    let counts: [Error | null, unknown][] | null;
    try {
      const p = this.redis.pipeline();
      for (const k of cached) p.hlen(k);
      counts = await p.exec();
    } catch (err) {
      throw new FleetError('unavailable', 'Redis is not available', { cause: err });
    }
    cached.forEach((k, i) => {
      const [err, n] = counts?.[i] ?? [new Error('no reply'), null];
      if (err || n !== this.kept.get(k)?.fields) this.forget(k);
    });
  }

  private async bucket(key: string, u: WindowUnit): Promise<DecodedBucket> {
    const kept = this.kept.get(key);
    if (kept) {
      this.kept.delete(key);
      this.kept.set(key, kept);
      this.counter?.inc({ cache: 'window_bucket', result: 'hit' });
      return kept;
    }
    const running = this.inflight.get(key);
    if (running) return await running;
    const load = this.load(key).finally(() => this.inflight.delete(key));
    this.inflight.set(key, load);
    const b = await load;
    const settled = u.startMs + WINDOW_RESOLUTIONS[u.res].ms + this.settleMs <= this.now();
    if (settled) this.counter?.inc({ cache: 'window_bucket', result: 'miss' });
    if (settled && b.rows > 0 && !this.kept.has(key)) this.keep(key, b);
    return b;
  }

  private async load(key: string): Promise<DecodedBucket> {
    let flat: string[];
    try {
      // A flat [field, value, ...] reply: cheaper than ioredis' object reply at 10,000 fields.
      flat = (await this.redis.call('HGETALL', key)) as string[];
    } catch (err) {
      throw new FleetError('unavailable', 'Redis is not available', { cause: err });
    }
    const fields = flat.length >> 1;
    if (fields === 0) return EMPTY;
    const miners = new Int32Array(fields);
    const sites = new Int32Array(fields);
    const models = new Int32Array(fields);
    const stats = new Float64Array(fields * STAT_COLUMNS);
    let rows = 0;
    for (let j = 0; j < fields; j++) {
      const tags = decodeWindowStatColumns(flat[2 * j + 1]!, stats, rows * STAT_COLUMNS);
      if (!tags) continue; // another format version or malformed: left out, like an absent field
      miners[rows] = this.names.id(minerOfField(flat[2 * j]!));
      sites[rows] = this.names.id(tags.site);
      models[rows] = this.names.id(tags.model);
      rows++;
    }
    return { rows, miners, sites, models, stats, fields };
  }

  private keep(key: string, b: DecodedBucket): void {
    this.kept.set(key, b);
    this.keptBytes += bytesOf(b);
    for (const k of this.kept.keys()) {
      if (this.keptBytes <= this.maxBytes) break;
      this.forget(k);
    }
    this.bytesGauge?.set(this.keptBytes);
  }

  private forget(key: string): void {
    const b = this.kept.get(key);
    if (!b) return;
    this.kept.delete(key);
    this.keptBytes -= bytesOf(b);
    this.bytesGauge?.set(this.keptBytes);
  }
}
