import type { EnergyExecutionRecord } from '../../store/ports/energy.ts';
import type { CurtailmentPlan, PlanStepMiner, SitePlan, WindowReason } from './plan.ts';

/**
 * A curtailment execution: one window's plan, frozen when the window opens (or when a
 * demand-response signal is given), run step by step by whichever replica claims each step.
 * What each miner had before is remembered under `memo_ref` (the schedules port's window memo,
 * written by the control service), so restores put back exactly what was changed.
 */
export interface ExecutionStep {
  /** zero-padded time first, so keys sort in time order */
  key: string;
  at_ms: number;
  kind: 'curtail' | 'restore';
  site: string;
  miners: PlanStepMiner[];
  kw: number;
}

export interface CurtailmentExecution extends EnergyExecutionRecord {
  kind: 'price' | 'demand_response';
  /** the policy id, or the demand-response signal id */
  source_id: string;
  window: { id: string; start_ms: number; end_ms: number; reasons: WindowReason[]; restore: 'at_end' | 'deferred' };
  memo_ref: string;
  steps: ExecutionStep[];
  sites: SitePlan[];
  reduction_kw: number;
  ramp_kw_per_min: number;
  /** who the jobs run as (audit actor) */
  actor: string;
  /** a deferred window's end, once the plan no longer has it open */
  ended_ms: number | null;
  note: string | null;
}

export const stepKey = (at_ms: number, kind: 'curtail' | 'restore', site: string): string =>
  `${String(at_ms).padStart(15, '0')}|${kind}|${site}`;

/** The steps of one window of a plan, as an execution runs them. */
export function framesOf(plan: CurtailmentPlan, windowId: string): ExecutionStep[] {
  return plan.steps
    .filter(s => s.window_id === windowId)
    .map(s => ({ key: stepKey(s.at_ms, s.kind, s.site), at_ms: s.at_ms, kind: s.kind, site: s.site, miners: s.miners, kw: s.kw }));
}

/** Restore steps for the miners still off, most valuable first, each minute within the ramp. */
export function sweepRestoreSteps(curtail: ExecutionStep[], from_ms: number, ramp_kw_per_min: number): ExecutionStep[] {
  const out: ExecutionStep[] = [];
  const bySite = new Map<string, PlanStepMiner[]>();
  for (const s of curtail.filter(x => x.kind === 'curtail')) {
    const list = bySite.get(s.site) ?? [];
    list.push(...s.miners);
    bySite.set(s.site, list);
  }
  const first = Math.ceil(from_ms / 60_000);
  for (const [site, miners] of [...bySite].sort(([a], [b]) => (a < b ? -1 : 1))) {
    let slot = first;
    let used = 0;
    let batch: PlanStepMiner[] = [];
    const flush = () => {
      if (batch.length === 0) return;
      const at = slot * 60_000;
      out.push({ key: stepKey(at, 'restore', site), at_ms: at, kind: 'restore', site, miners: batch.map(m => ({ ...m, action: 'restore', power_target_w: null })), kw: used });
      batch = [];
      used = 0;
      slot++;
    };
    for (const m of [...miners].reverse()) {
      if (used + m.kw > ramp_kw_per_min + 1e-9) flush();
      batch.push(m);
      used += m.kw;
    }
    flush();
  }
  return out;
}
