import type { Logger } from '../runtime/logger.ts';
import type { CollectorMetrics } from './metrics.ts';
import type { StatePort, WindowStatWrite } from '../store/ports/state.ts';
import type { ClosedWindow } from './rollups.ts';
import {
  FIELD_SEPARATOR,
  WINDOW_RESOLUTIONS,
  cloneWindowStat,
  encodeWindowStat,
  mergeWindowStat,
  windowStatOf,
  type WindowResolution,
  type WindowStat,
} from './window-stats.ts';

/**
 * Writes the per-miner window statistics (format and layout: core/window-stats.ts) through the
 * state port, fed by
 * MinerRollups' listener: each closed 5-minute window goes to its `5m` hash, each closed hour
 * to its `1h` bucket and, merged into the miner's running day, to the day's `1d` bucket. The day
 * field is rewritten with the day so far every time one of its hours closes, so a crash loses
 * at most the open hour of the day figures (the hourly hashes still hold the earlier hours).
 *
 * Writes are queued and sent by flush() (the collector calls it every cycle) in chunks, each
 * field with its bucket's expiry (bucket end + retention). A failed flush (store down) puts
 * its entries back, unless a newer value for the same field is already
 * queued; the queue holds at most maxPending fields, dropping the oldest beyond that (logged).
 */

export interface WindowStatsWriterOptions {
  /** this process's id in field names: COLLECTOR_ID plus the process start */
  runId: string;
  metrics?: CollectorMetrics;
  logger?: Logger;
  /** fields per store write (default 1000) */
  chunkSize?: number;
  /** queued fields kept during a Redis outage (default 500,000: about 4 h of 10,000 miners) */
  maxPending?: number;
}

type Pending = WindowStatWrite;

interface Day {
  startMs: number;
  stat: WindowStat;
}

const DAY_MS = WINDOW_RESOLUTIONS['1d'].ms;

export class WindowStatsWriter {
  private readonly state: StatePort;
  private readonly runId: string;
  private readonly metrics: CollectorMetrics | undefined;
  private readonly log: Logger | undefined;
  private readonly chunk: number;
  private readonly maxPending: number;
  private pending = new Map<string, Pending>();
  private readonly days = new Map<string, Day>();
  private flushing: Promise<void> | null = null;
  private overflowLogged = false;
  /** fields dropped because the queue was full */
  dropped = 0;

  constructor(state: StatePort, opts: WindowStatsWriterOptions) {
    this.state = state;
    this.runId = opts.runId;
    this.metrics = opts.metrics;
    this.log = opts.logger;
    this.chunk = opts.chunkSize ?? 1_000;
    this.maxPending = opts.maxPending ?? 500_000;
  }

  /** MinerRollups' listener. */
  add(w: ClosedWindow): void {
    if (w.windowMs === WINDOW_RESOLUTIONS['5m'].ms) {
      this.queue(w.ref.tenant, w.ref.id, '5m', w.startMs, windowStatOf(w));
    } else if (w.windowMs === WINDOW_RESOLUTIONS['1h'].ms) {
      const stat = windowStatOf(w);
      this.queue(w.ref.tenant, w.ref.id, '1h', w.startMs, stat);
      const dayStart = Math.floor(w.startMs / DAY_MS) * DAY_MS;
      const day = this.days.get(w.ref.id);
      if (day && day.startMs > dayStart) return; // an hour of an earlier day: that day is done
      if (day && day.startMs === dayStart) mergeWindowStat(day.stat, stat);
      else this.days.set(w.ref.id, { startMs: dayStart, stat: cloneWindowStat(stat) });
      this.queue(w.ref.tenant, w.ref.id, '1d', dayStart, this.days.get(w.ref.id)!.stat);
    }
  }

  /**
   * A miner's open 5-minute window so far (MinerRollups.openWindows), written to the same field
   * its closed value will overwrite, so windows ending now read the open bucket from the window
   * statistics too.
   */
  addOpen(w: ClosedWindow): void {
    if (w.windowMs !== WINDOW_RESOLUTIONS['5m'].ms) throw new Error(`addOpen: expected a 5-minute window, got ${w.windowMs} ms`);
    this.queue(w.ref.tenant, w.ref.id, '5m', w.startMs, windowStatOf(w));
  }

  /** Forget running days that ended before nowMs (miners that left the inventory). */
  prune(nowMs: number): void {
    for (const [id, d] of this.days) if (d.startMs + DAY_MS <= nowMs - DAY_MS) this.days.delete(id);
  }

  get pendingFields(): number {
    return this.pending.size;
  }

  /** Send the queued fields; on failure they are queued again and the store's error is thrown (callers log or ignore it). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    this.flushing = this.send(batch).finally(() => {
      this.flushing = null;
    });
    await this.flushing;
  }

  private async send(batch: Map<string, Pending>): Promise<void> {
    const entries = [...batch.entries()];
    let done = 0;
    try {
      while (done < entries.length) {
        const part = entries.slice(done, done + this.chunk);
        await this.state.putWindowStats(part.map(([, e]) => e));
        done += part.length;
      }
    } catch (err) {
      this.metrics?.redisErrors.inc();
      this.log?.warn({ err: (err as Error).message, fields: entries.length - done }, 'window statistics not written to the store; retrying with the next flush');
      // Put back what was not sent, behind nothing newer: a newer value of a field replaces it.
      const requeue = new Map<string, Pending>();
      for (const [k, e] of entries.slice(done)) if (!this.pending.has(k)) requeue.set(k, e);
      for (const [k, e] of this.pending) requeue.set(k, e);
      this.pending = requeue;
      this.trim();
      throw err;
    }
  }

  private queue(tenant: string, minerId: string, res: WindowResolution, startMs: number, stat: WindowStat): void {
    const field = `${minerId}${FIELD_SEPARATOR}${this.runId}`;
    const r = WINDOW_RESOLUTIONS[res];
    const id = `${tenant}\u0000${res}\u0000${startMs}\u0000${field}`;
    this.pending.delete(id); // re-insert at the end: the Map's order is the queue's order
    this.pending.set(id, { tenant, res, startMs, field, value: encodeWindowStat(stat), expireAtMs: startMs + r.ms + r.retentionMs });
    this.trim();
  }

  private trim(): void {
    if (this.pending.size <= this.maxPending) {
      this.overflowLogged = false;
      return;
    }
    for (const k of this.pending.keys()) {
      if (this.pending.size <= this.maxPending) break;
      this.pending.delete(k);
      this.dropped++;
    }
    if (!this.overflowLogged) {
      this.overflowLogged = true;
      this.log?.warn({ maxPending: this.maxPending }, 'window statistics queue full (store down?); dropping the oldest');
    }
  }
}
