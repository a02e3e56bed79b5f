import { createCollectorMetrics } from '../../collector/metrics.ts';
import type {
  SeriesGroup,
  SeriesPointsQuery,
  SeriesPort,
  SeriesQuery,
  SeriesReader,
  SeriesRetentionReport,
  SeriesWriter,
  SeriesWriterOptions,
  SeriesWriterStats,
} from '../ports/series.ts';
import type { InfluxClient } from './influx-client.ts';
import { pointsStatement, seriesRows, seriesStatement } from './influxql.ts';
import { InfluxWriter } from './influx-writer.ts';
import { toLines } from './line-protocol.ts';

/**
 * The series port over InfluxDB (v1 API): points become line protocol for InfluxWriter (batched,
 * retried, buffered), queries become InfluxQL (influxql.ts). Retention is InfluxDB's own: its
 * retention policy (1.x) or bucket retention (2.x/3.x), set by the operator; applyRetention
 * drops nothing and says so.
 */

/** The port's writer over an InfluxWriter the caller already has (the API's audit writer, tests). */
export function influxSeriesWriter(writer: InfluxWriter): SeriesWriter & { readonly influx: InfluxWriter } {
  return {
    influx: writer,
    write: points => writer.write(toLines(points)),
    flush: () => writer.flush(),
    close: opts => writer.close(opts),
    stats: (): SeriesWriterStats => ({ pending: writer.pending, written: writer.written, dropped: writer.dropped }),
  };
}

export class InfluxSeriesReader implements SeriesReader {
  private readonly influx: InfluxClient;

  constructor(influx: InfluxClient) {
    this.influx = influx;
  }

  async query(q: SeriesQuery): Promise<SeriesGroup[]> {
    return seriesRows(await this.influx.query(seriesStatement(q)));
  }

  /** One request with `;`-separated statements. */
  async queryMany(qs: readonly SeriesQuery[]): Promise<SeriesGroup[][]> {
    if (qs.length === 0) return [];
    const got = await this.influx.queryMulti(qs.map(seriesStatement).join('; '));
    return qs.map((_q, i) => seriesRows(got[i] ?? []));
  }

  async points(q: SeriesPointsQuery): Promise<Record<string, unknown>[]> {
    return seriesRows(await this.influx.query(pointsStatement(q))).flatMap(s => s.rows.map(r => ({ ...s.tags, ...r })));
  }
}

export function influxSeries(influx: InfluxClient): SeriesPort {
  return {
    reader: new InfluxSeriesReader(influx),
    async openWriter(o: SeriesWriterOptions = {}) {
      const writer = new InfluxWriter({
        settings: influx.settings,
        client: influx,
        metrics: o.metrics ?? createCollectorMetrics(undefined, { processMetrics: false }),
        ...(o.logger ? { logger: o.logger } : {}),
        batchSize: o.batchSize ?? 5_000,
        flushIntervalMs: o.flushIntervalMs ?? 1_000,
        bufferMaxPoints: o.bufferMaxPoints ?? 1_000_000,
        maxRetryDelayMs: o.maxRetryDelayMs ?? 30_000,
        concurrency: o.concurrency ?? 1,
      });
      await writer.start();
      return influxSeriesWriter(writer);
    },
    async applyRetention(): Promise<SeriesRetentionReport> {
      return {
        droppedTables: [],
        deletedRows: {},
        note: 'InfluxDB keeps its own retention: the database retention policy (1.x) or the bucket retention (2.x/3.x)',
      };
    },
  };
}
