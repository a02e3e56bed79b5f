import { HEALTH_STATUSES, type FleetAggregate, type HealthStatus, type MinerSnapshot } from './samples.ts';

export function emptyAggregate(tenant: string, site: string | null, now: number): FleetAggregate {
  const by_status = Object.fromEntries(HEALTH_STATUSES.map(s => [s, 0])) as Record<HealthStatus, number>;
  return {
    tenant,
    site,
    updated_ms: now,
    miners_total: 0,
    by_status,
    overheating: 0,
    hashrate_ghs: 0,
    hashrate_nominal_ghs: 0,
    power_w: 0,
    boards_hashing: 0,
    boards_total: 0,
  };
}

/**
 * Several collectors (each polling its own miners) each write their part of an aggregate; the
 * whole is their sum. Parts last updated before oldestMs are left out (a collector removed for
 * good would otherwise count its miners forever) unless no part is newer, so a stopped
 * deployment still answers, marked stale by its age. updated_ms is the oldest included part's:
 * the figure is only as fresh as its stalest contributor.
 */
export function mergeAggregates(parts: readonly FleetAggregate[], oldestMs: number): FleetAggregate | null {
  if (parts.length === 0) return null;
  const fresh = parts.filter(a => a.updated_ms >= oldestMs);
  const use = fresh.length > 0 ? fresh : parts;
  const first = use[0]!;
  const out = emptyAggregate(first.tenant, first.site, Math.min(...use.map(a => a.updated_ms)));
  for (const a of use) {
    out.miners_total += a.miners_total;
    for (const s of HEALTH_STATUSES) out.by_status[s] += a.by_status[s] ?? 0;
    out.overheating += a.overheating;
    out.hashrate_ghs += a.hashrate_ghs;
    out.hashrate_nominal_ghs += a.hashrate_nominal_ghs;
    out.power_w += a.power_w;
    out.boards_hashing += a.boards_hashing;
    out.boards_total += a.boards_total;
  }
  return out;
}

/**
 * Per tenant and per tenant+site. Every miner counts in miners_total and by_status; the
 * hashrate / power / board / overheating figures only come from miners reached by their last
 * poll (an offline miner's last sample is history, not current output).
 */
export function computeAggregates(snapshots: readonly MinerSnapshot[], nowMs = Date.now()): FleetAggregate[] {
  const out = new Map<string, FleetAggregate>();
  const get = (tenant: string, site: string | null): FleetAggregate => {
    const key = site === null ? tenant : `${tenant}\u0000${site}`;
    let a = out.get(key);
    if (!a) out.set(key, (a = emptyAggregate(tenant, site, nowMs)));
    return a;
  };
  for (const snap of snapshots) {
    for (const a of [get(snap.ref.tenant, null), get(snap.ref.tenant, snap.ref.site)]) {
      a.miners_total++;
      a.by_status[snap.status]++;
      const s = snap.sample;
      if (!s || snap.status === 'offline') continue;
      if (s.degraded_reasons.includes('overheating')) a.overheating++;
      a.hashrate_ghs += s.hashrate_ghs;
      a.hashrate_nominal_ghs += s.hashrate_nominal_ghs;
      a.power_w += s.power_w ?? 0;
      a.boards_hashing += s.boards_hashing;
      a.boards_total += s.boards_total;
    }
  }
  return [...out.values()];
}
