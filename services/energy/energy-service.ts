import { createHash, randomUUID } from 'node:crypto';
import { FleetError } from '../../core/errors.ts';
import type { EnergyPort, StoredPrices } from '../../store/ports/energy.ts';
import type { ApiInfra, Caller } from '../context.ts';
import { hasRole } from '../context.ts';
import type { ControlService } from '../control/control-service.ts';
import type { JobService } from '../jobs/job-service.ts';
import { CurtailmentExecutor, type StepRun } from './curtailment-executor.ts';
import { planDemandResponse } from './demand-response-plan.ts';
import type { EnergyMetrics } from './energy-metrics.ts';
import { framesOf, type CurtailmentExecution } from './execution.ts';
import { fleetMiners } from './fleet-miners.ts';
import type { CurtailmentPlan, PlanWindow } from './plan.ts';
import { planCurtailment } from './planner.ts';
import { parsePolicyInput, pricesKey, type StoredPolicy } from './policy-record.ts';
import { checkPriceSource, curveAt } from './price-source.ts';
import { parseDemandResponseSignal } from './prices/demand-response.ts';
import { fetchHttpPriceFeed } from './prices/http-feed.ts';

/**
 * Energy-aware operation, the service: curtailment policies per tenant (with their price
 * source), dry-run plans over the known price curve, demand-response signals, and the executor
 * loop every API replica runs: it polls HTTP price feeds, freezes a window's plan when the
 * window opens (store.energy.createExecution: the first replica's plan is the one run) and runs
 * each step exactly once through the control service's audited batch jobs.
 */
export interface EnergyServiceOptions {
  /** The clock plans and steps follow (tests run it fast). @defaultValue Date.now */
  now?: () => number;
  /** How often policies and executions are evaluated, in ms. @defaultValue 5000 */
  tickMs?: number;
  /** Wait before retrying a miner that failed, in ms (doubles per attempt, at most 5 min). @defaultValue 30000 */
  retryMs?: number;
  /** Curtail attempts per miner. @defaultValue 3 */
  curtailAttempts?: number;
  /** A step or window this late without being run counts as not executed, in ms. @defaultValue 120000 */
  graceMs?: number;
  /**
   * How long before a window opens its plan is frozen, in ms, so its first step runs at the
   * window's start rather than at the first whole minute after a replica noticed it. @defaultValue 60000
   */
  freezeLeadMs?: number;
  /** Finished executions kept per tenant. @defaultValue 100 */
  keepExecutions?: number;
  replicaId?: string;
  metrics?: EnergyMetrics | null;
  /**
   * How long a step claim outlives a replica that died while starting the step, in ms (renewed
   * while the replica lives). @defaultValue 60000
   */
  claimLeaseMs?: number;
}

export interface ExecutionMinerReport {
  miner_id: string;
  site: string;
  action: string;
  curtail: AttemptReport | null;
  restore: AttemptReport | null;
}
interface AttemptReport {
  status: string;
  attempts: number;
  job: string;
  code?: string;
  message?: string;
}

export type ExecutionStatus = 'scheduled' | 'curtailing' | 'curtailed' | 'restoring' | 'restore_retrying' | 'finished';

export interface ExecutionView extends Omit<CurtailmentExecution, 'memo_ref'> {
  status: ExecutionStatus;
  runs: StepRun[];
  miners: ExecutionMinerReport[];
}

export interface PlanAnswer {
  policy_id: string;
  enabled: boolean;
  plan: CurtailmentPlan;
}

const MIN = 60_000;

/**
 * An execution's id: the window id (policy or signal id and price anchors) within the tenant.
 * Policy and signal ids are per tenant, so two tenants' windows may share a window id; their
 * executions must not share a record, a claim or a memo.
 */
export function executionId(tenant: string, windowId: string): string {
  return createHash('sha256').update(`${tenant}\u0000${windowId}`).digest('hex').slice(0, 32);
}

export class EnergyService {
  private readonly infra: ApiInfra;
  private readonly store: EnergyPort;
  private readonly control: ControlService;
  private readonly executor: CurtailmentExecutor;
  private readonly opts: Required<Omit<EnergyServiceOptions, 'metrics'>> & { metrics: EnergyMetrics | null };
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private stopped = true;
  /** window id -> when this replica first saw it open without an execution */
  private readonly openSince = new Map<string, number>();
  private readonly feedsInFlight = new Set<string>();

  constructor(infra: ApiInfra, deps: { control: ControlService; jobs: JobService }, options: EnergyServiceOptions = {}) {
    this.infra = infra;
    this.store = infra.store.energy;
    this.control = deps.control;
    this.opts = {
      now: Date.now,
      tickMs: 5_000,
      retryMs: 30_000,
      curtailAttempts: 3,
      graceMs: 120_000,
      freezeLeadMs: 60_000,
      keepExecutions: 100,
      replicaId: randomUUID(),
      claimLeaseMs: 60_000,
      ...options,
      metrics: options.metrics ?? null,
    };
    this.executor = new CurtailmentExecutor({
      infra,
      control: deps.control,
      jobs: deps.jobs,
      metrics: this.opts.metrics,
      replicaId: this.opts.replicaId,
      now: this.opts.now,
      retryMs: this.opts.retryMs,
      curtailAttempts: this.opts.curtailAttempts,
      graceMs: this.opts.graceMs,
      claimLeaseMs: this.opts.claimLeaseMs,
    });
  }

  // ---- policies ----

  /** Create or replace a policy (operator). */
  async putPolicy(caller: Caller, input: unknown): Promise<StoredPolicy> {
    requireOperator(caller);
    const parsed = parsePolicyInput(input, caller.tenant);
    const now = this.opts.now();
    checkPriceSource(parsed.price_source, now);
    const old = (await this.store.getPolicy(caller.tenant, parsed.id)) as StoredPolicy | null;
    const record: StoredPolicy = { ...parsed, created_ms: old?.created_ms ?? now, created_by: old?.created_by ?? caller.sub, updated_ms: now };
    await this.store.savePolicy(record);
    await this.control.note(caller, {
      time_ms: Date.now(),
      site: record.policy.selector.site ?? '',
      miner: '',
      kind: 'control_action',
      severity: 'info',
      message: `curtailment policy "${record.id}" ${old ? 'replaced' : 'created'} (strike ${record.policy.strike_price_per_mwh} ${record.policy.currency}/MWh, prices: ${record.price_source.kind})`,
      result: 'ok',
      data: { energy_policy: record.id },
    });
    return record;
  }

  async listPolicies(caller: Caller): Promise<StoredPolicy[]> {
    return (await this.store.listPolicies(caller.tenant)) as StoredPolicy[];
  }

  async getPolicy(caller: Caller, id: string): Promise<StoredPolicy> {
    const p = (await this.store.getPolicy(caller.tenant, id)) as StoredPolicy | null;
    if (!p) throw new FleetError('not_found', `unknown curtailment policy '${id}'; GET /api/v1/energy/policies lists yours`, { details: { policy: id } });
    return p;
  }

  /** Delete a policy; a window it is running is ended first (its miners are restored, within the ramp). */
  async deletePolicy(caller: Caller, id: string): Promise<{ removed: true; ended_executions: number }> {
    requireOperator(caller);
    await this.getPolicy(caller, id);
    let ended = 0;
    for (const e of (await this.store.openExecutions()) as CurtailmentExecution[]) {
      if (e.tenant !== caller.tenant || e.policy_id !== id || e.kind !== 'price') continue;
      if (e.ended_ms === null && this.opts.now() < e.window.end_ms) {
        await this.executor.endDeferred(e);
        ended++;
      }
    }
    await this.store.deletePolicy(caller.tenant, id);
    await this.control.note(caller, { time_ms: Date.now(), site: '', miner: '', kind: 'control_action', severity: 'info', message: `curtailment policy "${id}" deleted`, result: 'ok', data: { energy_policy: id } });
    return { removed: true, ended_executions: ended };
  }

  // ---- plans ----

  /** Dry run: the plan for the policy over the known price curve (nothing is changed). */
  async plan(caller: Caller, id: string, opts: { horizon_hours?: number } = {}): Promise<PlanAnswer> {
    const p = await this.getPolicy(caller, id);
    const now = this.opts.now();
    const horizon = opts.horizon_hours ?? p.horizon_hours;
    if (!(horizon > 0 && horizon <= 7 * 24)) throw new FleetError('invalid_argument', `horizon_hours: ${horizon}; expected more than 0 and at most 168`);
    const { miners } = await fleetMiners(this.infra, this.control.resolver, caller, p.policy);
    return { policy_id: p.id, enabled: p.enabled, plan: await this.planFor(p, miners, now, now + horizon * 3_600_000) };
  }

  private async planFor(p: StoredPolicy, miners: Parameters<typeof planCurtailment>[0]['miners'], now: number, to: number): Promise<CurtailmentPlan> {
    const stored = p.price_source.kind === 'http' ? await this.store.prices(pricesKey(p)) : null;
    const c = curveAt(p.price_source, { now_ms: now, to_ms: to, uploaded_ms: p.updated_ms, stored, created_ms: p.created_ms });
    return planCurtailment({
      miners,
      policy: p.policy,
      curve: c.curve,
      hashprice_per_ths_day: p.hashprice_per_ths_day,
      now_ms: now,
      to_ms: to,
      ...(c.missing_since_ms !== null ? { missing_since_ms: c.missing_since_ms } : {}),
    });
  }

  // ---- demand response ----

  /**
   * "Curtail site X to N kW for M minutes": planned with the rules (ramp, order, methods,
   * exemptions) of `policy_id`, or of the tenant's first policy covering the site. A dry run
   * answers the plan; otherwise it becomes an execution run like a price window.
   */
  async signal(caller: Caller, input: unknown, opts: { dry_run?: boolean; policy_id?: string } = {}): Promise<{ dry_run: boolean; plan: CurtailmentPlan; execution: ExecutionView | null }> {
    requireOperator(caller);
    const now = this.opts.now();
    const signal = parseDemandResponseSignal(input, now);
    const policies = await this.listPolicies(caller);
    const p = opts.policy_id
      ? await this.getPolicy(caller, opts.policy_id)
      : policies.find(x => x.policy.selector.site === signal.site) ?? policies.find(x => x.policy.selector.site === undefined);
    if (!p) throw new FleetError('precondition_failed', `no curtailment policy covers site "${signal.site}"; create one (its ramp, methods and exemptions apply) or name it with policy_id`);
    if (p.policy.selector.site !== undefined && p.policy.selector.site !== signal.site)
      throw new FleetError('invalid_argument', `policy "${p.id}" covers site "${p.policy.selector.site}", not "${signal.site}"`);
    const { miners } = await fleetMiners(this.infra, this.control.resolver, caller, p.policy);
    // the policy's label selector still narrows which miners it may touch
    const selected = p.policy.selector.labels ? miners.filter(m => Object.entries(p.policy.selector.labels!).every(([k, v]) => m.labels[k] === v)) : miners;
    const plan = planDemandResponse({ miners: selected, signal, tenant: caller.tenant, rules: p.policy, now_ms: now, hashprice_per_ths_day: p.hashprice_per_ths_day });
    if (opts.dry_run) return { dry_run: true, plan, execution: null };
    const w = plan.windows[0]!;
    const e = this.executionOf({ id: executionId(caller.tenant, w.id), tenant: caller.tenant, policy: p, plan, window: w, now, kind: 'demand_response', source_id: signal.id, actor: `demand-response:${signal.id} (by ${caller.sub})`, note: null });
    if (!(await this.store.createExecution(e, this.opts.keepExecutions)))
      throw new FleetError('conflict', `demand-response signal "${signal.id}" for this window was already given; GET /api/v1/energy/executions/${e.id} shows it`, { details: { execution: e.id } });
    await this.control.note(caller, {
      time_ms: Date.now(),
      site: signal.site,
      miner: '',
      kind: 'control_action',
      severity: 'info',
      message: `demand response ${signal.id}: site ${signal.site} ${signal.target.kind === 'cap_kw' ? `capped to ${signal.target.cap_kw} kW` : `reduced by ${signal.target.percent}%`} until ${new Date(signal.end_ms).toISOString()} (${plan.steps.filter(s => s.kind === 'curtail').length} curtail step(s), ${w.miners_curtailed} miner(s))`,
      result: 'ok',
      data: { execution: e.id, phase: 'signal' },
    });
    this.kick();
    return { dry_run: false, plan, execution: await this.view(e) };
  }

  // ---- executions ----

  /** A new execution record of one window of a plan (a price window or a demand-response signal). */
  private executionOf(o: {
    id: string;
    tenant: string;
    policy: StoredPolicy;
    plan: CurtailmentPlan;
    window: PlanWindow;
    now: number;
    kind: CurtailmentExecution['kind'];
    source_id: string;
    actor: string;
    note: string | null;
  }): CurtailmentExecution {
    const w = o.window;
    return {
      id: o.id,
      tenant: o.tenant,
      policy_id: o.policy.id,
      created_ms: o.now,
      finished_ms: null,
      kind: o.kind,
      source_id: o.source_id,
      window: { id: w.id, start_ms: w.start_ms, end_ms: w.end_ms, reasons: w.reasons, restore: w.restore },
      memo_ref: this.infra.store.schedules.windowMemoRef(`energy:${o.tenant}:${w.id}`, w.start_ms),
      steps: framesOf(o.plan, w.id),
      sites: w.sites,
      reduction_kw: w.reduction_kw,
      ramp_kw_per_min: o.policy.policy.ramp_kw_per_min,
      actor: o.actor,
      ended_ms: null,
      note: o.note,
    };
  }

  async listExecutions(caller: Caller, opts: { limit?: number } = {}): Promise<ExecutionView[]> {
    const list = (await this.store.listExecutions(caller.tenant, Math.min(Math.max(opts.limit ?? 20, 1), 100))) as CurtailmentExecution[];
    return Promise.all(list.map(e => this.view(e, { miners: false })));
  }

  async getExecution(caller: Caller, id: string): Promise<ExecutionView> {
    const e = (await this.store.getExecution(caller.tenant, id)) as CurtailmentExecution | null;
    if (!e) throw new FleetError('not_found', `unknown curtailment execution '${id}'; GET /api/v1/energy/executions lists yours`, { details: { execution: id } });
    return this.view(e);
  }

  private async view(e: CurtailmentExecution, o: { miners?: boolean } = {}): Promise<ExecutionView> {
    const runs = (await this.store.stepRuns(e.id)) as StepRun[];
    const now = this.opts.now();
    const { memo_ref: _memo, ...rest } = e;
    let miners: ExecutionMinerReport[] = [];
    let restoreFailed = false;
    if (o.miners !== false) {
      const latest = await this.executor.latestResults(e, new Map(runs.map(r => [r.key, r])));
      const planned = new Map<string, { site: string; action: string }>();
      for (const s of e.steps) if (s.kind === 'curtail') for (const m of s.miners) planned.set(m.miner_id, { site: s.site, action: m.action });
      const report = (r: (typeof latest.curtail extends Map<string, infer V> ? V : never) | undefined): AttemptReport | null =>
        r ? { status: r.status, attempts: r.attempts, job: r.job, ...(r.code ? { code: r.code } : {}), ...(r.message ? { message: r.message } : {}) } : null;
      miners = [...planned].map(([id, p]) => ({ miner_id: id, site: p.site, action: p.action, curtail: report(latest.curtail.get(id)), restore: report(latest.restore.get(id)) }));
      restoreFailed = miners.some(m => m.restore?.status === 'failed' || m.restore?.status === 'cancelled');
    }
    const curtailDone = e.steps.filter(s => s.kind === 'curtail').every(s => runs.some(r => r.key === s.key));
    const restoreStarted = runs.some(r => r.kind === 'restore' || r.kind === 'sweep');
    const status: ExecutionStatus =
      e.finished_ms !== null ? 'finished' : restoreFailed ? 'restore_retrying' : restoreStarted ? 'restoring' : now < e.window.start_ms || runs.length === 0 ? 'scheduled' : curtailDone ? 'curtailed' : 'curtailing';
    return { ...rest, status, runs, miners };
  }

  // ---- the loop ----

  async start(): Promise<void> {
    this.stopped = false;
    this.timer = setInterval(() => this.kick(), this.opts.tickMs);
    this.kick();
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.race([this.ticking ?? Promise.resolve(), new Promise(r => setTimeout(r, 2_000).unref())]);
    this.executor.close();
  }

  /** Evaluate now (a signal was given); a pass already running is not doubled. */
  kick(): void {
    if (this.stopped || this.ticking) return;
    this.ticking = this.tick()
      .catch(err => this.infra.log.warn({ err: (err as Error).message }, 'energy: evaluation failed'))
      .finally(() => (this.ticking = null));
  }

  /** One pass (tests call it directly): poll feeds, open windows, advance executions. */
  async tick(): Promise<void> {
    const now = this.opts.now();
    const policies = (await this.store.listAllPolicies()) as StoredPolicy[];
    let open = (await this.store.openExecutions()) as CurtailmentExecution[];
    for (const p of policies) {
      const label = pricesKey(p);
      try {
        if (p.price_source.kind === 'http') await this.pollFeed(p, now);
        await this.evaluatePolicy(p, open, now);
      } catch (err) {
        this.infra.log.warn({ policy: label, err: (err as Error).message }, 'energy: policy evaluation failed');
      }
    }
    open = (await this.store.openExecutions()) as CurtailmentExecution[];
    const overdue = new Map<string, number>();
    const pending = new Map<string, number>();
    for (const e of open) {
      const label = `${e.tenant}/${e.policy_id}`;
      try {
        if (e.window.restore === 'deferred' && e.ended_ms === null && e.kind === 'price') await this.checkDeferred(e, policies, now);
        const r = await this.executor.advance(e);
        overdue.set(label, (overdue.get(label) ?? 0) + r.overdue);
        pending.set(label, (pending.get(label) ?? 0) + r.restorePending);
      } catch (err) {
        this.infra.log.warn({ execution: e.id, err: (err as Error).message }, 'energy: execution pass failed');
      }
    }
    const m = this.opts.metrics;
    if (m) {
      for (const p of policies) {
        const label = pricesKey(p);
        const waiting = [...this.openSince].filter(([k, t]) => k.startsWith(`${label}|`) && now - t > this.opts.graceMs).length;
        m.stepsOverdue.set({ policy: label }, (overdue.get(label) ?? 0) + waiting);
        m.restorePending.set({ policy: label }, pending.get(label) ?? 0);
      }
      m.executionsOpen.set(open.length);
    }
  }

  private async pollFeed(p: StoredPolicy, now: number): Promise<void> {
    if (p.price_source.kind !== 'http') return;
    const key = pricesKey(p);
    const stored = await this.store.prices(key);
    const pollMs = p.price_source.poll_minutes * MIN;
    if (stored && now - stored.last_attempt_ms < pollMs) return;
    if (this.feedsInFlight.has(key)) return;
    // one replica per poll period
    if (!(await this.store.claimStep('price-feeds', `${key}|${p.updated_ms}|${Math.floor(now / pollMs)}`, this.opts.replicaId, pollMs * 2))) return;
    this.feedsInFlight.add(key);
    const next: StoredPrices = stored ?? { curve: null, last_attempt_ms: now, last_success_ms: null, last_error: null, missing_since_ms: now };
    try {
      const curve = await fetchHttpPriceFeed(p.price_source.feed, { now: this.opts.now });
      await this.store.savePrices(key, { curve, last_attempt_ms: now, last_success_ms: now, last_error: null, missing_since_ms: null });
      this.opts.metrics?.priceFetches.inc({ result: 'ok' });
    } catch (err) {
      // The last good curve is kept; it goes stale by the policy's max age and the fallback decides.
      await this.store.savePrices(key, { ...next, last_attempt_ms: now, last_error: (err as Error).message, missing_since_ms: next.curve ? null : (next.missing_since_ms ?? now) });
      this.opts.metrics?.priceFetches.inc({ result: 'error' });
      this.infra.log.warn({ policy: key, err: (err as Error).message }, 'energy: price feed fetch failed');
    } finally {
      this.feedsInFlight.delete(key);
    }
  }

  private async evaluatePolicy(p: StoredPolicy, open: CurtailmentExecution[], now: number): Promise<void> {
    const label = pricesKey(p);
    const to = now + p.horizon_hours * 3_600_000;
    // Windows first, without miners: cheap, and enough to know whether one is open now.
    const bare = await this.planFor(p, [], now, to);
    const m = this.opts.metrics;
    if (m) {
      const stale = (p.price_source.kind === 'http' || p.price_source.kind === 'day_ahead') && (bare.prices.status === 'stale' || bare.prices.status === 'missing');
      m.priceStale.set({ policy: label }, stale ? 1 : 0);
      if (bare.prices.fetched_at_ms !== null && p.price_source.kind !== 'tariff') m.priceAge.set({ policy: label }, Math.max(0, (now - bare.prices.fetched_at_ms) / 1000));
    }
    if (!p.enabled) return;
    const w = bare.windows[0];
    if (!w || w.start_ms > now + this.opts.freezeLeadMs) return;
    const mark = `${label}|${w.id}`;
    const id = executionId(p.tenant, w.id);
    if (open.some(e => e.tenant === p.tenant && e.policy_id === p.id && e.kind === 'price' && (e.id === id || now < e.window.end_ms))) {
      this.openSince.delete(mark);
      return;
    }
    if (await this.store.getExecution(p.tenant, id)) {
      this.openSince.delete(mark);
      return;
    }
    if (!this.openSince.has(mark) && w.start_ms <= now) this.openSince.set(mark, now);
    const caller: Caller = { sub: `energy-policy:${p.id}`, tenant: p.tenant, roles: ['operator'] };
    const { miners } = await fleetMiners(this.infra, this.control.resolver, caller, p.policy);
    const plan = await this.planFor(p, miners, now, to);
    const pw = plan.windows.find(x => x.id === w.id);
    if (!pw) return;
    const note = pw.skipped.length > 0 ? `${pw.skipped.length} miner(s) skipped: ${[...new Set(pw.skipped.map(s => s.reason))].join(', ')}` : null;
    const e = this.executionOf({ id, tenant: p.tenant, policy: p, plan, window: pw, now, kind: 'price', source_id: p.id, actor: `energy-policy:${p.id} (by ${p.created_by})`, note });
    if (await this.store.createExecution(e, this.opts.keepExecutions)) {
      await this.control.note(caller, {
        time_ms: Date.now(),
        site: p.policy.selector.site ?? '',
        miner: '',
        kind: 'control_action',
        severity: pw.reasons.some(r => r !== 'price_above_strike') ? 'warning' : 'info',
        message: `curtailment ${p.id}: window ${new Date(pw.start_ms).toISOString()}–${new Date(pw.end_ms).toISOString()} opened (${pw.reasons.join(', ')}): ${pw.miners_curtailed} miner(s), ${pw.reduction_kw.toFixed(1)} kW in ${e.steps.filter(s => s.kind === 'curtail').length} step(s)`,
        result: 'ok',
        data: { execution: e.id, energy_policy: p.id, phase: 'opened' },
      });
    }
    this.openSince.delete(mark);
  }

  /** A window that ended in a `hold` fallback ends when the plan no longer has it open. */
  private async checkDeferred(e: CurtailmentExecution, policies: StoredPolicy[], now: number): Promise<void> {
    const p = policies.find(x => x.tenant === e.tenant && x.id === e.policy_id);
    if (p) {
      const bare = await this.planFor(p, [], now, now + p.horizon_hours * 3_600_000);
      const w = bare.windows[0];
      if (w && w.id === e.window.id && w.start_ms <= now) return;
    }
    await this.executor.endDeferred(e);
  }
}

function requireOperator(caller: Caller): void {
  if (!hasRole(caller, 'operator')) throw new FleetError('forbidden', 'curtailment needs the operator role');
}
