import { escape } from '@influxdata/influxdb-client';
import type { MinerRef } from '../../core/samples.ts';
import { fieldTypeOf, SERIES_SCHEMA } from '../../core/series-schema.ts';
import type { SeriesPoint } from '../ports/series.ts';

/**
 * Series points -> InfluxDB line protocol (precision ms). Pure and allocation-light: this is
 * the hot path (10k miners x ~10 lines every 10 s), so lines are built as strings instead of
 * through the client's Point class; the escaping is the client's own (`escape`).
 *
 * Type discipline (a field never changes type, or InfluxDB rejects the write): fractional
 * measurements are always floats (an integral value such as `power_w=3070` is still a float in
 * line protocol), counters/counts/flags are `i` integers, states are strings. Null, NaN and
 * ±Infinity are omitted (normalisation upstream already rejects garbage). Tags are emitted in
 * key order (what InfluxDB stores anyway) and empty tag values are left out (not allowed in
 * line protocol).
 */

// The client's escapers walk every character; most of our values need no escaping at all.
const TAG_SPECIAL = /[,= \n\r\t]/;
const MEASUREMENT_SPECIAL = /[, \n\r\t]/;
const STRING_SPECIAL = /["\\]/;

/** Tag value / key escaping (commas, spaces, equals signs, control characters). */
export const escapeTag = (value: string): string => (TAG_SPECIAL.test(value) ? escape.tag(value) : value);
/** Measurement name escaping (commas, spaces). */
export const escapeMeasurement = (value: string): string =>
  MEASUREMENT_SPECIAL.test(value) ? escape.measurement(value) : value;
/** Quoted string field value (quotes and backslashes escaped). */
export const quoteString = (value: string): string =>
  STRING_SPECIAL.test(value) ? escape.quoted(value) : `"${value}"`;

/** `key=value` tag pairs in the given (already sorted) order; empty values are skipped. */
export function tagSet(pairs: readonly (readonly [string, string | null | undefined])[]): string {
  let out = '';
  for (const [k, v] of pairs) if (v) out += `,${k}=${escapeTag(v)}`;
  return out;
}

/** Accumulates `k=v` field pairs with their line-protocol types. */
export class FieldSet {
  text = '';

  private add(key: string, value: string): this {
    this.text += (this.text === '' ? '' : ',') + key + '=' + value;
    return this;
  }

  float(key: string, v: number | null | undefined): this {
    return v === null || v === undefined || !Number.isFinite(v) ? this : this.add(key, String(v));
  }

  int(key: string, v: number | null | undefined): this {
    return v === null || v === undefined || !Number.isFinite(v) ? this : this.add(key, `${Math.round(v)}i`);
  }

  flag(key: string, v: boolean | null | undefined): this {
    return v === null || v === undefined ? this : this.add(key, v ? '1i' : '0i');
  }

  str(key: string, v: string | null | undefined): this {
    return v === null || v === undefined ? this : this.add(key, quoteString(v));
  }
}

/** One line, or null when no field survived (a line without fields is invalid). */
export function line(measurement: string, tags: string, fields: FieldSet, timeMs: number): string | null {
  return fields.text === '' ? null : `${measurement}${tags} ${fields.text} ${Math.round(timeMs)}`;
}

/** Tags of `miner` (and its rollups) as line protocol: miner, model, site, tenant (fixtures). */
export function minerTags(ref: MinerRef, model: string | null | undefined): string {
  return tagSet([
    ['miner', ref.id],
    ['model', model],
    ['site', ref.site],
    ['tenant', ref.tenant],
  ]);
}

/** One point as a line (precision ms), or null when no field survived (a line without fields is invalid). */
export function toLine(p: SeriesPoint): string | null {
  const schema = SERIES_SCHEMA[p.measurement];
  let tags = '';
  const keys = Object.keys(p.tags);
  // Points built by the collector come in key order; sort only what does not.
  for (let i = 1; i < keys.length; i++) {
    if (keys[i - 1]! > keys[i]!) {
      keys.sort();
      break;
    }
  }
  for (const k of keys) {
    const v = p.tags[k];
    if (v) tags += `,${escapeTag(k)}=${escapeTag(v)}`;
  }
  const f = new FieldSet();
  for (const k in p.fields) {
    const v = p.fields[k];
    if (v === null || v === undefined) continue;
    const type = schema?.fields[k] ?? fieldTypeOf(p.measurement, k, v);
    if (typeof v === 'boolean') f.flag(k, v);
    else if (type === 'string') f.str(k, String(v));
    else if (typeof v !== 'number') continue; // a string where the schema says number: not writable
    else if (type === 'int') f.int(k, v);
    else f.float(k, v);
  }
  return line(escapeMeasurement(p.measurement), tags, f, p.time_ms);
}

/** Lines of points, skipping those without fields. */
export function toLines(points: readonly SeriesPoint[]): string[] {
  const out: string[] = [];
  for (const p of points) {
    const l = toLine(p);
    if (l !== null) out.push(l);
  }
  return out;
}
