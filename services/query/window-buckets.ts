import type { Counter, Gauge } from 'prom-client';
import type { StatePort } from '../../store/ports/state.ts';
import {
  STAT_COLUMNS,
  WINDOW_RESOLUTIONS,
  decodeWindowStatColumns,
  minerOfField,
} from '../../core/window-stats.ts';
import type { WindowUnit } from './window-stats.ts';

/**
 * The collector's window-statistics buckets (core/window-stats.ts), read through the state port
 * and decoded into columns, with settled buckets kept in process memory. A bucket stops changing
 * once its window has closed and the collector has flushed it, so a 24 h window at 10,000 miners,
 * about 35 buckets of 10,000 fields (on Redis a HGETALL and a decode each: ~25 ms), is read once
 * and then only re-checked: one field count per cached bucket (a pipelined HLEN on Redis), and
 * a bucket whose field count changed (a collector that flushed late, after a Redis outage, or a new run's field) or that
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
  /** the bucket's field count when read, malformed values included (what windowBucketSizes is checked against) */
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
  /** lookups of settled buckets: hit (kept and unchanged) or miss (read from the store) */
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
  private readonly state: StatePort;
  private readonly maxBytes: number;
  private readonly settleMs: number;
  private readonly now: () => number;
  private readonly counter: Counter<'cache' | 'result'> | undefined;
  private readonly bytesGauge: Gauge | undefined;
  /** settled buckets by tenant, resolution and start, least recently used first */
  private readonly kept = new Map<string, DecodedBucket>();
  private keptBytes = 0;
  private readonly inflight = new Map<string, Promise<DecodedBucket>>();

  /** how many fields each bucket holds now (0: empty or expired), without reading them */
  sizes(tenant: string, units: readonly WindowUnit[]): Promise<number[]> {
    return this.state.windowBucketSizes(tenant, units);
  }

  constructor(state: StatePort, o: WindowBucketsOptions = {}) {
    this.state = state;
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

  /** The buckets of a tenant, in the order asked; a bucket without data reads as no rows. */
  async read(tenant: string, units: readonly WindowUnit[], concurrency = 8): Promise<DecodedBucket[]> {
    const keys = units.map(u => `${tenant}\u0000${u.res}\u0000${u.startMs}`);
    await this.revalidate(tenant, units, keys);
    const out: DecodedBucket[] = new Array<DecodedBucket>(units.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < units.length) {
        const i = next++;
        out[i] = await this.bucket(tenant, keys[i]!, units[i]!);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, units.length)) }, worker));
    return out;
  }

  /** Drop kept buckets that no longer have the field count they were read with. */
  private async revalidate(tenant: string, units: readonly WindowUnit[], keys: readonly string[]): Promise<void> {
    const at = keys.flatMap((k, i) => (this.kept.has(k) ? [i] : []));
    if (at.length === 0) return;
    const counts = await this.state.windowBucketSizes(tenant, at.map(i => units[i]!));
    at.forEach((i, j) => {
      if (counts[j] !== this.kept.get(keys[i]!)?.fields) this.forget(keys[i]!);
    });
  }

  private async bucket(tenant: string, key: string, u: WindowUnit): Promise<DecodedBucket> {
    const kept = this.kept.get(key);
    if (kept) {
      this.kept.delete(key);
      this.kept.set(key, kept);
      this.counter?.inc({ cache: 'window_bucket', result: 'hit' });
      return kept;
    }
    const running = this.inflight.get(key);
    if (running) return await running;
    const load = this.load(tenant, u).finally(() => this.inflight.delete(key));
    this.inflight.set(key, load);
    const b = await load;
    const settled = u.startMs + WINDOW_RESOLUTIONS[u.res].ms + this.settleMs <= this.now();
    if (settled) this.counter?.inc({ cache: 'window_bucket', result: 'miss' });
    if (settled && b.rows > 0 && !this.kept.has(key)) this.keep(key, b);
    return b;
  }

  private async load(tenant: string, u: WindowUnit): Promise<DecodedBucket> {
    const flat = await this.state.windowBucket(tenant, u);
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
