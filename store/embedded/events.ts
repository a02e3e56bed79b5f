import { FleetError } from '../../core/errors.ts';
import type { EventKind, FleetEvent } from '../../core/samples.ts';
import { DistinctEventTimes } from '../event-times.ts';
import {
  RECORD_CLOCK_SLACK_MS,
  type EventHistoryQuery,
  type EventsPort,
  type RecentEventsQuery,
  type StoredEvent,
} from '../ports/events.ts';
import type { EmbeddedDatabase } from './database.ts';

/**
 * The events port in one SQLite table. `seq` is the recording order (what a Redis stream id is on
 * the farm backend), `recorded_ms` the clock at recording: `recent` walks seq backwards and
 * `covers` looks at the oldest recorded_ms, so both backends answer alike. Events older than the
 * retention (by their own time) are deleted as new ones arrive.
 */
const MIGRATIONS = [
  `CREATE TABLE events (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     tenant TEXT NOT NULL,
     time_ms INTEGER NOT NULL,
     recorded_ms INTEGER NOT NULL,
     site TEXT NOT NULL,
     miner TEXT NOT NULL,
     kind TEXT NOT NULL,
     severity TEXT NOT NULL,
     message TEXT NOT NULL,
     actor TEXT,
     result TEXT,
     data TEXT
   );
   CREATE INDEX events_tenant_seq ON events (tenant, seq);
   CREATE INDEX events_tenant_time ON events (tenant, time_ms);
   CREATE INDEX events_tenant_kind_time ON events (tenant, kind, time_ms);
   CREATE INDEX events_time ON events (time_ms);`,
];

export const DEFAULT_EVENTS_RETENTION_MS = 90 * 86_400_000;

export interface EmbeddedEventsOptions {
  /** events older than this (by event time) are deleted; @defaultValue 90 days */
  retentionMs?: number;
  /** longest `recent` answer, as the farm backend's stream cap; @defaultValue 10000 */
  maxLen?: number;
  /** clock for recorded_ms and retention; @defaultValue Date.now */
  now?: () => number;
}

interface Row {
  seq: number;
  tenant: string;
  time_ms: number;
  site: string;
  miner: string;
  kind: string;
  severity: string;
  message: string;
  actor: string | null;
  result: string | null;
  data: string | null;
}

/** How often the retention sweep runs at most (it runs on record). */
const PRUNE_EVERY_MS = 60_000;

export class EmbeddedEvents implements EventsPort {
  private readonly database: EmbeddedDatabase;
  private readonly retentionMs: number;
  private readonly maxLen: number;
  private readonly now: () => number;
  private readonly times = new DistinctEventTimes();
  private lastPruneMs = Number.NEGATIVE_INFINITY;

  constructor(database: EmbeddedDatabase, opts: EmbeddedEventsOptions = {}) {
    this.database = database;
    this.retentionMs = opts.retentionMs ?? DEFAULT_EVENTS_RETENTION_MS;
    this.maxLen = opts.maxLen ?? 10_000;
    this.now = opts.now ?? Date.now;
    if (!(this.retentionMs > 0)) throw new FleetError('invalid_argument', `events retention must be a positive number of ms, got ${this.retentionMs}`);
    database.migrate('events', MIGRATIONS);
  }

  async record(input: readonly FleetEvent[]): Promise<void> {
    if (input.length === 0) return;
    const events = input.map(e => this.times.apply(e));
    const now = this.now();
    const insert = this.database.db.prepare(
      'INSERT INTO events (tenant, time_ms, recorded_ms, site, miner, kind, severity, message, actor, result, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.database.transaction(() => {
      for (const e of events) {
        const data = e.data && Object.keys(e.data).length > 0 ? JSON.stringify(e.data) : null;
        insert.run(e.tenant, e.time_ms, now, e.site, e.miner, e.kind, e.severity, e.message, e.actor ?? null, e.result ?? null, data);
      }
    });
    if (now - this.lastPruneMs >= PRUNE_EVERY_MS) this.prune();
  }

  /** Deletes events older than the retention; runs by itself on record (at most once a minute). */
  prune(): number {
    const now = this.now();
    this.lastPruneMs = now;
    const r = this.database.db.prepare('DELETE FROM events WHERE time_ms < ?').run(now - this.retentionMs);
    return Number(r.changes);
  }

  /** Every tenant's events with time in [sinceMs, untilMs), oldest first (export). */
  *exportRange(sinceMs: number, untilMs: number): Generator<FleetEvent> {
    const stmt = this.database.db.prepare('SELECT * FROM events WHERE time_ms >= ? AND time_ms < ? ORDER BY time_ms, seq');
    for (const r of stmt.iterate(sinceMs, untilMs)) yield eventOf(r as unknown as Row);
  }

  async recent(tenant: string, q: RecentEventsQuery = {}): Promise<StoredEvent[]> {
    const limit = Math.max(1, Math.min(q.limit ?? 100, this.maxLen));
    const where = ['tenant = ?'];
    const args: (string | number)[] = [tenant];
    if (q.beforeId !== undefined) {
      where.push('seq < ?');
      args.push(seqOf(q.beforeId));
    }
    if (q.sinceMs !== undefined) {
      // As a stream read from an id: nothing recorded long before the bound.
      where.push('recorded_ms >= ?', 'time_ms >= ?');
      args.push(q.sinceMs - RECORD_CLOCK_SLACK_MS, q.sinceMs);
    }
    if (q.miner) {
      where.push('miner = ?');
      args.push(q.miner);
    }
    if (q.kind) {
      where.push('kind = ?');
      args.push(q.kind);
    }
    const rows = this.database.db
      .prepare(`SELECT * FROM events INDEXED BY events_tenant_seq WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT ?`)
      .all(...args, limit) as unknown as Row[];
    return rows.map(r => ({ ...eventOf(r), id: String(r.seq) }));
  }

  async covers(tenant: string, fromMs: number): Promise<boolean> {
    const row = this.database.db
      .prepare('SELECT recorded_ms FROM events WHERE tenant = ? ORDER BY seq LIMIT 1')
      .get(tenant) as { recorded_ms: number } | undefined;
    return row !== undefined && row.recorded_ms <= fromMs - RECORD_CLOCK_SLACK_MS;
  }

  async history(tenant: string, q: EventHistoryQuery): Promise<{ events: FleetEvent[]; truncated: boolean }> {
    const limit = Math.max(1, Math.floor(q.limit));
    const where = ['tenant = ?', 'time_ms >= ?', 'time_ms <= ?'];
    const args: (string | number)[] = [tenant, q.fromMs, q.toMs];
    if (q.miner !== undefined) {
      where.push('miner = ?');
      args.push(q.miner);
    }
    if (q.kind !== undefined) {
      where.push('kind = ?');
      args.push(q.kind);
    }
    if (q.severity !== undefined) {
      where.push('severity = ?');
      args.push(q.severity);
    }
    const rows = this.database.db
      .prepare(`SELECT * FROM events WHERE ${where.join(' AND ')} ORDER BY time_ms DESC, seq DESC LIMIT ?`)
      .all(...args, limit + 1) as unknown as Row[];
    return { events: rows.slice(0, limit).map(eventOf), truncated: rows.length > limit };
  }
}

function seqOf(cursor: string): number {
  if (!/^\d{1,15}$/.test(cursor))
    throw new FleetError('invalid_argument', `invalid events cursor '${cursor.slice(0, 40)}'; expected the id of an event from an earlier page`, { details: { field: 'beforeId' } });
  return Number(cursor);
}

function eventOf(r: Row): FleetEvent {
  const e: FleetEvent = {
    time_ms: r.time_ms,
    tenant: r.tenant,
    site: r.site,
    miner: r.miner,
    kind: r.kind as EventKind,
    severity: r.severity as FleetEvent['severity'],
    message: r.message,
  };
  if (r.actor !== null) e.actor = r.actor;
  if (r.result !== null) e.result = r.result;
  if (r.data !== null) e.data = JSON.parse(r.data) as NonNullable<FleetEvent['data']>;
  return e;
}
