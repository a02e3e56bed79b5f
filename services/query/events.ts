import type { Redis } from 'ioredis';
import { FleetError } from '../../core/errors.ts';
import type { EventLog, StoredEvent } from '../../collector/event-log.ts';
import type { RedisKeys } from '../../store/influx-redis/redis-keys.ts';
import { MEASUREMENTS, type EventKind } from '../../core/samples.ts';
import { EVENT_SEVERITIES, type FleetEventItem } from '../../api/schemas/events.ts';
import type { SeriesReader, TagFilter } from '../../store/ports/series.ts';
import { iso } from './time.ts';

/**
 * Events come from two stores written together by EventLog: the capped Redis stream per tenant
 * (the latest events, immediately) and the series store's `event` points (the whole history). The stream
 * answers "latest events" and "since <from>" when it still reaches back to <from>; anything
 * with an upper bound, a severity filter or older than the stream goes to the series store.
 */

/** Slack between an event's own time and the Redis clock stamping its stream id (as in EventLog). */
const CLOCK_SLACK_MS = 5 * 60_000;

export interface EventFilter {
  fromMs?: number | undefined;
  toMs?: number | undefined;
  miner?: string | undefined;
  kind?: EventKind | undefined;
  severity?: (typeof EVENT_SEVERITIES)[number] | undefined;
}

const severityOf = (v: unknown): FleetEventItem['severity'] =>
  (EVENT_SEVERITIES as readonly string[]).includes(String(v)) ? (v as FleetEventItem['severity']) : 'info';

export function itemFromStored(e: StoredEvent): FleetEventItem {
  return {
    time: iso(e.time_ms),
    site: e.site,
    miner: e.miner,
    kind: e.kind,
    severity: severityOf(e.severity),
    message: e.message,
    actor: e.actor ?? null,
    result: e.result ?? null,
    data: e.data && Object.keys(e.data).length > 0 ? e.data : null,
  };
}

function parseData(v: unknown): FleetEventItem['data'] {
  if (typeof v !== 'string' || v === '') return null;
  try {
    const d = JSON.parse(v) as unknown;
    if (!d || typeof d !== 'object' || Array.isArray(d)) return null;
    const out: Record<string, string | number | boolean> = {};
    for (const [k, x] of Object.entries(d))
      if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') out[k] = x;
    return out;
  } catch {
    return null;
  }
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** Does the tenant's stream still hold every event since fromMs? */
export async function streamCovers(
  redis: Redis,
  keys: RedisKeys,
  tenant: string,
  fromMs: number,
): Promise<boolean> {
  let oldest: [string, string[]][];
  try {
    oldest = await redis.xrange(keys.events(tenant), '-', '+', 'COUNT', 1);
  } catch (err) {
    throw new FleetError('unavailable', 'Redis is not available', { cause: err });
  }
  const id = oldest[0]?.[0];
  if (!id) return false;
  return Number(id.split('-')[0]) <= fromMs - CLOCK_SLACK_MS;
}

export async function recentEvents(
  log: EventLog,
  tenant: string,
  f: EventFilter,
  limit: number,
): Promise<{ items: FleetEventItem[]; truncated: boolean }> {
  const got = await log.recent(tenant, {
    limit: limit + 1,
    ...(f.fromMs !== undefined ? { sinceMs: f.fromMs } : {}),
    ...(f.miner ? { miner: f.miner } : {}),
    ...(f.kind ? { kind: f.kind } : {}),
  });
  return { items: got.slice(0, limit).map(itemFromStored), truncated: got.length > limit };
}

export async function historyEvents(
  series: SeriesReader,
  tenant: string,
  f: EventFilter & { fromMs: number; toMs: number },
  limit: number,
): Promise<{ items: FleetEventItem[]; truncated: boolean }> {
  const tags: TagFilter[] = [];
  if (f.miner !== undefined) tags.push({ tag: 'miner', in: [f.miner] });
  if (f.kind !== undefined) tags.push({ tag: 'kind', in: [f.kind] });
  if (f.severity !== undefined) tags.push({ tag: 'severity', in: [f.severity] });
  const rows = await series.points({ measurement: MEASUREMENTS.event, tenant, tags, fromMs: f.fromMs, toMs: f.toMs + 1, limit: limit + 1 });
  const items = rows.slice(0, limit).map((r): FleetEventItem => ({
    time: iso(Number(r.time)),
    site: str(r.site) ?? '',
    miner: str(r.miner) ?? '',
    kind: str(r.kind) ?? 'status_changed',
    severity: severityOf(r.severity),
    message: str(r.message) ?? '',
    actor: str(r.actor),
    result: str(r.result),
    data: parseData(r.data),
  }));
  return { items, truncated: rows.length > limit };
}
