import type { Counter } from 'prom-client';
import type { CacheName } from '../../api/metrics.ts';

/**
 * A small in-process cache with single-flight loading and stale-while-revalidate:
 *  - younger than freshMs: served (hit);
 *  - younger than staleMs: served at once while one background load refreshes it (stale);
 *  - otherwise: the caller waits for the (shared) load (miss).
 * Bounded by maxEntries (least recently used goes first). Ages use a monotonic clock.
 */
export interface TtlCacheOptions {
  name: CacheName;
  freshMs: number;
  /** serve-while-refreshing horizon; defaults to freshMs (no stale serving) */
  staleMs?: number;
  /** default 256 */
  maxEntries?: number;
  counter?: Counter<'cache' | 'result'>;
  /** a background refresh failed (the stale value keeps being served until staleMs) */
  onBackgroundError?: (err: unknown) => void;
}

interface Entry<V> {
  value: V;
  at: number;
}

const monotonicMs = (): number => performance.now();

export class TtlCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly inflight = new Map<string, Promise<V>>();
  private readonly opts: TtlCacheOptions;

  constructor(opts: TtlCacheOptions) {
    this.opts = opts;
  }

  async get(key: string, load: () => Promise<V>): Promise<V> {
    const e = this.entries.get(key);
    const now = monotonicMs();
    if (e) {
      const age = now - e.at;
      if (age < this.opts.freshMs) {
        this.count('hit');
        this.touch(key, e);
        return e.value;
      }
      if (age < (this.opts.staleMs ?? this.opts.freshMs)) {
        this.count('stale');
        this.touch(key, e);
        if (!this.inflight.has(key)) this.load(key, load).catch(err => this.opts.onBackgroundError?.(err));
        return e.value;
      }
    }
    this.count('miss');
    return await (this.inflight.get(key) ?? this.load(key, load));
  }

  /** The cached value if fresh enough to serve, without loading. */
  peek(key: string): V | undefined {
    const e = this.entries.get(key);
    return e && monotonicMs() - e.at < (this.opts.staleMs ?? this.opts.freshMs) ? e.value : undefined;
  }

  /** The cached value however old, without loading: for what a reload may reuse, not for serving. */
  latest(key: string): V | undefined {
    return this.entries.get(key)?.value;
  }

  invalidate(key?: string): void {
    if (key === undefined) this.entries.clear();
    else this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  private load(key: string, load: () => Promise<V>): Promise<V> {
    const p = load()
      .then(value => {
        this.entries.delete(key);
        this.entries.set(key, { value, at: monotonicMs() });
        const max = this.opts.maxEntries ?? 256;
        while (this.entries.size > max) this.entries.delete(this.entries.keys().next().value as string);
        return value;
      })
      .finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  private touch(key: string, e: Entry<V>): void {
    this.entries.delete(key);
    this.entries.set(key, e);
  }

  private count(result: 'hit' | 'stale' | 'miss'): void {
    this.opts.counter?.inc({ cache: this.opts.name, result });
  }
}
