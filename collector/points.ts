import { escape } from '@influxdata/influxdb-client';
import { MEASUREMENTS, type FleetEvent, type MinerRef, type MinerSample } from '../core/samples.ts';

/**
 * MinerSample / FleetEvent -> InfluxDB line protocol (precision ms). Pure and allocation-light:
 * this is the hot path (10k miners x ~10 lines every 10 s), so lines are built as strings
 * instead of through the client's Point class; the escaping is the client's own (`escape`).
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

/** Tags of `miner` (and its rollups): miner, model, site, tenant. */
export function minerTags(ref: MinerRef, model: string | null | undefined): string {
  return tagSet([
    ['miner', ref.id],
    ['model', model],
    ['site', ref.site],
    ['tenant', ref.tenant],
  ]);
}

/** All points of one successful poll: miner, then hashboards, fans, pools. */
export function samplePoints(s: MinerSample): string[] {
  const t = s.time_ms;
  const out: string[] = [];
  const f = new FieldSet()
    .int('up', 1)
    .str('status', s.status)
    .float('hashrate_ghs', s.hashrate_ghs)
    .float('hashrate_5m_ghs', s.hashrate_5m_ghs)
    .float('hashrate_nominal_ghs', s.hashrate_nominal_ghs)
    .float('hashrate_nominal_reported_ghs', s.hashrate_nominal_reported_ghs)
    .float('hashrate_error_mhs', s.hashrate_error_mhs)
    .float('power_w', s.power_w)
    .float('power_target_w', s.power_target_w)
    .float('efficiency_jth', s.efficiency_jth)
    .float('temp_chip_max_c', s.temp_chip_max_c)
    .float('temp_board_max_c', s.temp_board_max_c)
    .int('fan_rpm_min', s.fan_rpm_min)
    .float('fan_rpm_avg', s.fan_rpm_avg)
    .int('shares_accepted', s.shares_accepted)
    .int('shares_rejected', s.shares_rejected)
    .int('shares_stale', s.shares_stale)
    .str('tuner_state', s.tuner_state)
    .int('uptime_s', s.uptime_s)
    .int('system_uptime_s', s.system_uptime_s)
    .int('boards_hashing', s.boards_hashing)
    .int('boards_total', s.boards_total)
    .str('firmware', s.firmware);
  out.push(line(MEASUREMENTS.miner, minerTags(s.ref, s.model), f, t)!);

  // Shared tail of every child point: miner < site < tenant in key order.
  const minerTag = `,miner=${escapeTag(s.ref.id)}`;
  const siteTenant = tagSet([
    ['site', s.ref.site],
    ['tenant', s.ref.tenant],
  ]);
  for (const b of s.hashboards) {
    const fb = new FieldSet()
      .float('hashrate_ghs', b.hashrate_ghs)
      .float('hashrate_nominal_ghs', b.hashrate_nominal_ghs)
      .float('hashrate_error_mhs', b.hashrate_error_mhs)
      .float('temp_chip_c', b.temp_chip_c)
      .float('temp_board_c', b.temp_board_c)
      .float('temp_inlet_c', b.temp_inlet_c)
      .float('temp_outlet_c', b.temp_outlet_c)
      .float('voltage_v', b.voltage_v)
      .float('frequency_mhz', b.frequency_mhz)
      .int('chips', b.chips)
      .flag('enabled', b.enabled);
    const l = line(MEASUREMENTS.hashboard, `,board=${escapeTag(b.board)}${minerTag}${siteTenant}`, fb, t);
    if (l) out.push(l);
  }
  for (const fan of s.fans) {
    const ff = new FieldSet().int('rpm', fan.rpm).float('pwm_ratio', fan.pwm_ratio);
    const l = line(MEASUREMENTS.fan, `,fan=${escapeTag(fan.fan)}${minerTag}${siteTenant}`, ff, t);
    if (l) out.push(l);
  }
  for (const p of s.pools) {
    const fp = new FieldSet()
      .int('accepted', p.accepted)
      .int('rejected', p.rejected)
      .int('stale', p.stale)
      .flag('alive', p.alive)
      .flag('active', p.active)
      .flag('enabled', p.enabled);
    const tags = `${tagSet([['group', p.group]])}${minerTag}${tagSet([['pool', p.pool]])}${siteTenant}`;
    const l = line(MEASUREMENTS.pool, tags, fp, t);
    if (l) out.push(l);
  }
  return out;
}

/**
 * The point of a poll that did not reach the miner: `up=0i`, `status="offline"`, nothing else,
 * so availability is mean(up) and last-known values are never repeated as if fresh. Pass the
 * last known model so the point lands in the same series as the miner's online points.
 */
export function offlinePoint(ref: MinerRef, model: string | null, timeMs: number): string {
  return line(
    MEASUREMENTS.miner,
    minerTags(ref, model),
    new FieldSet().int('up', 0).str('status', 'offline'),
    timeMs,
  )!;
}

/** The audit-trail point of a FleetEvent (`data`, when present, as a JSON string field). */
export function eventPoint(e: FleetEvent): string {
  const tags = tagSet([
    ['kind', e.kind],
    ['miner', e.miner],
    ['severity', e.severity],
    ['site', e.site],
    ['tenant', e.tenant],
  ]);
  const f = new FieldSet()
    .str('message', e.message)
    .str('actor', e.actor)
    .str('result', e.result)
    .str('data', e.data && Object.keys(e.data).length > 0 ? JSON.stringify(e.data) : null);
  return line(MEASUREMENTS.event, tags, f, e.time_ms)!;
}
