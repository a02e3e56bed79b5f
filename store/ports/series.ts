import type { CollectorMetrics } from '../../collector/metrics.ts';
import type { Logger } from '../../runtime/logger.ts';

/**
 * The series port: time series of miners, boards, fans, pools, events and the collector's
 * rollups. Writers hand over structured points (the collector's hot path builds them once;
 * each adapter renders them its own way: line protocol for InfluxDB, rows for SQLite). Readers
 * ask a small typed query model that both adapters answer with the same shape (rows grouped by
 * tags), so the query service never sees InfluxQL or SQL.
 */

/** A field value: numbers are floats unless the measurement's schema (core/series-schema.ts) says integer. */
export type SeriesFieldValue = number | string | boolean | null | undefined;

export interface SeriesPoint {
  measurement: string;
  /** empty or missing values are left out (a series has no empty tag) */
  tags: Readonly<Record<string, string | null | undefined>>;
  /** null, undefined and non-finite numbers are left out; a point without fields is not written */
  fields: Readonly<Record<string, SeriesFieldValue>>;
  time_ms: number;
}

export interface SeriesWriterStats {
  /** points accepted and not yet durable (InfluxDB: the write buffer; embedded: 0 after each batch) */
  pending: number;
  /** points stored since start */
  written: number;
  /** points given up on (buffer full, rejected, closed) */
  dropped: number;
}

/** What the collector (and the audit trail) writes through. write() never blocks on I/O. */
export interface SeriesWriter {
  write(points: readonly SeriesPoint[]): void;
  /** make everything written so far durable; rejects (points kept) when the store refuses */
  flush(): Promise<void>;
  /** flush what is pending (bounded by timeoutMs), then refuse further writes */
  close(opts?: { timeoutMs?: number }): Promise<void>;
  stats(): SeriesWriterStats;
}

export type SeriesAggregate = 'mean' | 'max' | 'min' | 'sum' | 'last' | 'count';

export interface SeriesField {
  fn: SeriesAggregate;
  field: string;
  /** column name in the answer (default: the field) */
  as?: string;
}

/** tag = value, or tag is one of values */
export interface TagFilter {
  tag: string;
  in: readonly string[];
}

/** A second aggregation over the rows of the first (InfluxQL subquery): same range and step. */
export interface SeriesThen {
  fields: readonly SeriesField[];
  groupBy?: readonly string[];
  fill?: 'null' | 'none';
}

export interface SeriesQuery {
  measurement: string;
  /** every read is scoped to one tenant */
  tenant: string;
  tags?: readonly TagFilter[];
  /** [fromMs, toMs) */
  fromMs: number;
  toMs: number;
  fields: readonly SeriesField[];
  /** time buckets aligned to the epoch; without a step one row per group over the whole range */
  stepMs?: number;
  groupBy?: readonly string[];
  /** with a step: `null` answers every bucket of the range (the default), `none` only those with data */
  fill?: 'null' | 'none';
  then?: SeriesThen;
}

/** Raw points, newest first (events history). */
export interface SeriesPointsQuery {
  measurement: string;
  tenant: string;
  tags?: readonly TagFilter[];
  fromMs: number;
  toMs: number;
  limit: number;
}

/** One group of an answer: its group-by tag values ('' when a point had none) and its rows. */
export interface SeriesGroup {
  tags: Record<string, string>;
  /** `time` (bucket start, or the range start without a step, epoch ms) plus one column per field alias */
  rows: Record<string, unknown>[];
}

export interface SeriesReader {
  query(q: SeriesQuery): Promise<SeriesGroup[]>;
  /** several queries in one round trip where the store can */
  queryMany(qs: readonly SeriesQuery[]): Promise<SeriesGroup[][]>;
  /** raw points with all their tags and fields as columns plus `time` */
  points(q: SeriesPointsQuery): Promise<Record<string, unknown>[]>;
}

export interface SeriesRetentionReport {
  /** day tables dropped whole (embedded raw tier) */
  droppedTables: string[];
  /** rollup rows deleted, per measurement */
  deletedRows: Record<string, number>;
  /** what the backend says about retention it does not run itself */
  note?: string;
}

export interface SeriesPort {
  readonly reader: SeriesReader;
  /** a writer for one process (the collector, the API's audit trail); close it before the store */
  openWriter(opts?: SeriesWriterOptions): Promise<SeriesWriter>;
  /** drop what is past its retention (embedded); InfluxDB keeps its own retention policies */
  applyRetention(nowMs?: number): Promise<SeriesRetentionReport>;
}

export interface SeriesWriterOptions {
  /** the writing process's counters (points written/dropped, buffer fill) */
  metrics?: CollectorMetrics;
  logger?: Logger;
  /** InfluxDB writer tuning; the embedded writer commits one transaction per flush */
  batchSize?: number;
  flushIntervalMs?: number;
  bufferMaxPoints?: number;
  maxRetryDelayMs?: number;
  /** InfluxDB write requests in flight at most; the embedded writer ignores it */
  concurrency?: number;
}
