import type { Redis } from 'ioredis';
import { FleetError } from '../core/errors.ts';
import type { Logger } from '../runtime/logger.ts';
import type { CollectorMetrics } from './metrics.ts';
import { eventPoint } from './points.ts';
import type { RedisKeys } from '../store/influx-redis/redis-keys.ts';
import type { EventKind, FleetEvent } from '../core/samples.ts';
import { exec } from './snapshot-store.ts';
import type { SeriesPoint } from '../store/ports/series.ts';

/**
 * The fleet's audit trail, kept twice: every event becomes an `event` point in InfluxDB (long
 * history, Grafana annotations) and an entry of a capped Redis stream per tenant (fast "what
 * happened lately", newest first). The stream uses server-assigned ids (`*`): producers (the
 * collector, the API's control service) can record out of time order, which explicit
 * time-based ids would reject. The stream entry has one field, `event`, holding the JSON.
 */

/** where the `event` points go: the store's series writer */
export interface EventSink {
  write(points: readonly SeriesPoint[]): void;
}

export interface EventLogOptions {
  redis: Redis;
  keys: RedisKeys;
  /** where the `event` points go (the series writer) */
  writer: EventSink;
  /** approximate cap per tenant stream (COLLECTOR_EVENTS_MAXLEN) */
  maxLen: number;
  metrics?: CollectorMetrics;
  logger?: Logger;
}

export interface RecentQuery {
  limit?: number;
  /** only events with time_ms >= sinceMs */
  sinceMs?: number;
  miner?: string;
  kind?: EventKind;
}

export type StoredEvent = FleetEvent & { id: string };

/** Slack between an event's own time and the Redis clock that stamped its stream id. */
const CLOCK_SLACK_MS = 5 * 60_000;

export class EventLog {
  private readonly sink: EventSink;
  private readonly redis: Redis;
  private readonly keys: RedisKeys;
  private readonly opts: EventLogOptions;
  /** last timestamp written per event series (tenant, site, miner, kind, severity) */
  private readonly lastTimes = new Map<string, number>();

  constructor(opts: EventLogOptions) {
    this.sink = opts.writer;
    this.redis = opts.redis;
    this.keys = opts.keys;
    this.opts = opts;
  }

  /**
   * InfluxDB first (buffered by the writer, survives a Redis outage), then the streams. A
   * Redis failure throws FleetError('unavailable') after the InfluxDB part has been queued.
   */
  async record(input: readonly FleetEvent[]): Promise<void> {
    if (input.length === 0) return;
    const events = input.map(e => this.distinctTime(e));
    this.sink.write(events.map(eventPoint));
    for (const e of events) this.opts.metrics?.events.inc({ kind: e.kind });
    const p = this.redis.pipeline();
    for (const e of events) {
      p.xadd(
        this.keys.events(e.tenant),
        'MAXLEN',
        '~',
        String(this.opts.maxLen),
        '*',
        'event',
        JSON.stringify(e),
      );
    }
    try {
      await exec(p);
    } catch (err) {
      this.opts.metrics?.redisErrors.inc();
      this.opts.logger?.warn(
        { err: (err as Error).message, events: events.length },
        'events not added to the Redis stream',
      );
      throw new FleetError('unavailable', 'Redis is not available; events were written to InfluxDB only', {
        cause: err,
      });
    }
  }

  /**
   * InfluxDB keeps one point per series and timestamp: two events of one kind for one miner in
   * the same millisecond would overwrite each other. Each later one moves to the next free
   * millisecond of its series (and keeps that time everywhere, so both stores agree).
   */
  private distinctTime(e: FleetEvent): FleetEvent {
    const key = `${e.tenant}\u0000${e.site}\u0000${e.miner}\u0000${e.kind}\u0000${e.severity}`;
    const last = this.lastTimes.get(key);
    const time = last !== undefined && e.time_ms <= last ? last + 1 : Math.round(e.time_ms);
    this.lastTimes.set(key, time);
    if (this.lastTimes.size > 10_000) {
      // Only series written within the last minute can still collide with a new event.
      for (const [k, t] of this.lastTimes) if (t < time - 60_000) this.lastTimes.delete(k);
    }
    return time === e.time_ms ? e : { ...e, time_ms: time };
  }

  /** A tenant's latest events, newest first, filtered by time / miner / kind. */
  async recent(tenant: string, q: RecentQuery = {}): Promise<StoredEvent[]> {
    const limit = Math.max(1, Math.min(q.limit ?? 100, this.opts.maxLen));
    const key = this.keys.events(tenant);
    const low = q.sinceMs === undefined ? '-' : String(Math.max(0, q.sinceMs - CLOCK_SLACK_MS));
    const page = q.miner || q.kind ? Math.max(limit, 500) : limit;
    const out: StoredEvent[] = [];
    let high = '+';
    let scanned = 0;
    // Page backwards until enough matches, the time bound, or the (capped) stream's start.
    while (out.length < limit && scanned < this.opts.maxLen * 2) {
      let entries: [id: string, fields: string[]][];
      try {
        entries = await this.redis.xrevrange(key, high, low, 'COUNT', page);
      } catch (err) {
        throw new FleetError('unavailable', 'Redis is not available', { cause: err });
      }
      for (const [id, fields] of entries) {
        const at = fields.indexOf('event');
        const json = at >= 0 ? fields[at + 1] : undefined;
        if (!json) continue;
        const e = JSON.parse(json) as FleetEvent;
        if (q.sinceMs !== undefined && e.time_ms < q.sinceMs) continue;
        if ((q.miner && e.miner !== q.miner) || (q.kind && e.kind !== q.kind)) continue;
        out.push({ ...e, id });
        if (out.length >= limit) break;
      }
      scanned += entries.length;
      if (entries.length < page) break;
      high = `(${entries[entries.length - 1]![0]}`;
    }
    return out;
  }
}
