/**
 * Power schedules' storage: the definitions (per tenant), each window's run record, the claim
 * that makes one process (of several API replicas) run a window's start or end exactly once,
 * and the per-miner memo of what a window's start changed so its end can put exactly that back.
 */

/**
 * A stored schedule definition. The port keeps the whole object as given and reads it back as
 * it was written; only these fields are its own business (ownership, order).
 */
export interface ScheduleRecord {
  id: string;
  tenant: string;
  created_ms: number;
}

/** One run of a schedule (the run history shown as recent_windows). */
export interface ScheduleWindow {
  start_ms: number;
  end_ms: number;
  started_ms: number | null;
  ended_ms: number | null;
  start_job: string | null;
  end_job: string | null;
  miners: number;
  late: boolean;
  note: string | null;
}

export type WindowPhase = 'start' | 'end';

export interface ScheduleChange {
  id: string;
  op: 'created' | 'removed';
}

export interface ScheduleWatch {
  close(): Promise<void>;
}

/** What a window's start changed on one miner (e.g. { paused_by_us }, { power_target_w }). */
export type WindowChange = Record<string, unknown>;

export interface SchedulesPort {
  /** Create or replace a schedule. */
  save(schedule: ScheduleRecord): Promise<void>;
  /** The tenant's schedule, or null (another tenant's id reads as unknown). */
  get(tenant: string, id: string): Promise<ScheduleRecord | null>;
  /** The tenant's schedules, oldest first. */
  list(tenant: string): Promise<ScheduleRecord[]>;
  /** Every tenant's schedules (the evaluator runs them all). */
  listAll(): Promise<ScheduleRecord[]>;
  /** Delete the tenant's schedule and its run history; false when it had none by that id. */
  delete(tenant: string, id: string): Promise<boolean>;

  /** Tell every process evaluating schedules that one changed (best effort: they also reload periodically). */
  announce(change: ScheduleChange): Promise<void>;
  /** Call onChange for every announcement, from any process sharing this store. */
  watch(onChange: (change: ScheduleChange) => void): Promise<ScheduleWatch>;

  /**
   * Claim the start or end of one window for `holder`. Exactly one claimer in all processes wins
   * (true); the claim is kept for ttlMs, so a restart inside that time never runs it again.
   */
  claimWindow(id: string, startMs: number, phase: WindowPhase, holder: string, ttlMs: number): Promise<boolean>;
  /** Has that phase of the window been claimed (and the claim not yet expired)? */
  isWindowClaimed(id: string, startMs: number, phase: WindowPhase): Promise<boolean>;

  /** Record (or update) a window's run, keeping the newest `keep` windows of the schedule. */
  saveWindow(id: string, window: ScheduleWindow, keep: number): Promise<void>;
  getWindow(id: string, startMs: number): Promise<ScheduleWindow | null>;
  /** The schedule's recorded windows, newest first. */
  listWindows(id: string): Promise<ScheduleWindow[]>;

  /**
   * The opaque reference under which a window's start records what it changed per miner; it
   * travels inside the start and end jobs' payloads, so it must stay stable across restarts.
   */
  windowMemoRef(id: string, startMs: number): string;
  rememberChange(ref: string, minerId: string, change: WindowChange): Promise<void>;
  changeOf(ref: string, minerId: string): Promise<WindowChange | null>;
  /** The miners the window's start changed. */
  changedMiners(ref: string): Promise<string[]>;
}

/** How long a window's memo is kept: the longest window (7 days) plus the time a late end may still come. */
export const WINDOW_MEMO_KEEP_MS = 15 * 24 * 3_600_000;
