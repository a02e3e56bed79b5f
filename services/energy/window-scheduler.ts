import { orderingEfficiencyJth, type EnergyMiner } from './energy-miner.ts';
import type { PlanStep, PlanStepMiner, PlanTotals, PlanWindow, SitePlan, SkipReason, WindowReason } from './plan.ts';
import { isExempt, methodFor, selectorMatches, type CurtailMethod, type CurtailTarget, type CurtailmentPolicy } from './policy.ts';
import type { PriceIntegral } from './price-curve.ts';
import { RampLedger } from './ramp-ledger.ts';

/**
 * The engine under both planners: given curtailment windows (each with a target) and the rules
 * of a policy, decides per site which miners to curtail when and when to restore them.
 *
 * - Candidates are the selected, non-exempt miners that are running when the plan starts (a miner
 *   already off was put there by someone else, so it is neither curtailed nor restored here).
 * - Order: least efficient J/TH first, then hottest (or the reverse with hottest_first), then id,
 *   so the same input always gives the same plan.
 * - Curtail steps start at the window start; restore steps at its end, or later if the minimum
 *   off time demands. The ramp ledger spreads both over whole minutes.
 * - A miner still off when the next window starts stays off through it (no restore and curtail
 *   in the same breath); a miner restored less than min_on before a window is skipped for it.
 * - Throughput is O(miners · windows) plus one sort.
 */

export type SchedulingRules = Pick<
  CurtailmentPolicy,
  'selector' | 'order' | 'method' | 'residual_power_w' | 'ramp_kw_per_min' | 'min_on_minutes' | 'min_off_minutes' | 'exempt_labels'
>;

export interface WindowSpec {
  id: string;
  start_ms: number;
  end_ms: number;
  target: CurtailTarget;
  reasons: WindowReason[];
  max_price_per_mwh: number | null;
  restore: 'at_end' | 'deferred';
  /** Only these sites (demand response names one); all selected sites when absent. */
  sites?: readonly string[];
}

export interface ScheduleInput {
  miners: readonly EnergyMiner[];
  rules: SchedulingRules;
  windows: readonly WindowSpec[];
  prices: PriceIntegral | null;
  hashprice_per_ths_day: number | null;
}

export interface ScheduleResult {
  windows: PlanWindow[];
  steps: PlanStep[];
  totals: PlanTotals;
  exempt_miner_ids: string[];
}

interface Candidate {
  m: EnergyMiner;
  rank: number;
  method: CurtailMethod;
  /** kW this miner's curtail takes off, or a skip reason. */
  kw: number;
  ths: number;
  power_target_w: number | null;
  skip: SkipReason | null;
  /** Earliest time it may be curtailed (minimum on time). */
  on_ok_ms: number;
}

/** A stretch during which one miner is off because of one window. */
interface OffRecord {
  c: Candidate;
  window: number;
  curtail_slot: number | null;
  from_ms: number;
  to_ms: number;
  restore_slot: number | null;
  /** When the miner went off (kept when carried into the next window), for the minimum off time. */
  off_since_ms: number;
  /** Order in which restores were placed, so a restore step lists miners in restore order. */
  restore_seq: number;
}

const MIN = 60_000;

function compareFor(order: SchedulingRules['order']): (a: EnergyMiner, b: EnergyMiner) => number {
  const temp = (m: EnergyMiner) => m.temp_chip_max_c ?? Number.NEGATIVE_INFINITY;
  const eff = (m: EnergyMiner) => orderingEfficiencyJth(m);
  const byId = (a: EnergyMiner, b: EnergyMiner) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const desc = (x: number, y: number) => (x === y ? 0 : x > y ? -1 : 1);
  return order === 'hottest_first'
    ? (a, b) => desc(temp(a), temp(b)) || desc(eff(a), eff(b)) || byId(a, b)
    : (a, b) => desc(eff(a), eff(b)) || desc(temp(a), temp(b)) || byId(a, b);
}

function candidateOf(m: EnergyMiner, rank: number, rules: SchedulingRules): Candidate {
  const method = methodFor(rules, m.model);
  const on_ok_ms = m.state_since_ms === null ? Number.NEGATIVE_INFINITY : m.state_since_ms + rules.min_on_minutes * MIN;
  const base = { m, rank, method, on_ok_ms };
  const rampW = rules.ramp_kw_per_min * 1000;
  if (method === 'power_target') {
    const min = m.power_target_min_w;
    if (min === null) return { ...base, kw: 0, ths: 0, power_target_w: null, skip: 'no_power_limits' };
    const w = m.power_w - min;
    if (!(w > 0)) return { ...base, kw: 0, ths: 0, power_target_w: min, skip: 'nothing_to_reduce' };
    // Hashrate assumed to fall in proportion to power: conservative, a lower target usually
    // runs at a better J/TH, so the real loss of hashrate is smaller.
    const ths = (m.hashrate_ghs / 1000) * (w / m.power_w);
    return { ...base, kw: w / 1000, ths, power_target_w: min, skip: w > rampW + 1e-6 ? 'exceeds_ramp' : null };
  }
  const w = m.power_w - rules.residual_power_w;
  if (!(w > 0)) return { ...base, kw: 0, ths: 0, power_target_w: null, skip: 'nothing_to_reduce' };
  return { ...base, kw: w / 1000, ths: m.hashrate_ghs / 1000, power_target_w: null, skip: w > rampW + 1e-6 ? 'exceeds_ramp' : null };
}

export function scheduleWindows(input: ScheduleInput): ScheduleResult {
  const { rules } = input;
  // by id, so sums of kW add up in the same order whatever order the caller listed miners in
  const selected = input.miners.filter(m => selectorMatches(rules.selector, m)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const exempt_miner_ids = selected.filter(m => isExempt(rules, m)).map(m => m.id).sort();
  const cmp = compareFor(rules.order);

  // Per site: all selected miners' power (exempt and off ones draw too) and the ordered candidates.
  const sites = new Map<string, { power_kw: number; candidates: Candidate[] }>();
  for (const m of selected) {
    let s = sites.get(m.site);
    if (!s) sites.set(m.site, (s = { power_kw: 0, candidates: [] }));
    s.power_kw += m.power_w / 1000;
  }
  const running = selected.filter(m => m.state === 'running' && !isExempt(rules, m)).sort(cmp);
  running.forEach((m, rank) => sites.get(m.site)!.candidates.push(candidateOf(m, rank, rules)));
  const siteNames = [...sites.keys()].sort();

  const records: OffRecord[] = [];
  const windowSkips: PlanWindow['skipped'][] = input.windows.map(() => []);
  const windowSites: SitePlan[][] = input.windows.map(() => []);
  const carriedCount: number[] = input.windows.map(() => 0);
  const minOffMs = rules.min_off_minutes * MIN;
  let restoreSeq = 0;

  for (const site of siteNames) {
    const { power_kw, candidates } = sites.get(site)!;
    const ledger = new RampLedger(rules.ramp_kw_per_min);
    /** miner id → its open record (off, restore tentatively planned or deferred) */
    const off = new Map<string, OffRecord>();
    /** miner id → when it may be curtailed again after our restore */
    const onOk = new Map<string, number>();

    input.windows.forEach((w, wi) => {
      if (w.sites && !w.sites.includes(site)) return;
      // Keep miners whose restore would land inside this window off through it.
      let carried_kw = 0;
      let carried = 0;
      for (const rec of [...off.values()]) {
        if (rec.restore_slot === null || rec.restore_slot * MIN >= w.start_ms) {
          if (rec.restore_slot !== null) ledger.release(rec.restore_slot, rec.c.kw);
          const cont: OffRecord = { c: rec.c, window: wi, curtail_slot: null, from_ms: w.start_ms, to_ms: w.end_ms, restore_slot: null, off_since_ms: rec.off_since_ms, restore_seq: 0 };
          rec.to_ms = Math.min(rec.to_ms, w.start_ms);
          rec.restore_slot = null;
          records.push(cont);
          off.set(rec.c.m.id, cont);
          carried_kw += rec.c.kw;
          carried++;
        } else {
          off.delete(rec.c.m.id);
        }
      }
      carriedCount[wi]! += carried;
      const target_kw = w.target.kind === 'cap_kw' ? w.target.cap_kw : power_kw * (1 - w.target.percent / 100);
      const need_kw = power_kw - target_kw;
      let reduced_kw = carried_kw;
      let lastSlot: number | null = null;
      let cursor = RampLedger.slotAtOrAfter(w.start_ms);
      let newly = 0;
      for (const c of candidates) {
        if (reduced_kw >= need_kw - 1e-9) break;
        if (off.has(c.m.id)) continue;
        const skip: SkipReason | null =
          c.skip ?? (Math.max(c.on_ok_ms, onOk.get(c.m.id) ?? Number.NEGATIVE_INFINITY) > w.start_ms ? 'min_on_time' : null);
        if (skip) {
          windowSkips[wi]!.push({ miner_id: c.m.id, site, reason: skip });
          continue;
        }
        cursor = ledger.firstFit(cursor, c.kw);
        if (cursor * MIN >= w.end_ms) {
          // every later miner would land after the end too: name the first, the shortfall says the rest
          windowSkips[wi]!.push({ miner_id: c.m.id, site, reason: 'ramp_too_slow' });
          break;
        }
        ledger.take(cursor, c.kw);
        lastSlot = cursor;
        const rec: OffRecord = { c, window: wi, curtail_slot: cursor, from_ms: cursor * MIN, to_ms: w.end_ms, restore_slot: null, off_since_ms: cursor * MIN, restore_seq: 0 };
        records.push(rec);
        off.set(c.m.id, rec);
        reduced_kw += c.kw;
        newly++;
      }
      windowSites[wi]!.push({
        site,
        power_before_kw: power_kw,
        target_kw,
        reduction_kw: reduced_kw,
        shortfall_kw: Math.max(0, power_kw - reduced_kw - target_kw),
        reached_at_ms: lastSlot === null ? null : lastSlot * MIN,
        miners: newly + carried,
      });
      if (w.restore === 'deferred') return;
      // Restore: earliest allowed time first, then the most valuable (reverse curtail order).
      const toRestore = [...off.values()]
        .filter(r => r.window === wi)
        .map(r => ({ r, due: Math.max(w.end_ms, r.off_since_ms + minOffMs) }))
        .sort((a, b) => a.due - b.due || b.r.c.rank - a.r.c.rank);
      let rc = Number.NEGATIVE_INFINITY;
      for (const { r, due } of toRestore) {
        rc = ledger.firstFit(Math.max(rc, RampLedger.slotAtOrAfter(due)), r.c.kw);
        ledger.take(rc, r.c.kw);
        r.restore_slot = rc;
        r.restore_seq = restoreSeq++;
        r.to_ms = rc * MIN;
        onOk.set(r.c.m.id, rc * MIN + rules.min_on_minutes * MIN);
      }
    });
  }

  return assemble(input, records, windowSkips, windowSites, carriedCount, exempt_miner_ids);
}

function assemble(
  input: ScheduleInput,
  records: OffRecord[],
  windowSkips: PlanWindow['skipped'][],
  windowSites: SitePlan[][],
  carriedCount: number[],
  exempt_miner_ids: string[],
): ScheduleResult {
  const hp = input.hashprice_per_ths_day;
  const windows: PlanWindow[] = input.windows.map((w, wi) => ({
    id: w.id,
    start_ms: w.start_ms,
    end_ms: w.end_ms,
    reasons: w.reasons,
    max_price_per_mwh: w.max_price_per_mwh,
    restore: w.restore,
    sites: windowSites[wi]!,
    miners_curtailed: 0,
    miners_carried: carriedCount[wi]!,
    reduction_kw: 0,
    reduction_ths: 0,
    energy_avoided_mwh: 0,
    cost_saved: 0,
    unpriced_mwh: 0,
    revenue_forgone: hp === null ? null : 0,
    net_saving: null,
    skipped: windowSkips[wi]!,
  }));
  // (window, site, kind) → minute → step: numeric inner keys, no string per miner action
  const steps = new Map<string, Map<number, PlanStep>>();
  const stepOf = (at_ms: number, w: PlanWindow, site: string, kind: PlanStep['kind']): PlanStep => {
    const key = `${site}|${kind}|${w.id}`;
    let byTime = steps.get(key);
    if (!byTime) steps.set(key, (byTime = new Map()));
    let s = byTime.get(at_ms);
    if (!s) byTime.set(at_ms, (s = { at_ms, window_id: w.id, site, kind, miners: [], kw: 0, ths: 0 }));
    return s;
  };
  const addTo = (s: PlanStep, pm: PlanStepMiner) => {
    s.miners.push(pm);
    s.kw += pm.kw;
    s.ths += pm.ths;
  };
  for (const r of records) {
    const w = windows[r.window]!;
    const { c } = r;
    const site = c.m.site;
    w.miners_curtailed++;
    w.reduction_kw += c.kw;
    w.reduction_ths += c.ths;
    const hours = Math.max(0, r.to_ms - r.from_ms) / 3_600_000;
    const mwh = (c.kw * hours) / 1000;
    w.energy_avoided_mwh += mwh;
    if (input.prices) {
      w.cost_saved += input.prices.costOf(c.kw, r.from_ms, r.to_ms);
      w.unpriced_mwh += (c.kw * input.prices.unpricedMs(r.from_ms, r.to_ms)) / 3.6e9;
    } else {
      w.unpriced_mwh += mwh;
    }
    if (w.revenue_forgone !== null && hp !== null) w.revenue_forgone += (c.ths * hp * hours) / 24;
    if (r.curtail_slot !== null) {
      addTo(stepOf(r.curtail_slot * MIN, w, site, 'curtail'), { miner_id: c.m.id, action: c.method, power_target_w: c.method === 'power_target' ? c.power_target_w : null, kw: c.kw, ths: c.ths });
    }
  }
  for (const r of records.filter(x => x.restore_slot !== null).sort((a, b) => a.restore_seq - b.restore_seq)) {
    const { c } = r;
    addTo(stepOf(r.restore_slot! * MIN, windows[r.window]!, c.m.site, 'restore'), { miner_id: c.m.id, action: 'restore', power_target_w: null, kw: c.kw, ths: c.ths });
  }
  for (const w of windows) {
    w.net_saving = w.revenue_forgone === null ? null : w.cost_saved - w.revenue_forgone;
  }
  const ordered = [...steps.values()].flatMap(m => [...m.values()]).sort(
    (a, b) => a.at_ms - b.at_ms || (a.site < b.site ? -1 : a.site > b.site ? 1 : 0) || (a.kind === b.kind ? 0 : a.kind === 'curtail' ? -1 : 1) || (a.window_id < b.window_id ? -1 : 1),
  );
  const sum = (f: (w: PlanWindow) => number) => windows.reduce((acc, w) => acc + f(w), 0);
  const totals: PlanTotals = {
    energy_avoided_mwh: sum(w => w.energy_avoided_mwh),
    cost_saved: sum(w => w.cost_saved),
    unpriced_mwh: sum(w => w.unpriced_mwh),
    revenue_forgone: hp === null ? null : sum(w => w.revenue_forgone ?? 0),
    net_saving: hp === null ? null : sum(w => w.net_saving ?? 0),
  };
  return { windows, steps: ordered, totals, exempt_miner_ids };
}
