import { createHash } from 'node:crypto';
import type { EnergyPort, EnergyStepRun } from '../../store/ports/energy.ts';
import type { SchedulesPort, WindowChange } from '../../store/ports/schedules.ts';
import type { ApiInfra, Caller } from '../context.ts';
import type { ControlService } from '../control/control-service.ts';
import type { ControlRequest } from '../control/requests.ts';
import type { TargetMiner } from '../control/selector.ts';
import type { JobService } from '../jobs/job-service.ts';
import { FINAL_STATUSES, type MinerJobResult } from '../jobs/types.ts';
import type { EnergyMetrics } from './energy-metrics.ts';
import { sweepRestoreSteps, type CurtailmentExecution, type ExecutionStep } from './execution.ts';

/**
 * Runs curtailment executions step by step, exactly once across API replicas: a step runs in
 * the replica whose claim of it wins (store.energy.claimStep) and becomes batch-control jobs
 * (audited per miner). Curtail jobs remember each miner's previous state under the execution's
 * memo; restore jobs put back exactly that.
 *
 * Never forgotten in a curtailed state: a miner whose curtail failed is retried while its window
 * lasts; one whose restore failed is retried until it succeeds (the execution stays open and
 * the restore_pending metric counts it); and when the last restore step has run, every miner
 * the memo names that no restore step covered is swept back.
 */
export interface ExecutorDeps {
  infra: ApiInfra;
  control: ControlService;
  jobs: JobService;
  metrics: EnergyMetrics | null;
  replicaId: string;
  now: () => number;
  /** how long after a failure a miner is tried again, in ms */
  retryMs: number;
  /** curtail attempts per miner (restores are retried without limit) */
  curtailAttempts: number;
  /** a step this late without a run counts as not executed, in ms */
  graceMs: number;
  /**
   * How long a claimed step stays claimed without renewal, in ms (renewed while it starts). A
   * replica that dies between claiming a step and recording its run frees it for another this
   * long after. @defaultValue 60000
   */
  claimLeaseMs?: number;
}

export interface StepJob {
  id: string;
  request: string;
  miners: string[];
}

export interface StepRun extends EnergyStepRun {
  kind: 'curtail' | 'restore' | 'retry' | 'sweep';
  /** the step retried (retry runs) */
  of: string | null;
  attempt: number;
  at_ms: number;
  started_ms: number;
  replica: string;
  jobs: StepJob[];
  /** jobs final, retries decided: nothing more to read */
  settled: boolean;
  /** when every job of the run had finished (retries wait retryMs from here) */
  finished_ms: number | null;
  error: string | null;
}

/** A recorded run keeps its claim this long (the executions' lifetime), so nobody repeats it. */
const CLAIM_TTL_MS = 15 * 24 * 3_600_000;

export class CurtailmentExecutor {
  private readonly d: ExecutorDeps;
  private readonly energy: EnergyPort;
  private readonly memos: SchedulesPort;
  private readonly leaseMs: number;
  /** renewals of the claims of steps this replica is starting */
  private readonly renewals = new Set<NodeJS.Timeout>();

  constructor(deps: ExecutorDeps) {
    this.d = deps;
    this.leaseMs = deps.claimLeaseMs ?? 60_000;
    this.energy = deps.infra.store.energy;
    this.memos = deps.infra.store.schedules;
  }

  /** Stop renewing claims: steps this replica had claimed but not recorded are freed after the lease. */
  close(): void {
    for (const t of this.renewals) clearInterval(t);
    this.renewals.clear();
  }

  /**
   * Claim `key` and record the run `start` builds, exactly once across replicas. Null when
   * another replica has it.
   *
   * `putsBack` (restores, their retries, sweeps): the claim is a lease renewed while `start`
   * runs and made permanent once the run is recorded, so a replica that dies in between holds
   * the step for one lease, not for 15 days; another then runs it (a restore is safe to repeat)
   * and the execution can finish. A curtail keeps its claim from the start: repeating it would
   * note the miner's curtailed state as what it had before, and one that died unrecorded is
   * put back anyway (the restore steps and the final sweep read the memo).
   */
  private async runClaimed(e: CurtailmentExecution, key: string, putsBack: boolean, start: () => Promise<StepRun>): Promise<StepRun | null> {
    if (!putsBack) {
      if (!(await this.energy.claimStep(e.id, key, this.d.replicaId, CLAIM_TTL_MS))) return null;
      const run = await start();
      await this.energy.saveStepRun(e.id, run);
      return run;
    }
    if (!(await this.energy.claimStep(e.id, key, this.d.replicaId, this.leaseMs))) return null;
    // a replica whose lease lapsed may have recorded it after this pass read the runs
    if ((await this.energy.stepRuns(e.id)).some(r => r.key === key)) return null;
    const renewal = setInterval(() => {
      this.energy.renewClaim(e.id, key, this.d.replicaId, this.leaseMs).then(
        held => held || this.d.infra.log.warn({ execution: e.id, step: key }, 'energy: the claim of a step being started lapsed; another replica may start it too'),
        (err: unknown) => this.d.infra.log.warn({ execution: e.id, step: key, err: (err as Error).message }, 'energy: a step claim was not renewed'),
      );
    }, Math.max(100, Math.floor(this.leaseMs / 3)));
    this.renewals.add(renewal);
    try {
      const run = await start();
      await this.energy.saveStepRun(e.id, run);
      await this.energy.renewClaim(e.id, key, this.d.replicaId, CLAIM_TTL_MS);
      return run;
    } finally {
      clearInterval(renewal);
      this.renewals.delete(renewal);
    }
  }

  callerOf(e: CurtailmentExecution): Caller {
    return { sub: e.actor, tenant: e.tenant, roles: ['operator'] };
  }

  /** One pass over an open execution: run due steps, settle runs, retry, sweep, finish. Returns overdue steps. */
  async advance(e: CurtailmentExecution): Promise<{ overdue: number; restorePending: number }> {
    const now = this.d.now();
    const runs = new Map((await this.energy.stepRuns(e.id)).map(r => [r.key, r as StepRun]));
    let overdue = 0;
    for (const step of e.steps) {
      if (step.at_ms > now || runs.has(step.key)) continue;
      if (now - step.at_ms > this.d.graceMs) overdue++;
      const run = await this.runStep(e, step, runs);
      if (run) runs.set(run.key, run);
    }
    const outcome = await this.settle(e, runs, now);
    await this.maybeFinish(e, runs, outcome, now);
    return { overdue, restorePending: outcome.restoreFailed.size };
  }

  private async runStep(e: CurtailmentExecution, step: ExecutionStep, runs: Map<string, StepRun>): Promise<StepRun | null> {
    const run = await this.runClaimed(e, step.key, step.kind === 'restore', () => this.startStep(e, step, runs));
    if (run) this.d.metrics?.stepsRun.inc({ kind: step.kind });
    return run;
  }

  private async startStep(e: CurtailmentExecution, step: ExecutionStep, runs: Map<string, StepRun>): Promise<StepRun> {
    const run: StepRun = {
      key: step.key,
      kind: step.kind,
      of: null,
      attempt: 1,
      at_ms: step.at_ms,
      started_ms: this.d.now(),
      replica: this.d.replicaId,
      jobs: [],
      settled: false,
      finished_ms: null,
      error: null,
    };
    try {
      const ids = step.miners.map(m => m.miner_id);
      if (step.kind === 'curtail') {
        run.jobs = await this.curtail(e, step.miners, `${step.site} ${new Date(step.at_ms).toISOString()}`);
      } else {
        await this.settleCurtailJobs(e, runs, step.site);
        run.jobs = await this.restore(e, ids, `${step.site} ${new Date(step.at_ms).toISOString()}`);
      }
    } catch (err) {
      run.error = (err as Error).message;
      this.d.infra.log.warn({ execution: e.id, step: step.key, err: run.error }, 'energy: step failed to start');
    }
    return run;
  }

  /**
   * Enqueue the curtail of these miners, grouped by request; each miner's previous state is
   * noted first. A retry keeps the note of the first attempt: a miner whose first curtail took
   * effect but whose answer was lost now shows the curtailed state as its own.
   */
  private async curtail(e: CurtailmentExecution, miners: ExecutionStep['miners'], what: string, retry = false): Promise<StepJob[]> {
    const caller = this.callerOf(e);
    const located = await this.d.control.resolver.locate(e.tenant, miners.map(m => m.miner_id), true);
    const groups = new Map<string, { request: ControlRequest; ids: string[] }>();
    for (const m of miners) {
      const request: ControlRequest =
        m.action === 'power_target' ? { kind: 'power_target', watt: Math.round(m.power_target_w ?? 0) } : { kind: 'action', action: m.action === 'stop' ? 'stop' : 'pause' };
      // Noted before the change is sent: a miner that took the change but whose answer was lost
      // must still be put back. The control service overwrites this with what it saw.
      const pre = preMemo(m.action, located.get(m.miner_id));
      if (pre && !(retry && (await this.memos.changeOf(e.memo_ref, m.miner_id)))) await this.memos.rememberChange(e.memo_ref, m.miner_id, pre);
      const k = JSON.stringify(request);
      const g = groups.get(k) ?? { request, ids: [] };
      g.ids.push(m.miner_id);
      groups.set(k, g);
    }
    const out: StepJob[] = [];
    for (const { request, ids } of groups.values()) {
      const job = await this.d.control.enqueueBatch(caller, request, ids, {
        memoKey: e.memo_ref,
        memoKeep: retry,
        origin: `energy:${e.id}`,
        label: `curtailment ${e.source_id} ${what}: ${describe(request)} on ${ids.length} miner(s)`,
      });
      out.push({ id: job.id, request: describe(request), miners: ids });
    }
    return out;
  }

  /** Enqueue restores, grouped by what the memo says was changed. */
  private async restore(e: CurtailmentExecution, ids: string[], what: string): Promise<StepJob[]> {
    const caller = this.callerOf(e);
    const groups = new Map<'pause' | 'stop' | 'power_target', string[]>();
    for (const id of ids) {
      const memo = await this.memos.changeOf(e.memo_ref, id);
      const of = restoreKindOf(memo, this.plannedAction(e, id));
      groups.set(of, [...(groups.get(of) ?? []), id]);
    }
    const out: StepJob[] = [];
    for (const [of, list] of groups) {
      const request: ControlRequest = { kind: 'restore', of, memo_key: e.memo_ref };
      const job = await this.d.control.enqueueBatch(caller, request, list.sort(), {
        origin: `energy:${e.id}`,
        label: `curtailment ${e.source_id} ${what}: restore (${of}) on ${list.length} miner(s)`,
      });
      out.push({ id: job.id, request: `restore ${of}`, miners: list });
    }
    return out;
  }

  private plannedAction(e: CurtailmentExecution, id: string): 'pause' | 'stop' | 'power_target' {
    for (const s of e.steps) {
      if (s.kind !== 'curtail') continue;
      const m = s.miners.find(x => x.miner_id === id);
      if (m && m.action !== 'restore') return m.action;
    }
    return 'pause';
  }

  /** A restore must not race the curtail of the same site: cancel what has not started, wait for the rest. */
  private async settleCurtailJobs(e: CurtailmentExecution, runs: Map<string, StepRun>, site: string): Promise<void> {
    const caller = this.callerOf(e);
    const siteSteps = new Set(e.steps.filter(s => s.site === site && s.kind === 'curtail').map(s => s.key));
    for (const r of runs.values()) {
      if (r.settled || !(siteSteps.has(r.key) || (r.of !== null && siteSteps.has(r.of)))) continue;
      for (const j of r.jobs) {
        try {
          const s = await this.d.jobs.get(caller, j.id, { resultsLimit: 0 });
          if (FINAL_STATUSES.includes(s.status)) continue;
          await this.d.jobs.cancel(caller, j.id).catch(() => undefined);
          await this.d.jobs.waitUntilFinished(caller, j.id, 60_000);
        } catch (err) {
          this.d.infra.log.warn({ job: j.id, err: (err as Error).message }, 'energy: curtail job did not settle before its restore');
        }
      }
    }
  }

  /**
   * Reads the results of runs not yet settled; decides retries. Returns, per miner, the latest
   * outcome of its curtail and restore.
   */
  private async settle(e: CurtailmentExecution, runs: Map<string, StepRun>, now: number): Promise<{ restoreFailed: Set<string>; restored: Set<string>; pendingJobs: boolean }> {
    const caller = this.callerOf(e);
    const restoreAt = new Map<string, number>();
    for (const s of e.steps) if (s.kind === 'restore') for (const m of s.miners) restoreAt.set(m.miner_id, s.at_ms);
    const latest = await this.latestResults(e, runs);
    let pendingJobs = false;
    for (const r of [...runs.values()]) {
      if (r.settled) continue;
      const summaries = await Promise.all(r.jobs.map(j => this.d.jobs.get(caller, j.id, { resultsLimit: 10_000 }).catch(() => null)));
      if (summaries.some(s => s === null || !FINAL_STATUSES.includes(s.status))) {
        pendingJobs = true;
        continue;
      }
      // on the executor's clock (jobs keep wall time): retries wait from when this pass saw it done
      r.finished_ms ??= now;
      const failed = summaries.flatMap(s => s!.results.filter(x => x.status === 'failed' || x.status === 'cancelled').map(x => x.id));
      const curtailing = r.kind === 'curtail' || (r.kind === 'retry' && runs.get(r.of ?? '')?.kind === 'curtail');
      const retryIds = failed.filter(id => {
        if (!curtailing) return true;
        // a curtail is retried only while its window lasts and while the miner is not being restored
        const until = restoreAt.get(id) ?? e.window.end_ms;
        return r.attempt < this.d.curtailAttempts && now < until && latest.restore.get(id) === undefined;
      });
      if (retryIds.length > 0) {
        const wait = Math.min(this.d.retryMs * 2 ** Math.min(r.attempt - 1, 5), 5 * 60_000);
        if (now < r.finished_ms + wait) {
          await this.energy.saveStepRun(e.id, r);
          pendingJobs = true;
          continue;
        }
        const key = `${r.of ?? r.key}#${r.attempt + 1}`;
        const retry = runs.has(key)
          ? null
          : await this.runClaimed(e, key, !curtailing, async () => {
              const run: StepRun = { ...r, key, kind: 'retry', of: r.of ?? r.key, attempt: r.attempt + 1, started_ms: now, replica: this.d.replicaId, jobs: [], settled: false, finished_ms: null, error: null };
              try {
                const what = `retry ${run.attempt}`;
                run.jobs = curtailing
                  ? await this.curtail(e, retryIds.map(id => this.planned(e, id)).filter(m => m !== null), what, true)
                  : await this.restore(e, retryIds, what);
              } catch (err) {
                run.error = (err as Error).message;
              }
              return run;
            });
        if (retry) {
          this.d.metrics?.stepsRun.inc({ kind: 'retry' });
          runs.set(key, retry);
          pendingJobs = true;
        } else if (!runs.has(key)) {
          // another replica claimed it; its run appears on the next pass
          pendingJobs = true;
          continue;
        }
      }
      r.settled = true;
      await this.energy.saveStepRun(e.id, r);
    }
    const after = await this.latestResults(e, runs);
    const restoreFailed = new Set([...after.restore].filter(([, s]) => s.status === 'failed' || s.status === 'cancelled').map(([id]) => id));
    const restored = new Set([...after.restore].filter(([, s]) => s.status === 'ok' || s.status === 'skipped' || s.status === 'invalid').map(([id]) => id));
    return { restoreFailed, restored, pendingJobs };
  }

  private planned(e: CurtailmentExecution, id: string): ExecutionStep['miners'][number] | null {
    for (const s of e.steps) {
      if (s.kind !== 'curtail') continue;
      const m = s.miners.find(x => x.miner_id === id);
      if (m) return m;
    }
    return null;
  }

  /** Per miner, the result of its latest curtail and latest restore attempt. */
  async latestResults(e: CurtailmentExecution, runs: Map<string, StepRun>): Promise<{ curtail: Map<string, MinerJobResult & { attempts: number; job: string }>; restore: Map<string, MinerJobResult & { attempts: number; job: string }> }> {
    const caller = this.callerOf(e);
    const curtail = new Map<string, MinerJobResult & { attempts: number; job: string }>();
    const restore = new Map<string, MinerJobResult & { attempts: number; job: string }>();
    const ordered = [...runs.values()].sort((a, b) => a.started_ms - b.started_ms || a.attempt - b.attempt);
    for (const r of ordered) {
      const base = r.of ? runs.get(r.of) : r;
      const isCurtail = (base?.kind ?? r.kind) === 'curtail';
      for (const j of r.jobs) {
        const d = await this.d.jobs.get(caller, j.id, { resultsLimit: 10_000 }).catch(() => null);
        const byId = new Map((d?.results ?? []).map(x => [x.id, x]));
        for (const id of j.miners) {
          const target = isCurtail ? curtail : restore;
          const prev = target.get(id);
          const res = byId.get(id) ?? { id, site: '', status: 'pending' as const };
          target.set(id, { ...res, attempts: (prev?.attempts ?? 0) + 1, job: j.id });
        }
      }
    }
    return { curtail, restore };
  }

  private async maybeFinish(e: CurtailmentExecution, runs: Map<string, StepRun>, outcome: { restoreFailed: Set<string>; restored: Set<string>; pendingJobs: boolean }, now: number): Promise<void> {
    const restoreSteps = e.steps.filter(s => s.kind === 'restore');
    const lastRestore = Math.max(e.window.end_ms, ...restoreSteps.map(s => s.at_ms));
    if (e.window.restore === 'deferred' && e.ended_ms === null) return;
    if (now < lastRestore || restoreSteps.some(s => !runs.has(s.key))) return;
    if (outcome.pendingJobs || outcome.restoreFailed.size > 0) return;
    // Sweep: anything the memo says was changed and no restore has covered.
    const changed = await this.memos.changedMiners(e.memo_ref);
    const covered = new Set([...runs.values()].filter(r => r.kind === 'restore' || r.kind === 'sweep' || (r.kind === 'retry' && runs.get(r.of ?? '')?.kind !== 'curtail')).flatMap(r => r.jobs.flatMap(j => j.miners)));
    const missed = changed.filter(id => !covered.has(id));
    // keyed on what is missed, so replicas that see the same memo claim the same sweep
    const sweepKey = `zsweep#${createHash('sha256').update(missed.sort().join(',')).digest('hex').slice(0, 16)}`;
    if (missed.length > 0) {
      const swept = await this.runClaimed(e, sweepKey, true, async () => {
        const run: StepRun = { key: sweepKey, kind: 'sweep', of: null, attempt: 1, at_ms: now, started_ms: now, replica: this.d.replicaId, jobs: [], settled: false, finished_ms: null, error: null };
        try {
          run.jobs = await this.restore(e, missed, 'sweep');
        } catch (err) {
          run.error = (err as Error).message;
        }
        return run;
      });
      if (swept) this.d.metrics?.stepsRun.inc({ kind: 'sweep' });
      return;
    }
    const fresh = await this.energy.getExecution(e.tenant, e.id);
    if (!fresh || fresh.finished_ms !== null) return;
    await this.energy.updateExecution({ ...fresh, finished_ms: now });
    await this.d.control.note(this.callerOf(e), {
      time_ms: Date.now(),
      site: e.sites.length === 1 ? e.sites[0]!.site : '',
      miner: '',
      kind: 'control_action',
      severity: 'info',
      message: `curtailment ${e.source_id}: window ${new Date(e.window.start_ms).toISOString()} finished; every changed miner restored`,
      result: 'ok',
      data: { execution: e.id, phase: 'finished' },
    });
  }

  /** A deferred window has ended: append sweep restores from now, within the ramp. */
  async endDeferred(e: CurtailmentExecution): Promise<void> {
    // a lease too: a replica that dies before appending the restores must not hold the end for good
    if (!(await this.energy.claimStep(e.id, 'end', this.d.replicaId, this.leaseMs))) return;
    const fresh = await this.energy.getExecution(e.tenant, e.id);
    if (!fresh || ((fresh as CurtailmentExecution).ended_ms ?? null) !== null) return;
    const now = this.d.now();
    const restores = sweepRestoreSteps(e.steps, now, e.ramp_kw_per_min);
    await this.energy.updateExecution({ ...e, ended_ms: now, window: { ...e.window, end_ms: now }, steps: [...e.steps, ...restores] } as CurtailmentExecution);
    await this.energy.renewClaim(e.id, 'end', this.d.replicaId, CLAIM_TTL_MS);
  }
}

function preMemo(action: string, t: TargetMiner | undefined): WindowChange | null {
  if (action === 'pause') return { paused_by_us: true, unconfirmed: true };
  if (action === 'stop') return { stopped_by_us: true, unconfirmed: true };
  const current = t?.snapshot?.sample?.power_target_w;
  return typeof current === 'number' && current > 0 ? { power_target_w: current, unconfirmed: true } : null;
}

function restoreKindOf(memo: WindowChange | null, planned: 'pause' | 'stop' | 'power_target'): 'pause' | 'stop' | 'power_target' {
  if (memo && 'stopped_by_us' in memo) return 'stop';
  if (memo && 'paused_by_us' in memo) return 'pause';
  if (memo && 'power_target_w' in memo) return 'power_target';
  return planned;
}

function describe(r: ControlRequest): string {
  if (r.kind === 'action') return r.action;
  if (r.kind === 'power_target') return `power target ${r.watt} W`;
  return r.kind;
}
