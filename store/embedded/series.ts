import type { SQLInputValue } from 'node:sqlite';
import { FleetError } from '../../core/errors.ts';
import { fieldTypeOf } from '../../core/series-schema.ts';
import { silentLogger, type Logger } from '../../runtime/logger.ts';
import type {
  SeriesGroup,
  SeriesPoint,
  SeriesPointsQuery,
  SeriesPort,
  SeriesQuery,
  SeriesReader,
  SeriesRetentionReport,
  SeriesWriter,
  SeriesWriterOptions,
} from '../ports/series.ts';
import type { EmbeddedDatabase } from './database.ts';
import { pointsSql, querySql, registerSeriesFunctions, toGroups, type Sql } from './series-sql.ts';
import { SeriesReaderThread } from './series-reader-thread.ts';
import { DAY_MS, q, SeriesTables, tierOf, type Column, type Tier } from './series-tables.ts';

/**
 * The series port on the embedded SQLite file. Writes are buffered in memory and committed as
 * one transaction per flush (every flushIntervalMs, or at batchSize points), so a collection
 * cycle costs one fsync-free WAL append. Reads run on the shared connection; the query service
 * keeps them small by reading rollups for long ranges (pickSource / pickFleetSource).
 *
 * Retention (applyRetention, also on a timer): raw day tables older than rawDays are dropped
 * whole; rollup rows older than their tier's days are deleted in chunks; then the WAL is
 * checkpointed. Freed pages are reused by new rows, so a store at steady state stops growing.
 */

export interface SeriesRetention {
  /** raw points (miner, hashboard, fan, pool, event): whole UTC days kept. @defaultValue 7 */
  rawDays: number;
  /** 1-minute rollups. @defaultValue 35 */
  minuteDays: number;
  /** 1-hour rollups. @defaultValue 400 */
  hourDays: number;
}

export const DEFAULT_SERIES_RETENTION: SeriesRetention = { rawDays: 7, minuteDays: 35, hourDays: 400 };

export interface EmbeddedSeriesOptions {
  retention?: Partial<SeriesRetention>;
  /** how often the retention job runs; 0: never by itself (tests call applyRetention). @defaultValue 1 h */
  retentionIntervalMs?: number;
  log?: Logger | undefined;
  now?: () => number;
  /** run reads on a worker thread with its own read-only connection (default true) */
  readThread?: boolean;
}

/** Rows deleted per transaction, so a large expiry does not hold the event loop (or the writer) for long. */
const DELETE_CHUNK = 20_000;

function bindValue(v: unknown, col: Column): SQLInputValue {
  if (v === null || v === undefined) return null;
  if (col.kind === 'tag') return typeof v === 'string' ? v : String(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return null;
    if (col.type === 'int') return Math.round(v);
    return col.type === 'string' ? String(v) : v;
  }
  // A string where the column holds numbers: InfluxDB would refuse the field; so do we.
  return col.type === 'string' ? String(v) : null;
}

export class EmbeddedSeriesWriter implements SeriesWriter {
  private queue: SeriesPoint[] = [];
  private written = 0;
  private dropped = 0;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private kicked = false;

  private readonly series: EmbeddedSeries;
  private readonly opts: { batchSize: number; flushIntervalMs: number; log: Logger; metrics?: SeriesWriterOptions['metrics'] };

  constructor(series: EmbeddedSeries, opts: EmbeddedSeriesWriter['opts']) {
    this.series = series;
    this.opts = opts;
    if (opts.flushIntervalMs > 0) {
      this.timer = setInterval(() => this.flushQuietly(), opts.flushIntervalMs);
      this.timer.unref();
    }
  }

  write(points: readonly SeriesPoint[]): void {
    if (this.closed) {
      this.dropped += points.length;
      this.opts.metrics?.pointsDropped.inc({ reason: 'closed' }, points.length);
      this.opts.log.warn({ points: points.length }, 'series writer is closed; points dropped');
      return;
    }
    for (const p of points) this.queue.push(p);
    this.opts.metrics?.bufferFill.set(this.queue.length);
    if (this.queue.length >= this.opts.batchSize && !this.kicked) {
      // Committing is not the poller's job: after the current tick.
      this.kicked = true;
      setImmediate(() => {
        this.kicked = false;
        this.flushQuietly();
      });
    }
  }

  private flushQuietly(): void {
    try {
      this.commit();
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message, pending: this.queue.length }, 'series write failed; retried at the next flush');
    }
  }

  private commit(): void {
    if (this.queue.length === 0 || !this.series.isOpen) return;
    const batch = this.queue;
    this.queue = [];
    const t0 = performance.now();
    try {
      const n = this.series.writeBatch(batch);
      this.opts.metrics?.storeWriteDuration.observe({ kind: 'series' }, (performance.now() - t0) / 1000);
      this.written += n;
      this.dropped += batch.length - n;
      this.opts.metrics?.pointsWritten.inc(n);
      if (batch.length > n) this.opts.metrics?.pointsDropped.inc({ reason: 'rejected' }, batch.length - n);
    } catch (err) {
      this.queue = batch.concat(this.queue);
      this.opts.metrics?.writeFailures.inc();
      throw new FleetError('unavailable', `the embedded store refused a series write: ${(err as Error).message}`, { cause: err });
    } finally {
      this.opts.metrics?.bufferFill.set(this.queue.length);
    }
  }

  async flush(): Promise<void> {
    this.commit();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.timer);
    try {
      this.commit();
    } finally {
      this.closed = true;
      if (this.queue.length > 0) {
        this.dropped += this.queue.length;
        this.opts.log.error({ points: this.queue.length }, 'series writer closed with unwritten points');
        this.queue = [];
      }
    }
  }

  stats(): { pending: number; written: number; dropped: number } {
    return { pending: this.queue.length, written: this.written, dropped: this.dropped };
  }
}

export class EmbeddedSeries implements SeriesPort, SeriesReader {
  readonly reader: SeriesReader = this;
  private readonly database: EmbeddedDatabase;
  private readonly tables: SeriesTables;
  private readonly retention: SeriesRetention;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly writers = new Set<EmbeddedSeriesWriter>();
  private retentionTimer: NodeJS.Timeout | undefined;
  private readonly thread: SeriesReaderThread | null;

  constructor(database: EmbeddedDatabase, opts: EmbeddedSeriesOptions = {}) {
    this.database = database;
    this.log = opts.log ?? silentLogger();
    this.now = opts.now ?? Date.now;
    this.retention = { ...DEFAULT_SERIES_RETENTION, ...opts.retention };
    for (const [k, v] of Object.entries(this.retention))
      if (!(Number.isFinite(v) && v >= 1))
        throw new FleetError('invalid_argument', `series retention ${k}: expected a number of days >= 1, got ${v}`, { details: { field: k } });
    database.migrate('series', [
      'CREATE TABLE IF NOT EXISTS series_columns (measurement TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL, type TEXT NOT NULL, PRIMARY KEY (measurement, name))',
    ]);
    registerSeriesFunctions(database.db);
    this.tables = new SeriesTables(database.db);
    this.thread = opts.readThread === false ? null : new SeriesReaderThread(database.file, opts.log);
    const every = opts.retentionIntervalMs ?? 3_600_000;
    if (every > 0) {
      this.retentionTimer = setInterval(() => {
        this.applyRetention().catch(err => this.log.warn({ err: (err as Error).message }, 'series retention failed; retried next period'));
      }, every);
      this.retentionTimer.unref();
    }
  }

  get isOpen(): boolean {
    return this.database.isOpen;
  }

  async openWriter(o: SeriesWriterOptions = {}): Promise<SeriesWriter> {
    const w = new EmbeddedSeriesWriter(this, {
      batchSize: o.batchSize ?? 5_000,
      flushIntervalMs: o.flushIntervalMs ?? 1_000,
      log: o.logger ?? this.log,
      ...(o.metrics ? { metrics: o.metrics } : {}),
    });
    this.writers.add(w);
    return w;
  }

  /** One transaction; returns the points stored (a point without fields is not). */
  writeBatch(points: readonly SeriesPoint[]): number {
    return this.database.transaction(() => {
      let n = 0;
      for (const p of points) if (this.insert(p)) n++;
      return n;
    });
  }

  private insert(p: SeriesPoint): boolean {
    let any = false;
    for (const k in p.fields) {
      const v = p.fields[k];
      if (v !== null && v !== undefined && (typeof v !== 'number' || Number.isFinite(v))) {
        any = true;
        break;
      }
    }
    if (!any) return false;
    const table = this.tables.tableFor(p.measurement, p.time_ms);
    let ins = this.tables.insert(p.measurement, table);
    // A tag or field the measurement does not have yet gets its column first.
    const known = ins.known;
    let added = false;
    for (const k in p.tags) {
      if (!known.has(k) && p.tags[k]) {
        this.tables.addColumn(p.measurement, { name: k, kind: 'tag', type: 'string' });
        added = true;
      }
    }
    for (const k in p.fields) {
      const v = p.fields[k];
      if (!known.has(k) && v !== null && v !== undefined) {
        this.tables.addColumn(p.measurement, { name: k, kind: 'field', type: fieldTypeOf(p.measurement, k, v) });
        added = true;
      }
    }
    if (added) ins = this.tables.insert(p.measurement, table);
    const cols = ins.columns;
    const values: SQLInputValue[] = new Array(cols.length + 1);
    values[0] = Math.round(p.time_ms);
    for (let i = 0; i < cols.length; i++) {
      const c = cols[i]!;
      values[i + 1] = c.kind === 'tag' ? (bindValue(p.tags[c.name], c) ?? '') : bindValue(p.fields[c.name], c);
    }
    ins.stmt.run(...values);
    return true;
  }

  async query(query: SeriesQuery): Promise<SeriesGroup[]> {
    const sql = querySql(query, this.tables.tablesFor(query.measurement, query.fromMs, query.toMs), this.tables.columns(query.measurement));
    if (!sql) return [];
    return toGroups(query, await this.rows(sql));
  }

  async queryMany(qs: readonly SeriesQuery[]): Promise<SeriesGroup[][]> {
    const out: SeriesGroup[][] = [];
    for (const query of qs) out.push(await this.query(query));
    return out;
  }

  async points(query: SeriesPointsQuery): Promise<Record<string, unknown>[]> {
    const sql = pointsSql(query, this.tables.tablesFor(query.measurement, query.fromMs, query.toMs), this.tables.columns(query.measurement));
    if (!sql) return [];
    return await this.rows(sql);
  }

  private async rows(sql: Sql): Promise<Record<string, unknown>[]> {
    if (this.thread) return await this.thread.read(sql);
    return this.database.db.prepare(sql.sql).all(...sql.params) as Record<string, unknown>[];
  }

  /** Every stored row with time in [sinceMs, untilMs), table by table, with its columns (export). */
  *exportRows(sinceMs: number, untilMs: number): Generator<{ measurement: string; columns: readonly Column[]; row: Record<string, unknown> }> {
    for (const measurement of this.tables.measurementNames()) {
      const columns = this.tables.columns(measurement);
      for (const table of this.tables.tablesFor(measurement, sinceMs, untilMs)) {
        const stmt = this.database.db.prepare(`SELECT * FROM ${q(table)} WHERE time_ms >= ? AND time_ms < ? ORDER BY time_ms`);
        for (const row of stmt.iterate(sinceMs, untilMs)) yield { measurement, columns, row: row as Record<string, unknown> };
      }
    }
  }

  async applyRetention(nowMs = this.now()): Promise<SeriesRetentionReport> {
    const report: SeriesRetentionReport = { droppedTables: [], deletedRows: {} };
    if (!this.database.isOpen) return report;
    for (const [measurement, table] of this.tables.dayTablesBefore(nowMs - this.retention.rawDays * DAY_MS)) {
      this.database.transaction(() => this.tables.dropTable(measurement, table));
      report.droppedTables.push(table);
    }
    const days: Record<Exclude<Tier, 'raw'>, number> = { '1m': this.retention.minuteDays, '1h': this.retention.hourDays };
    for (const table of this.tables.rollupTables()) {
      const cutoff = Math.floor(nowMs - days[tierOf(table) as Exclude<Tier, 'raw'>] * DAY_MS);
      const del = this.database.db.prepare(
        `DELETE FROM "${table}" WHERE rowid IN (SELECT rowid FROM "${table}" WHERE time_ms < ? LIMIT ${DELETE_CHUNK})`,
      );
      let total = 0;
      for (;;) {
        if (!this.database.isOpen) break;
        const n = Number(this.database.transaction(() => del.run(cutoff)).changes);
        total += n;
        if (n < DELETE_CHUNK) break;
        await new Promise(r => setImmediate(r)); // let other work in between chunks
      }
      if (total > 0) report.deletedRows[table] = total;
    }
    this.database.checkpoint();
    if (report.droppedTables.length > 0 || Object.keys(report.deletedRows).length > 0)
      this.log.info(report, 'series retention: expired data removed');
    return report;
  }

  /** Flushes and closes the writers (before the database closes). */
  async close(): Promise<void> {
    clearInterval(this.retentionTimer);
    await this.thread?.close();
    for (const w of this.writers) await w.close().catch(err => this.log.warn({ err: (err as Error).message }, 'series writer close failed'));
    this.writers.clear();
  }
}
