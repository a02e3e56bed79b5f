import { Counter, Gauge, type Registry } from 'prom-client';
import { FleetError, isFleetError } from '../../core/errors.ts';
import type { Logger } from '../../runtime/logger.ts';
import { readHashprice, type Hashprice, type HashpriceSource } from './prices/hashprice-feed.ts';

/**
 * The hashprice profitability uses now: a fixed value, or the last good answer of an HTTP feed
 * fetched every `refreshMs` (and on first use). A failed fetch keeps the previous value, which
 * answers then show with its age; `stale` once older than `maxAgeMs`. Never a silent zero.
 */

export interface CurrentHashprice extends Hashprice {
  stale: boolean;
}

export interface HashpriceProviderOptions {
  source: HashpriceSource | null;
  refreshMs: number;
  maxAgeMs: number;
  log?: Logger | undefined;
  now?: () => number;
  /** registers bosfleet_hashprice_* (age, last success, fetch failures) */
  registry?: Registry | undefined;
}

export class HashpriceProvider {
  private last: Hashprice | null = null;
  private inFlight: Promise<Hashprice> | null = null;
  private lastError: FleetError | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly now: () => number;
  private readonly failures: Counter | null = null;
  private readonly o: HashpriceProviderOptions;

  constructor(o: HashpriceProviderOptions) {
    this.o = o;
    this.now = o.now ?? Date.now;
    if (o.registry && o.source?.kind === 'http') {
      const last = (): Hashprice | null => this.last;
      const now = this.now;
      // Before the first success the age counts from start: a feed that never answers must alert.
      const since = now();
      new Gauge({
        name: 'bosfleet_hashprice_age_seconds',
        help: 'Age of the hashprice profitability uses (since its last successful fetch; before the first, since the API started)',
        registers: [o.registry],
        collect() {
          const l = last();
          this.set((now() - (l ? l.fetched_at_ms : since)) / 1000);
        },
      });
      new Gauge({
        name: 'bosfleet_hashprice_last_success_timestamp_seconds',
        help: 'When the hashprice feed last answered with a valid value (unix seconds; 0 before the first)',
        registers: [o.registry],
        collect() {
          const l = last();
          this.set(l ? l.fetched_at_ms / 1000 : 0);
        },
      });
      this.failures = new Counter({ name: 'bosfleet_hashprice_fetch_failures_total', help: 'Hashprice feed fetches that failed', registers: [o.registry] });
    }
  }

  get configured(): boolean {
    return this.o.source !== null;
  }

  /** Poll an HTTP feed in the background (a fixed value needs none). */
  start(): void {
    if (this.o.source?.kind !== 'http' || this.timer) return;
    const tick = (): void => void this.refresh().catch(() => undefined); // refresh logs and counts its failures
    tick();
    this.timer = setInterval(tick, this.o.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async current(): Promise<CurrentHashprice> {
    const src = this.o.source;
    if (!src) {
      throw new FleetError('precondition_failed', 'no hashprice configured: set HASHPRICE_SOURCE or pass hashprice_per_ths_day', {
        details: { field: 'hashprice_per_ths_day' },
      });
    }
    if (src.kind === 'fixed') return { ...(await readHashprice(src, { now: this.now })), stale: false };
    const now = this.now();
    if (!this.last || now - this.last.fetched_at_ms >= this.o.refreshMs) {
      try {
        await this.refresh();
      } catch (err) {
        if (!this.last) throw err;
      }
    }
    const last = this.last!;
    return { ...last, stale: now - last.fetched_at_ms > this.o.maxAgeMs };
  }

  /** The last fetch error, for answers that explain a stale value. */
  get error(): string | null {
    return this.lastError?.message ?? null;
  }

  private async refresh(): Promise<Hashprice> {
    const src = this.o.source;
    if (src?.kind !== 'http') throw new Error('refresh is for HTTP feeds');
    this.inFlight ??= (async () => {
      try {
        const got = await readHashprice(src, { now: this.now });
        this.last = got;
        this.lastError = null;
        return got;
      } catch (err) {
        this.failures?.inc();
        this.lastError = isFleetError(err) ? err : new FleetError('unavailable', 'hashprice feed: the fetch failed', { cause: err });
        this.o.log?.warn({ err: this.lastError.message }, 'hashprice feed fetch failed; keeping the previous value');
        throw this.lastError;
      } finally {
        this.inFlight = null;
      }
    })();
    return await this.inFlight;
  }
}
