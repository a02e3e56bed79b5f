import { MEASUREMENTS, type FleetEvent } from '../../core/samples.ts';
import { eventPoint } from '../../collector/points.ts';
import { FleetError } from '../../core/errors.ts';
import type { SeriesFieldValue, SeriesPoint } from '../ports/series.ts';
import type { EmbeddedStore } from '../embedded/index.ts';
import { EmbeddedEvents } from '../embedded/events.ts';
import { EmbeddedSeries } from '../embedded/series.ts';
import type { FieldValue, LinePoint } from './line-protocol.ts';
import type { SeriesTransfer } from './series-transfer.ts';

/**
 * Export and import on the embedded store. Series rows become line-protocol points with the
 * column types of their measurement (integers with `i`); events, which the embedded store keeps in
 * their own table, become `event` points exactly as the farm backend writes them to InfluxDB, so
 * an export imported there gives the same history.
 */
export function embeddedTransfer(store: EmbeddedStore): SeriesTransfer {
  const series = store.series;
  const events = store.events;
  if (!(series instanceof EmbeddedSeries) || !(events instanceof EmbeddedEvents))
    throw new FleetError('internal', 'embedded export needs the embedded series and events adapters');
  return {
    async *exportRange({ sinceMs, untilMs }) {
      for (const { measurement, columns, row } of series.exportRows(sinceMs, untilMs)) {
        const tags: Record<string, string> = {};
        const fields: Record<string, FieldValue> = {};
        for (const c of columns) {
          const v = row[c.name];
          if (v === null || v === undefined || v === '') continue;
          if (c.kind === 'tag') tags[c.name] = String(v);
          else if (c.type === 'int') fields[c.name] = BigInt(Math.trunc(Number(v)));
          else if (c.type === 'string') fields[c.name] = String(v);
          else fields[c.name] = Number(v);
        }
        if (Object.keys(fields).length > 0) yield { measurement, tags, fields, timeNs: BigInt(Number(row.time_ms)) * 1_000_000n };
      }
      for (const e of events.exportRange(sinceMs, untilMs)) yield linePointOf(eventPoint(e));
    },
    async write(points) {
      const rows: SeriesPoint[] = [];
      const fleetEvents: FleetEvent[] = [];
      for (const p of points) {
        if (p.measurement === MEASUREMENTS.event) fleetEvents.push(eventOf(p));
        else rows.push(seriesPointOf(p));
      }
      if (rows.length > 0) series.writeBatch(rows);
      if (fleetEvents.length > 0) await events.record(fleetEvents);
    },
  };
}

function linePointOf(p: SeriesPoint): LinePoint {
  const tags: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.tags)) if (v) tags[k] = v;
  const fields: Record<string, FieldValue> = {};
  for (const [k, v] of Object.entries(p.fields)) if (v !== null && v !== undefined) fields[k] = v;
  return { measurement: p.measurement, tags, fields, timeNs: BigInt(p.time_ms) * 1_000_000n };
}

function seriesPointOf(p: LinePoint): SeriesPoint {
  const fields: Record<string, SeriesFieldValue> = {};
  for (const [k, v] of Object.entries(p.fields)) fields[k] = typeof v === 'bigint' ? Number(v) : v;
  return { measurement: p.measurement, tags: p.tags, fields, time_ms: Number(p.timeNs / 1_000_000n) };
}

function eventOf(p: LinePoint): FleetEvent {
  const str = (v: FieldValue | undefined): string | undefined => (v === undefined ? undefined : String(v));
  const e: FleetEvent = {
    time_ms: Number(p.timeNs / 1_000_000n),
    tenant: p.tags.tenant ?? '',
    site: p.tags.site ?? '',
    miner: p.tags.miner ?? '',
    kind: (p.tags.kind ?? 'status_changed') as FleetEvent['kind'],
    severity: (p.tags.severity ?? 'info') as FleetEvent['severity'],
    message: str(p.fields.message) ?? '',
  };
  const actor = str(p.fields.actor);
  const result = str(p.fields.result);
  const data = str(p.fields.data);
  if (actor !== undefined) e.actor = actor;
  if (result !== undefined) e.result = result;
  if (data !== undefined) e.data = JSON.parse(data) as NonNullable<FleetEvent['data']>;
  return e;
}
