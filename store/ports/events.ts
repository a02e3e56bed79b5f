import type { EventKind, FleetEvent } from '../../core/samples.ts';

/**
 * The fleet's event and audit trail: collector events (offline, reboots, boards) and control
 * audit entries (control_action, job_step), per tenant.
 *
 * Two reads, as the query service uses them: `recent` walks the latest events in the order they
 * were recorded (newest first), `history` answers any time range, newest first by event time.
 * `covers` says whether the recent window still reaches back to a time, so the caller knows
 * whether `recent` is complete for "since <from>". influx-redis: a capped Redis stream per tenant
 * (recent) and InfluxDB `event` points (history). embedded: one SQLite table serves both.
 */
export type EventSeverity = FleetEvent['severity'];

export interface RecentEventsQuery {
  /** at most this many (clamped to 1..the recent window's length); @defaultValue 100 */
  limit?: number;
  /** only events with time_ms >= sinceMs */
  sinceMs?: number;
  miner?: string;
  kind?: EventKind;
  /** cursor: only events recorded before this one (the `id` of the last event of a page) */
  beforeId?: string;
}

export interface EventHistoryQuery {
  /** inclusive bounds on the event's own time */
  fromMs: number;
  toMs: number;
  miner?: string | undefined;
  kind?: EventKind | undefined;
  severity?: EventSeverity | undefined;
  /** at most this many; `truncated` says whether more matched */
  limit: number;
}

/** An event as read back; `id` is opaque and only good as a `beforeId` cursor of the same store. */
export type StoredEvent = FleetEvent & { id: string };

export interface EventsPort {
  /**
   * Stores events (a batch from one poll or one job step). Two events of one kind for one miner
   * in the same millisecond are kept apart: the later one moves to the next free millisecond.
   */
  record(events: readonly FleetEvent[]): Promise<void>;
  /** A tenant's latest events, newest recorded first. */
  recent(tenant: string, q?: RecentEventsQuery): Promise<StoredEvent[]>;
  /** Does the recent window hold every event of the tenant since fromMs? */
  covers(tenant: string, fromMs: number): Promise<boolean>;
  /** Events of a time range, newest first by event time. */
  history(tenant: string, q: EventHistoryQuery): Promise<{ events: FleetEvent[]; truncated: boolean }>;
}

/** Slack between an event's own time and the clock that recorded it (stream ids, inserted_ms). */
export const RECORD_CLOCK_SLACK_MS = 5 * 60_000;
