/**
 * What each read tool's default answer must say about the fleet bench/mcp seeded
 * (seed-fleet.ts), computed from the generator, never through the query code: a tool that
 * answers from the wrong source, answers empty or miscounts makes the bench refuse its figures.
 */
import { sampleOf } from '../../test/mcp/seed.ts';
import type { SeededFleet } from './seed-fleet.ts';

export interface FleetTruth {
  n: number;
  jobId: string;
  asked: string;
  byStatus: Record<'online' | 'degraded' | 'offline' | 'paused', number>;
  /** miners below 90 % of nominal that are not paused (find_underperformers' default threshold) */
  underperformers: Set<string>;
  hottest_c: number;
  hottest: Set<string>;
  offline: Set<string>;
  /** offline minutes of the offline miners in the last 24 h */
  offlineMinutes: number;
  deadPoolsReporting: number;
  /** fleet hashrate now (TH/s), miners answering now */
  hashrateNowThs: number;
  latestEventMs: number;
  policyId: string;
  /** miners of the policy's site (one site: 500) and the models seeded */
  siteMiners: number;
  models: Set<string>;
}

export function fleetTruth(fleet: SeededFleet, jobId: string, offlineForMs: number, policyId: string): FleetTruth {
  const { miners, nowMs } = fleet;
  const byStatus = { online: 0, degraded: 0, offline: 0, paused: 0 };
  for (const m of miners) byStatus[m.status as keyof typeof byStatus]++;
  const hottest_c = Math.max(...miners.map(m => m.temp_c));
  const offline = new Set(miners.filter(m => m.status === 'offline').map(m => m.ref.id));
  return {
    n: miners.length,
    jobId,
    asked: miners[Math.floor(miners.length / 2)]!.ref.id,
    byStatus,
    underperformers: new Set(
      miners
        .filter(m => m.status !== 'paused')
        .filter(m => {
          const s = sampleOf(m, nowMs);
          return s.hashrate_ghs / s.hashrate_nominal_ghs < 0.9;
        })
        .map(m => m.ref.id),
    ),
    hottest_c,
    hottest: new Set(miners.filter(m => m.temp_c === hottest_c).map(m => m.ref.id)),
    offline,
    offlineMinutes: (offline.size * offlineForMs) / 60_000,
    deadPoolsReporting: miners.filter(m => m.dead_pool && !offline.has(m.ref.id)).length,
    hashrateNowThs: miners.filter(m => !offline.has(m.ref.id)).reduce((a, m) => a + sampleOf(m, nowMs).hashrate_ghs, 0) / 1_000,
    latestEventMs: Math.max(...fleet.events.map(e => e.time_ms)),
    policyId,
    siteMiners: miners.filter(m => m.ref.site === miners[0]!.ref.site).length,
    models: new Set(miners.map(m => m.model)),
  };
}

/* eslint-disable @typescript-eslint/no-explicit-any -- answers are read as the JSON they are */
type Answer = any;

const near = (got: unknown, want: number, rel: number): boolean => typeof got === 'number' && Math.abs(got - want) <= Math.abs(want) * rel;

/** null when the answer is right, else what is wrong with it. */
export function checkAnswer(name: string, args: Record<string, unknown>, s: Answer, t: FleetTruth): string | null {
  if (s === null || typeof s !== 'object') return 'no structured answer';
  const ids = (items: Answer[] | undefined): string[] => (items ?? []).map(i => String(i.miner ?? i.id));
  switch (name) {
    case 'fleet_overview': {
      const b = s.totals?.by_status;
      if (s.totals?.miners !== t.n) return `totals.miners ${s.totals?.miners}, seeded ${t.n}`;
      for (const k of Object.keys(t.byStatus) as (keyof FleetTruth['byStatus'])[])
        if (b?.[k] !== t.byStatus[k]) return `by_status.${k} ${b?.[k]}, seeded ${t.byStatus[k]}`;
      return null;
    }
    case 'list_miners':
      return s.items?.length > 0 ? null : 'no miners listed';
    case 'get_miner':
      return s.id === t.asked ? null : `id ${s.id}, asked ${t.asked}`;
    case 'get_miner_config':
      return s.miner === t.asked && s.tuner ? null : 'no tuner configuration';
    case 'ping_miner':
      return s.reachable === true ? null : `not reachable: ${s.message}`;
    case 'get_miner_logs':
      return s.lines?.length > 0 ? null : 'no log lines';
    case 'diagnose_miner':
      return s.live?.reachable === true && s.boards?.length === 3 ? null : 'live check failed or boards missing';
    case 'query_telemetry': {
      if ('miners' in args) return s.series?.[0]?.points > 0 && s.series[0].miner === t.asked ? null : 'no points for the miner';
      const h = (s.series as Answer[] | undefined)?.find(x => x.metric === 'hashrate_ths');
      if (!(h?.points > 0)) return `fleet series empty (source ${s.source})`;
      return near(h.last, t.hashrateNowThs, 0.02) ? null : `fleet hashrate last ${h.last} TH/s, seeded ${t.hashrateNowThs.toFixed(0)}`;
    }
    case 'find_underperformers': {
      if (s.source !== 'window_stats') return `source ${s.source}, expected window_stats`;
      if (s.total !== t.underperformers.size) return `total ${s.total}, seeded ${t.underperformers.size}`;
      const wrong = ids(s.items).filter(id => !t.underperformers.has(id));
      return s.items?.length > 0 && wrong.length === 0 ? null : `not seeded as underperforming: ${wrong.slice(0, 5).join(', ')}`;
    }
    case 'find_hot_spots': {
      if (s.source !== 'window_stats') return `source ${s.source}, expected window_stats`;
      if (s.total !== t.n) return `total ${s.total}, seeded ${t.n} miners with temperatures`;
      const top = ids(s.items).slice(0, t.hottest.size);
      if (s.items?.[0]?.temp_max_c !== t.hottest_c) return `hottest ${s.items?.[0]?.temp_max_c} °C, seeded ${t.hottest_c}`;
      return top.every(id => t.hottest.has(id)) ? null : 'the top items are not the miners seeded hottest';
    }
    case 'efficiency_report':
      if (s.source !== 'window_stats') return `source ${s.source}, expected window_stats`;
      return s.total === t.n - t.byStatus.paused && s.excluded === t.byStatus.paused && s.items?.length > 0
        ? null
        : `ranked ${s.total} excluded ${s.excluded}; seeded ${t.n - t.byStatus.paused} hashing, ${t.byStatus.paused} paused`;
    case 'compare_periods': {
      if (s.a?.source !== 'window_stats' || s.b?.source !== 'window_stats') return `sources ${s.a?.source}/${s.b?.source}, expected window_stats`;
      if (s.totals?.a?.miners !== t.n || s.totals?.b?.miners !== t.n) return `miners ${s.totals?.a?.miners}/${s.totals?.b?.miners}, seeded ${t.n}`;
      if (s.totals?.a?.availability_pct !== 100) return `period a availability ${s.totals?.a?.availability_pct} %, seeded 100`;
      return s.totals?.b?.offline_minutes === t.offlineMinutes ? null : `period b offline ${s.totals?.b?.offline_minutes} min, seeded ${t.offlineMinutes}`;
    }
    case 'availability_report': {
      if (s.source !== 'window_stats') return `source ${s.source}, expected window_stats`;
      if (s.fleet?.miners !== t.n || s.fleet?.offline_minutes !== t.offlineMinutes)
        return `fleet ${s.fleet?.miners} miners ${s.fleet?.offline_minutes} offline min; seeded ${t.n}, ${t.offlineMinutes}`;
      const wrong = ids(s.items).filter(id => !t.offline.has(id));
      return s.items?.length > 0 && wrong.length === 0 ? null : `least available not seeded offline: ${wrong.slice(0, 5).join(', ')}`;
    }
    case 'pool_health': {
      if (s.miners_reporting !== t.n - t.offline.size) return `miners_reporting ${s.miners_reporting}, seeded ${t.n - t.offline.size}`;
      const dead = (s.items as Answer[] | undefined)?.reduce((a: number, p: Answer) => a + p.dead, 0);
      return dead === t.deadPoolsReporting ? null : `dead pools ${dead}, seeded ${t.deadPoolsReporting}`;
    }
    case 'get_events':
      return s.items?.length > 0 && Date.parse(s.items[0].time) === t.latestEventMs ? null : 'the latest seeded event is not first';
    case 'list_jobs':
      return ids(s.items).includes(t.jobId) ? null : 'the job is not listed';
    case 'get_job':
      return s.id === t.jobId && s.miners_total === 500 ? null : `job ${s.id} over ${s.miners_total} miners`;
    case 'list_power_schedules':
      return s.total === 1 ? null : `${s.total} schedules, seeded 1`;
    // Money from stored hashrate and power: checked for coverage and consistency, not to the cent
    // (the means come from the seeded rollups, not from the generator).
    case 'get_profitability': {
      const f = s.fleet;
      if (!(f?.miners > 0) || f.miners > t.n) return `fleet.miners ${f?.miners}, seeded ${t.n}`;
      if (!(f.revenue > 0) || !(f.power_cost > 0)) return `revenue ${f.revenue}, power cost ${f.power_cost}: expected both > 0`;
      if (!near(f.margin, f.revenue - f.power_cost, 0.001) && Math.abs(f.margin - (f.revenue - f.power_cost)) > 0.02) return `margin ${f.margin} is not revenue − power cost (${f.revenue} − ${f.power_cost})`;
      return s.groups?.length > 0 ? null : 'no groups';
    }
    case 'find_losing_miners': {
      if (!(s.evaluated > 0) || s.evaluated > t.n) return `evaluated ${s.evaluated}, seeded ${t.n}`;
      const notLosing = (s.items as Answer[] | undefined)?.filter(i => !(i.margin < 0)) ?? [];
      return notLosing.length === 0 && s.total <= s.evaluated ? null : `${notLosing.length} listed miners do not lose money`;
    }
    case 'get_break_even': {
      const models = new Set(((s.items ?? s.models) as Answer[] | undefined)?.map(m => m.model));
      const missing = [...t.models].filter(m => !models.has(m));
      if (missing.length > 0) return `no break-even for seeded models ${missing.join(', ')}`;
      const bad = ((s.items ?? s.models) as Answer[]).filter(m => !(m.break_even_price_per_mwh > 0));
      return bad.length === 0 ? null : `${bad.length} models without a positive break-even price`;
    }
    case 'list_curtailment_policies':
      return ids(s.items ?? s.policies).includes(t.policyId) ? null : `policy ${t.policyId} not listed`;
    case 'plan_curtailment': {
      const w = s.windows as Answer[] | undefined;
      if (!w || w.length === 0) return 'no window planned over the seeded evening peak';
      return w.every(x => x.miners > 0 && x.miners <= t.siteMiners && x.kw > 0) ? null : `a window curtails no miner or more than the site's ${t.siteMiners}`;
    }
    default:
      return `no check for ${name}`;
  }
}
