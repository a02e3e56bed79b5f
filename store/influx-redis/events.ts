import type { Redis } from 'ioredis';
import { FleetError } from '../../core/errors.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { CollectorMetrics } from '../../collector/metrics.ts';
import { eventPoint } from '../../collector/points.ts';
import type { SeriesPoint } from '../ports/series.ts';
import { exec } from './redis-pipeline.ts';
import { MEASUREMENTS, type EventKind, type FleetEvent } from '../../core/samples.ts';
import { DistinctEventTimes } from '../event-times.ts';
import {
  RECORD_CLOCK_SLACK_MS,
  type EventHistoryQuery,
  type EventsPort,
  type RecentEventsQuery,
  type StoredEvent,
} from '../ports/events.ts';
import { ident, literal, rowsOf, type InfluxClient } from './influx-client.ts';
import type { RedisKeys } from './redis-keys.ts';

/**
 * The events port on the farm backend, kept twice: every event becomes an `event` point in
 * InfluxDB (long history, Grafana annotations) and an entry of a capped Redis stream per tenant
 * (fast "what happened lately", newest first). The stream uses server-assigned ids (`*`):
 * producers (the collector, the API's control service) can record out of time order, which
 * explicit time-based ids would reject. The stream entry has one field, `event`, holding the JSON.
 */

/** Where the `event` points go: the series writer. */
export interface EventPointWriter {
  write(points: readonly SeriesPoint[]): void;
}

export interface InfluxRedisEventsOptions {
  redis: Redis;
  keys: RedisKeys;
  writer: EventPointWriter;
  /** approximate cap per tenant stream (COLLECTOR_EVENTS_MAXLEN) */
  maxLen: number;
  /** reads the history; without it history() refuses */
  influx?: InfluxClient | undefined;
  metrics?: CollectorMetrics | undefined;
  logger?: Logger | undefined;
}

export class InfluxRedisEvents implements EventsPort {
  private readonly redis: Redis;
  private readonly keys: RedisKeys;
  private readonly opts: InfluxRedisEventsOptions;
  private readonly times = new DistinctEventTimes();

  constructor(opts: InfluxRedisEventsOptions) {
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
    const events = input.map(e => this.times.apply(e));
    this.opts.writer.write(events.map(eventPoint));
    for (const e of events) this.opts.metrics?.events.inc({ kind: e.kind });
    const p = this.redis.pipeline();
    for (const e of events) {
      p.xadd(this.keys.events(e.tenant), 'MAXLEN', '~', String(this.opts.maxLen), '*', 'event', JSON.stringify(e));
    }
    try {
      await exec(p);
    } catch (err) {
      this.opts.metrics?.redisErrors.inc();
      this.opts.logger?.warn({ err: (err as Error).message, events: events.length }, 'events not added to the Redis stream');
      throw new FleetError('unavailable', 'Redis is not available; events were written to InfluxDB only', { cause: err });
    }
  }

  async recent(tenant: string, q: RecentEventsQuery = {}): Promise<StoredEvent[]> {
    const limit = Math.max(1, Math.min(q.limit ?? 100, this.opts.maxLen));
    const key = this.keys.events(tenant);
    const low = q.sinceMs === undefined ? '-' : String(Math.max(0, q.sinceMs - RECORD_CLOCK_SLACK_MS));
    const page = q.miner || q.kind ? Math.max(limit, 500) : limit;
    const out: StoredEvent[] = [];
    let high = q.beforeId === undefined ? '+' : `(${streamId(q.beforeId)}`;
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

  async covers(tenant: string, fromMs: number): Promise<boolean> {
    let oldest: [string, string[]][];
    try {
      oldest = await this.redis.xrange(this.keys.events(tenant), '-', '+', 'COUNT', 1);
    } catch (err) {
      throw new FleetError('unavailable', 'Redis is not available', { cause: err });
    }
    const id = oldest[0]?.[0];
    if (!id) return false;
    return Number(id.split('-')[0]) <= fromMs - RECORD_CLOCK_SLACK_MS;
  }

  async history(tenant: string, q: EventHistoryQuery): Promise<{ events: FleetEvent[]; truncated: boolean }> {
    if (!this.opts.influx) throw new FleetError('internal', 'event history needs an InfluxDB client; this event log was built without one');
    const where = [
      tagEq('tenant', tenant),
      q.miner !== undefined && tagEq('miner', q.miner),
      q.kind !== undefined && tagEq('kind', q.kind),
      q.severity !== undefined && tagEq('severity', q.severity),
      `time >= ${literal(new Date(q.fromMs).toISOString())} AND time < ${literal(new Date(q.toMs + 1).toISOString())}`,
    ].filter((c): c is string => typeof c === 'string');
    const limit = Math.max(1, Math.floor(q.limit));
    const sql = `SELECT * FROM ${ident(MEASUREMENTS.event)} WHERE ${where.join(' AND ')} ORDER BY time DESC LIMIT ${limit + 1}`;
    const rows = rowsOf(await this.opts.influx.query(sql));
    const events = rows.slice(0, limit).map(r => eventOfRow(tenant, r));
    return { events, truncated: rows.length > limit };
  }
}

const tagEq = (tag: string, value: string): string => `${ident(tag)} = ${literal(value)}`;

const STREAM_ID = /^\d{1,20}-\d{1,20}$/;

function streamId(cursor: string): string {
  if (!STREAM_ID.test(cursor))
    throw new FleetError('invalid_argument', `invalid events cursor '${cursor.slice(0, 40)}'; expected the id of an event from an earlier page`, { details: { field: 'beforeId' } });
  return cursor;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

const SEVERITIES: readonly string[] = ['info', 'warning', 'critical'];

function eventOfRow(tenant: string, r: Record<string, unknown>): FleetEvent {
  const e: FleetEvent = {
    time_ms: Number(r.time),
    tenant,
    site: str(r.site) ?? '',
    miner: str(r.miner) ?? '',
    kind: (str(r.kind) ?? 'status_changed') as EventKind,
    severity: SEVERITIES.includes(String(r.severity)) ? (r.severity as FleetEvent['severity']) : 'info',
    message: str(r.message) ?? '',
  };
  const actor = str(r.actor);
  if (actor !== undefined) e.actor = actor;
  const result = str(r.result);
  if (result !== undefined) e.result = result;
  const data = parseData(r.data);
  if (data) e.data = data;
  return e;
}

function parseData(v: unknown): FleetEvent['data'] | null {
  if (typeof v !== 'string' || v === '') return null;
  try {
    const d = JSON.parse(v) as unknown;
    if (!d || typeof d !== 'object' || Array.isArray(d)) return null;
    const out: Record<string, string | number | boolean> = {};
    for (const [k, x] of Object.entries(d))
      if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') out[k] = x;
    return Object.keys(out).length > 0 ? out : null;
  } catch {
    return null;
  }
}
