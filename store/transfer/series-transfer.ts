import { FleetError } from '../../core/errors.ts';
import type { InfluxRedisStore } from '../influx-redis/index.ts';
import { authHeaders, ident, type InfluxClient } from '../influx-redis/influx-client.ts';
import type { Store } from '../store.ts';
import type { EmbeddedStore } from '../embedded/index.ts';
import { embeddedTransfer } from './embedded-transfer.ts';
import { formatLine, type FieldValue, type LinePoint } from './line-protocol.ts';

/**
 * What `bos-fleet export` and `import` need from a store's series: every stored point of a time
 * range, and a way to write points as they are. Local to the transfer commands until the series
 * port offers both (then `seriesTransferOf` just returns the port).
 */
export interface SeriesExportSource {
  /** raw points and stored rollups (and events) with time in [sinceMs, untilMs), any order */
  exportRange(o: { sinceMs: number; untilMs: number }): AsyncIterable<LinePoint>;
}

export interface SeriesImportSink {
  write(points: readonly LinePoint[]): Promise<void>;
}

export type SeriesTransfer = SeriesExportSource & SeriesImportSink;

export function seriesTransferOf(store: Store): SeriesTransfer {
  if (store.backend === 'influx-redis') return influxTransfer((store as InfluxRedisStore).influx);
  return embeddedTransfer(store as EmbeddedStore);
}

/** InfluxDB over its v1 HTTP API: InfluxQL for reading (one measurement and day at a time), /write for writing. */
export function influxTransfer(influx: InfluxClient): SeriesTransfer {
  const DAY_MS = 86_400_000;
  return {
    async *exportRange({ sinceMs, untilMs }) {
      const measurements = (await influx.query('SHOW MEASUREMENTS')).flatMap(s => s.values.map(v => String(v[0])));
      for (const m of measurements) {
        const tagKeys = new Set((await influx.query(`SHOW TAG KEYS FROM ${ident(m)}`)).flatMap(s => s.values.map(v => String(v[0]))));
        const fieldTypes = new Map((await influx.query(`SHOW FIELD KEYS FROM ${ident(m)}`)).flatMap(s => s.values.map(v => [String(v[0]), String(v[1])] as const)));
        for (let from = sinceMs; from < untilMs; from += DAY_MS) {
          const to = Math.min(untilMs, from + DAY_MS);
          const series = await influx.query(`SELECT * FROM ${ident(m)} WHERE time >= ${from}ms AND time < ${to}ms`);
          for (const s of series) {
            for (const row of s.values) {
              const tags: Record<string, string> = {};
              const fields: Record<string, FieldValue> = {};
              let timeMs = 0;
              s.columns.forEach((col, i) => {
                const v = row[i];
                if (col === 'time') timeMs = Number(v);
                else if (v === null || v === undefined) return;
                else if (tagKeys.has(col)) tags[col] = String(v);
                else fields[col] = fieldTypes.get(col) === 'integer' ? BigInt(Math.trunc(Number(v))) : (v as FieldValue);
              });
              if (Object.keys(fields).length > 0) yield { measurement: m, tags, fields, timeNs: BigInt(timeMs) * 1_000_000n };
            }
          }
        }
      }
    },
    async write(points) {
      if (points.length === 0) return;
      await influx.ensureDatabase();
      const s = influx.settings;
      const url = `${s.url.replace(/\/$/, '')}/write?db=${encodeURIComponent(s.db)}&precision=ns`;
      let res: Response;
      try {
        res = await fetch(url, { method: 'POST', headers: authHeaders(s), body: points.map(formatLine).join('\n'), signal: AbortSignal.timeout(s.timeoutMs ?? 30_000) });
      } catch (err) {
        throw new FleetError('unavailable', `InfluxDB is not reachable at ${s.url} (write)`, { cause: err });
      }
      if (!res.ok) throw new FleetError('unavailable', `InfluxDB refused the write (HTTP ${res.status}): ${(await res.text()).slice(0, 300)}`);
    },
  };
}

