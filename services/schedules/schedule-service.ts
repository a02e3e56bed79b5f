import { randomUUID } from 'node:crypto';
import { Cron } from 'croner';
import { z } from 'zod';
import { FleetError } from '../../core/errors.ts';
import type { ApiInfra, Caller } from '../context.ts';
import { hasRole } from '../context.ts';
import type { ControlService } from '../control/control-service.ts';
import type { ControlRequest } from '../control/requests.ts';
import { minerSelectorSchema, type MinerSelector } from '../control/selector.ts';
import type { JobService } from '../jobs/job-service.ts';
import { FINAL_STATUSES } from '../jobs/types.ts';
import type { ScheduleWatch, ScheduleWindow, SchedulesPort } from '../../store/ports/schedules.ts';

export type { ScheduleWindow } from '../../store/ports/schedules.ts';

/**
 * Power schedules: recurring windows (curtailment during peak tariff hours). A window starts at
 * each run of `cron` in `timezone` (croner syntax, 5 fields, or 6 with seconds) and lasts
 * `duration_ms`, or until the next run of `end_cron`. At the start the selector's miners are
 * paused or set to a power target; at the end exactly the miners the start changed are put
 * back (resumed only if this window paused them; power target restored to its previous value).
 * Both ends run through the batch-control job machinery and are audited.
 *
 * Exactly once with several API replicas: every replica evaluates every schedule each tick,
 * and a window's start (and end) runs only in the replica whose claim of that phase wins
 * (store.schedules.claimWindow). The claim is kept for the window's length + 7 days, so a
 * restart never repeats a window; a replica that was down at a window's start starts it late
 * (if the window is still open), and one that was down at its end ends it when it comes back.
 * Windows that started before the schedule was created are not run.
 *
 * Schedules live in the store (infra.store.schedules); every replica re-reads them every
 * `reloadMs` and at once when another announces a change.
 */

const actionSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('pause') }),
  z.strictObject({ type: z.literal('power_target'), watt: z.number().int().min(1).max(100_000) }),
]);

function cronError(pattern: string, timezone: string): string | null {
  try {
    new Cron(pattern, { timezone, paused: true }).stop();
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

function validTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const scheduleInputSchema = z
  .strictObject({
    name: z.string().min(1).max(128),
    selector: minerSelectorSchema,
    /** Start of each window, e.g. "0 17 * * 1-5" (17:00 on weekdays); 6 fields add seconds. */
    cron: z.string().min(9).max(128),
    /** IANA time zone of the cron expressions. @defaultValue UTC */
    timezone: z.string().default('UTC'),
    /** Window length in milliseconds (or give end_cron). */
    duration_ms: z
      .number()
      .int()
      .min(1_000)
      .max(7 * 24 * 3_600_000)
      .optional(),
    /** End of each window: the first run of this expression after the start. */
    end_cron: z.string().min(9).max(128).optional(),
    action: actionSchema,
    enabled: z.boolean().default(true),
  })
  .refine(s => (s.duration_ms === undefined) !== (s.end_cron === undefined), {
    error: 'give duration_ms or end_cron (exactly one)',
  })
  .refine(s => validTimezone(s.timezone), {
    error: 'unknown time zone; use an IANA name such as Europe/Prague or UTC',
    path: ['timezone'],
  })
  .superRefine((s, ctx) => {
    for (const key of ['cron', 'end_cron'] as const) {
      const v = s[key];
      if (v === undefined || !validTimezone(s.timezone)) continue;
      const e = cronError(v, s.timezone);
      if (e) ctx.addIssue({ code: 'custom', path: [key], message: `invalid cron expression: ${e}` });
    }
  });

export type ScheduleInput = z.input<typeof scheduleInputSchema>;

export interface Schedule {
  id: string;
  tenant: string;
  name: string;
  selector: MinerSelector;
  cron: string;
  timezone: string;
  duration_ms: number | null;
  end_cron: string | null;
  action: z.output<typeof actionSchema>;
  enabled: boolean;
  created_by: string;
  created_ms: number;
}

export interface ScheduleView extends Schedule {
  next_start_ms: number | null;
  next_end_ms: number | null;
  recent_windows: ScheduleWindow[];
}

export interface ScheduleServiceOptions {
  /** How often windows are evaluated, in milliseconds. @defaultValue 1000 */
  tickMs?: number;
  /** How often schedules are re-read from the store (besides change announcements), in milliseconds. @defaultValue 30000 */
  reloadMs?: number;
  /** Most windows kept per schedule. @defaultValue 50 */
  keepWindows?: number;
  /** How long the end of a window waits for its start job to finish, in milliseconds. @defaultValue 120000 */
  startJobWaitMs?: number;
  /** Identifies this replica in window claims. @defaultValue random */
  replicaId?: string;
}

interface Armed {
  schedule: Schedule;
  start: Cron;
  end: Cron | null;
}

const WINDOW_KEEP_MS = 7 * 24 * 3_600_000;

export class ScheduleService {
  private readonly infra: ApiInfra;
  private readonly store: SchedulesPort;
  private readonly control: ControlService;
  private readonly jobs: JobService;
  private readonly opts: Required<ScheduleServiceOptions>;
  private armed = new Map<string, Armed>();
  /** (schedule, window start, phase) this replica has already handled (ran it or lost the race) */
  private readonly handled = new Set<string>();
  private tickTimer: NodeJS.Timeout | null = null;
  private reloadTimer: NodeJS.Timeout | null = null;
  private watch: ScheduleWatch | null = null;
  private ticking = false;
  private stopped = true;
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(
    infra: ApiInfra,
    deps: { control: ControlService; jobs: JobService },
    options: ScheduleServiceOptions = {},
  ) {
    this.infra = infra;
    this.store = infra.store.schedules;
    this.control = deps.control;
    this.jobs = deps.jobs;
    this.opts = {
      tickMs: 1_000,
      reloadMs: 30_000,
      keepWindows: 50,
      startJobWaitMs: 120_000,
      replicaId: randomUUID(),
      ...options,
    };
    if (!(this.opts.tickMs > 0) || !(this.opts.reloadMs > 0))
      throw new FleetError('invalid_argument', 'ScheduleService tickMs and reloadMs must be greater than 0');
  }

  // ---- CRUD (tenant-scoped) ----

  async create(caller: Caller, input: unknown): Promise<ScheduleView> {
    if (!hasRole(caller, 'operator'))
      throw new FleetError('forbidden', 'power schedules need the operator role');
    const parsed = scheduleInputSchema.safeParse(input);
    if (!parsed.success)
      throw new FleetError(
        'invalid_argument',
        `invalid schedule: ${parsed.error.issues.map(i => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ')}`,
      );
    const s = parsed.data;
    const schedule: Schedule = {
      id: randomUUID(),
      tenant: caller.tenant,
      name: s.name,
      selector: s.selector,
      cron: s.cron,
      timezone: s.timezone,
      duration_ms: s.duration_ms ?? null,
      end_cron: s.end_cron ?? null,
      action: s.action,
      enabled: s.enabled,
      created_by: caller.sub,
      created_ms: Date.now(),
    };
    this.checkWindows(schedule);
    await this.checkIds(caller, schedule.selector);
    await this.store.save(schedule);
    await this.store.announce({ id: schedule.id, op: 'created' });
    if (!this.stopped) this.arm(schedule);
    await this.control.note(caller, {
      time_ms: Date.now(),
      site: '',
      miner: '',
      kind: 'control_action',
      severity: 'info',
      message: `schedule "${schedule.name}" created (${schedule.cron} ${schedule.timezone})`,
      result: 'ok',
      data: { schedule: schedule.id },
    });
    return this.view(schedule);
  }

  /**
   * Named miners must be the caller's, as control requires: an unknown (or another tenant's) id
   * would otherwise be stored and silently skipped at every window.
   */
  private async checkIds(caller: Caller, selector: MinerSelector): Promise<void> {
    if (!selector.ids) return;
    const { not_found } = await this.control.resolver.resolve(caller, { ids: selector.ids });
    if (not_found.length > 0)
      throw new FleetError(
        'not_found',
        `selector.ids: unknown miner${not_found.length > 1 ? 's' : ''} ${not_found.join(', ')}; GET /api/v1/miners lists yours`,
        { details: { not_found } },
      );
  }

  /** Windows must fire, end after they start, and end before the next one starts. */
  private checkWindows(s: Schedule): void {
    const a = this.crons(s);
    const starts = a.start.nextRuns(8).map(d => d.getTime());
    if (starts.length === 0)
      throw new FleetError('invalid_argument', `cron '${s.cron}' never fires from now on`, {
        details: { field: 'cron' },
      });
    for (let i = 0; i < starts.length; i++) {
      const start = starts[i]!;
      const end = this.endOf(a, start);
      if (!(end > start))
        throw new FleetError('invalid_argument', 'end_cron must fire after each window start', {
          details: { field: 'end_cron' },
        });
      if (end - start > 7 * 24 * 3_600_000)
        throw new FleetError('invalid_argument', 'end_cron: a window may last at most 7 days', {
          details: { field: 'end_cron' },
        });
      const next = starts[i + 1];
      if (next !== undefined && end > next) {
        // Named after the window length's own argument, with `cron` for the other remedy, so a
        // REST or MCP client can point at what to change.
        const field = s.duration_ms !== null ? 'duration_ms' : 'end_cron';
        throw new FleetError(
          'invalid_argument',
          `${field}: windows would overlap: the window starting ${new Date(start).toISOString()} ends ${new Date(end).toISOString()}, after the next one starts (${new Date(next).toISOString()}); shorten the window or start less often (cron)`,
          { details: { field } },
        );
      }
    }
  }

  async list(caller: Caller): Promise<ScheduleView[]> {
    const mine = (await this.store.list(caller.tenant)) as Schedule[];
    return Promise.all(mine.map(s => this.view(s)));
  }

  async get(caller: Caller, id: string): Promise<ScheduleView> {
    return this.view(await this.load(caller, id));
  }

  private async load(caller: Caller, id: string): Promise<Schedule> {
    // Written only by create(): the stored record is a Schedule.
    const s = (await this.store.get(caller.tenant, id)) as Schedule | null;
    if (!s)
      throw new FleetError('not_found', `unknown schedule '${id}'; GET /api/v1/schedules lists yours`, {
        details: { schedule: id },
      });
    return s;
  }

  /** Delete a schedule; a window in progress is ended first (miners put back). */
  async remove(caller: Caller, id: string): Promise<{ removed: true; ended_window: boolean }> {
    if (!hasRole(caller, 'operator'))
      throw new FleetError('forbidden', 'power schedules need the operator role');
    const s = await this.load(caller, id);
    let ended = false;
    const open = await this.openWindow(s);
    if (open !== null) {
      ended = await this.fireEnd(s, open, 'the schedule was deleted');
    }
    await this.store.delete(caller.tenant, id);
    await this.store.announce({ id, op: 'removed' });
    this.armed.get(id)?.start.stop();
    this.armed.get(id)?.end?.stop();
    this.armed.delete(id);
    await this.control.note(caller, {
      time_ms: Date.now(),
      site: '',
      miner: '',
      kind: 'control_action',
      severity: 'info',
      message: `schedule "${s.name}" deleted`,
      result: 'ok',
      data: { schedule: id },
    });
    return { removed: true, ended_window: ended };
  }

  private async view(s: Schedule): Promise<ScheduleView> {
    const armed = this.crons(s);
    const now = Date.now();
    const next = armed.start.nextRun(new Date(now))?.getTime() ?? null;
    const windows = await this.store.listWindows(s.id);
    return {
      ...s,
      next_start_ms: next,
      next_end_ms: next === null ? null : this.endOf(armed, next),
      recent_windows: windows,
    };
  }

  // ---- running ----

  /** Paused crons (no callback, so no timers): used only to compute run times. */
  private crons(s: Schedule): Armed {
    return {
      schedule: s,
      start: new Cron(s.cron, { timezone: s.timezone, paused: true }),
      end: s.end_cron ? new Cron(s.end_cron, { timezone: s.timezone, paused: true }) : null,
    };
  }

  private endOf(a: Armed, startMs: number): number {
    if (a.schedule.duration_ms !== null) return startMs + a.schedule.duration_ms;
    return a.end?.nextRun(new Date(startMs))?.getTime() ?? startMs;
  }

  private arm(s: Schedule): void {
    const old = this.armed.get(s.id);
    if (old && JSON.stringify(old.schedule) === JSON.stringify(s)) return;
    old?.start.stop();
    old?.end?.stop();
    try {
      this.armed.set(s.id, this.crons(s));
    } catch (err) {
      this.infra.log.warn(
        { schedule: s.id, err: (err as Error).message },
        'schedule skipped: its cron expression no longer parses',
      );
    }
  }

  /** Load every schedule and start evaluating windows. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.reload();
    this.watch = await this.store
      .watch(
        () =>
          void this.reload().catch(err =>
            this.infra.log.warn({ err: (err as Error).message }, 'schedules: reload after a change failed'),
          ),
      )
      .catch(err => {
        this.infra.log.warn(
          { err: (err as Error).message },
          'schedules: not watching changes; relying on periodic reloads',
        );
        return null;
      });
    this.reloadTimer = setInterval(
      () =>
        void this.reload().catch(err =>
          this.infra.log.warn({ err: (err as Error).message }, 'schedules: reload failed'),
        ),
      this.opts.reloadMs,
    );
    this.tickTimer = setInterval(() => void this.tick(), this.opts.tickMs);
    void this.tick();
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.tickTimer) clearInterval(this.tickTimer);
    if (this.reloadTimer) clearInterval(this.reloadTimer);
    this.tickTimer = this.reloadTimer = null;
    for (const a of this.armed.values()) {
      a.start.stop();
      a.end?.stop();
    }
    this.armed.clear();
    // Window actions in flight finish in the background (their jobs are durable); wait briefly.
    await Promise.race([
      Promise.allSettled([...this.inflight]),
      new Promise(r => setTimeout(r, 2_000).unref()),
    ]);
    await this.watch?.close();
    this.watch = null;
  }

  private async reload(): Promise<void> {
    const all = (await this.store.listAll()) as Schedule[];
    const seen = new Set<string>();
    for (const s of all) {
      seen.add(s.id);
      this.arm(s);
    }
    for (const id of [...this.armed.keys()]) {
      if (!seen.has(id)) {
        this.armed.get(id)?.start.stop();
        this.armed.delete(id);
      }
    }
  }

  /** Evaluate every schedule's current and previous window. */
  private async tick(): Promise<void> {
    if (this.ticking || this.stopped) return;
    this.ticking = true;
    try {
      const now = Date.now();
      for (const a of this.armed.values()) {
        const s = a.schedule;
        if (!s.enabled) continue;
        const starts = a.start.previousRuns(2, new Date(now + 1)).map(d => d.getTime());
        for (const startMs of starts) {
          if (startMs < s.created_ms - 1_000) continue;
          const endMs = this.endOf(a, startMs);
          if (now < endMs) {
            this.track(this.ensureStarted(s, startMs, endMs, now - startMs > this.opts.tickMs * 3));
          } else {
            this.track(this.ensureEnded(s, startMs));
          }
        }
      }
    } catch (err) {
      this.infra.log.warn({ err: (err as Error).message }, 'schedules: tick failed');
    } finally {
      this.ticking = false;
    }
  }

  private track(p: Promise<unknown>): void {
    const q = p
      .catch(err => this.infra.log.warn({ err: (err as Error).message }, 'schedules: window action failed'))
      .finally(() => this.inflight.delete(q));
    this.inflight.add(q);
  }

  private async claim(id: string, startMs: number, phase: 'start' | 'end', ttlMs: number): Promise<boolean> {
    const mark = `${id}|${startMs}|${phase}`;
    if (this.handled.has(mark)) return false;
    if (this.handled.size > 10_000) this.handled.clear();
    this.handled.add(mark);
    try {
      return await this.store.claimWindow(id, startMs, phase, this.opts.replicaId, ttlMs);
    } catch (err) {
      // Store unavailable: try again on a later tick.
      this.handled.delete(mark);
      throw err;
    }
  }

  private callerOf(s: Schedule): Caller {
    return { sub: `schedule:${s.name} (by ${s.created_by})`, tenant: s.tenant, roles: ['operator'] };
  }

  private async saveWindow(s: Schedule, w: ScheduleWindow): Promise<void> {
    await this.store.saveWindow(s.id, w, this.opts.keepWindows);
  }

  private async getWindow(s: Schedule, startMs: number): Promise<ScheduleWindow | null> {
    return this.store.getWindow(s.id, startMs);
  }

  private async ensureStarted(s: Schedule, startMs: number, endMs: number, late: boolean): Promise<void> {
    if (!(await this.claim(s.id, startMs, 'start', endMs - startMs + WINDOW_KEEP_MS))) return;
    const caller = this.callerOf(s);
    const request: ControlRequest =
      s.action.type === 'pause'
        ? { kind: 'action', action: 'pause' }
        : { kind: 'power_target', watt: s.action.watt };
    const window: ScheduleWindow = {
      start_ms: startMs,
      end_ms: endMs,
      started_ms: Date.now(),
      ended_ms: null,
      start_job: null,
      end_job: null,
      miners: 0,
      late,
      note: null,
    };
    try {
      const sel = await this.control.resolver.resolve(caller, s.selector);
      window.miners = sel.matched;
      if (sel.matched > 0) {
        const memoKey = this.store.windowMemoRef(s.id, startMs);
        const job = await this.control.enqueueBatch(
          caller,
          request,
          sel.miners.map(m => m.id),
          {
            memoKey,
            origin: `schedule:${s.id}`,
            label: `schedule "${s.name}" window start: ${s.action.type === 'pause' ? 'pause' : `power target ${s.action.watt} W`} on ${sel.matched} miner(s)`,
          },
        );
        window.start_job = job.id;
      } else {
        window.note = 'the selector matched no miner';
      }
    } catch (err) {
      window.note = `start failed: ${(err as Error).message}`;
    }
    await this.saveWindow(s, window);
    await this.control.note(caller, {
      time_ms: Date.now(),
      site: s.selector.site ?? '',
      miner: '',
      kind: 'control_action',
      severity: window.note?.startsWith('start failed') ? 'warning' : 'info',
      message: `schedule "${s.name}": window ${new Date(startMs).toISOString()} started${late ? ' late' : ''}: ${window.start_job ? `job ${window.start_job} on ${window.miners} miner(s)` : (window.note ?? '')}`,
      result: window.note?.startsWith('start failed') ? 'failed' : 'ok',
      data: {
        schedule: s.id,
        window_start_ms: startMs,
        phase: 'start',
        ...(window.start_job ? { job: window.start_job } : {}),
      },
    });
  }

  private async ensureEnded(s: Schedule, startMs: number): Promise<void> {
    const mark = `${s.id}|${startMs}|end`;
    if (this.handled.has(mark)) return;
    const started = await this.store.isWindowClaimed(s.id, startMs, 'start');
    if (!started) {
      this.handled.add(mark);
      return;
    }
    await this.fireEnd(s, startMs, null);
  }

  /** The start of a window that has started and not ended, if any. */
  private async openWindow(s: Schedule): Promise<number | null> {
    const a = this.crons(s);
    for (const d of a.start.previousRuns(2, new Date(Date.now() + 1))) {
      const startMs = d.getTime();
      const [st, en] = await Promise.all([
        this.store.isWindowClaimed(s.id, startMs, 'start'),
        this.store.isWindowClaimed(s.id, startMs, 'end'),
      ]);
      if (st && !en) return startMs;
    }
    return null;
  }

  private async fireEnd(s: Schedule, startMs: number, reason: string | null): Promise<boolean> {
    if (!(await this.claim(s.id, startMs, 'end', WINDOW_KEEP_MS))) return false;
    const caller = this.callerOf(s);
    const window = (await this.getWindow(s, startMs)) ?? {
      start_ms: startMs,
      end_ms: Date.now(),
      started_ms: null,
      ended_ms: null,
      start_job: null,
      end_job: null,
      miners: 0,
      late: false,
      note: null,
    };
    const memoKey = this.store.windowMemoRef(s.id, startMs);
    try {
      if (window.start_job) await this.settleStartJob(caller, window.start_job);
      const ids = await this.store.changedMiners(memoKey);
      if (ids.length > 0) {
        const job = await this.control.enqueueBatch(
          caller,
          { kind: 'restore', of: s.action.type === 'pause' ? 'pause' : 'power_target', memo_key: memoKey },
          ids.sort(),
          {
            origin: `schedule:${s.id}`,
            label: `schedule "${s.name}" window end: ${s.action.type === 'pause' ? 'resume' : 'restore power target'} on ${ids.length} miner(s)`,
          },
        );
        window.end_job = job.id;
      } else if (!window.note) {
        window.note = 'nothing to put back';
      }
    } catch (err) {
      window.note = `end failed: ${(err as Error).message}`;
    }
    window.ended_ms = Date.now();
    await this.saveWindow(s, window);
    await this.control.note(caller, {
      time_ms: Date.now(),
      site: s.selector.site ?? '',
      miner: '',
      kind: 'control_action',
      severity: window.note?.startsWith('end failed') ? 'warning' : 'info',
      message: `schedule "${s.name}": window ${new Date(startMs).toISOString()} ended${reason ? ` (${reason})` : ''}: ${window.end_job ? `job ${window.end_job}` : (window.note ?? '')}`,
      result: window.note?.startsWith('end failed') ? 'failed' : 'ok',
      data: {
        schedule: s.id,
        window_start_ms: startMs,
        phase: 'end',
        ...(window.end_job ? { job: window.end_job } : {}),
      },
    });
    return true;
  }

  /** The start job must stop changing miners before they are put back: cancel what has not started, wait for the rest. */
  private async settleStartJob(caller: Caller, jobId: string): Promise<void> {
    try {
      const s = await this.jobs.get(caller, jobId, { resultsLimit: 0 });
      if (FINAL_STATUSES.includes(s.status)) return;
      await this.jobs.cancel(caller, jobId).catch(() => undefined);
      await this.jobs.waitUntilFinished(caller, jobId, this.opts.startJobWaitMs);
    } catch (err) {
      this.infra.log.warn(
        { job: jobId, err: (err as Error).message },
        'schedules: start job did not settle before the window end',
      );
    }
  }
}
