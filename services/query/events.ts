import type { EventKind, FleetEvent } from '../../core/samples.ts';
import type { EventsPort } from '../../store/ports/events.ts';
import { EVENT_SEVERITIES, type FleetEventItem } from '../../api/schemas/events.ts';
import { iso } from './time.ts';

/**
 * Events come from the store's events port: its recent window (the latest events, immediately)
 * answers "latest events" and "since <from>" when it still reaches back to <from>; anything with
 * an upper bound, a severity filter or older than the window is read from the history.
 */

export interface EventFilter {
  fromMs?: number | undefined;
  toMs?: number | undefined;
  miner?: string | undefined;
  kind?: EventKind | undefined;
  severity?: (typeof EVENT_SEVERITIES)[number] | undefined;
}

const severityOf = (v: unknown): FleetEventItem['severity'] =>
  (EVENT_SEVERITIES as readonly string[]).includes(String(v)) ? (v as FleetEventItem['severity']) : 'info';

export function itemFromStored(e: FleetEvent): FleetEventItem {
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

export async function recentEvents(
  events: EventsPort,
  tenant: string,
  f: EventFilter,
  limit: number,
): Promise<{ items: FleetEventItem[]; truncated: boolean }> {
  const got = await events.recent(tenant, {
    limit: limit + 1,
    ...(f.fromMs !== undefined ? { sinceMs: f.fromMs } : {}),
    ...(f.miner ? { miner: f.miner } : {}),
    ...(f.kind ? { kind: f.kind } : {}),
  });
  return { items: got.slice(0, limit).map(itemFromStored), truncated: got.length > limit };
}

export async function historyEvents(
  events: EventsPort,
  tenant: string,
  f: EventFilter & { fromMs: number; toMs: number },
  limit: number,
): Promise<{ items: FleetEventItem[]; truncated: boolean }> {
  const got = await events.history(tenant, {
    fromMs: f.fromMs,
    toMs: f.toMs,
    miner: f.miner,
    kind: f.kind,
    severity: f.severity,
    limit,
  });
  return { items: got.events.map(itemFromStored), truncated: got.truncated };
}
