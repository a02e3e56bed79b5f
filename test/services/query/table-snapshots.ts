import type { MinerSample, MinerSnapshot } from '../../../core/samples.ts';

// Small snapshots for the miner-table tests.

export interface Spec {
  id: string;
  hashrate?: number | null;
  site?: string;
  status?: MinerSnapshot['status'];
  labels?: Record<string, string>;
  firmware?: string;
  hostname?: string;
  pools?: { url: string; accepted: number; active?: boolean }[];
}

/** A snapshot with the fields the table reads (the rest of a sample is irrelevant here). */
export function snap(s: Spec): MinerSnapshot {
  const reached = s.hashrate !== null && s.status !== 'offline';
  const sample = {
    model: 'S19',
    hostname: s.hostname ?? `${s.id}.farm`,
    firmware: s.firmware ?? '26.05',
    degraded_reasons: s.status === 'degraded' ? ['overheating'] : [],
    hashrate_ghs: s.hashrate ?? 0,
    hashrate_nominal_ghs: 100_000,
    power_w: 3_000,
    efficiency_jth: null,
    temp_chip_max_c: 70,
    boards_hashing: 3,
    boards_total: 3,
    pools: (s.pools ?? []).map(p => ({
      group: 'g',
      pool: p.url,
      user: 'u',
      accepted: p.accepted,
      rejected: 0,
      stale: 0,
      alive: true,
      active: p.active ?? true,
      enabled: true,
    })),
  } as unknown as MinerSample;
  return {
    ref: {
      id: s.id,
      tenant: 't',
      site: s.site ?? 'north',
      address: `10.0.0.${s.id.length}:50051`,
      credentials: 'default',
      labels: s.labels ?? {},
    },
    last_seen_ms: reached ? 1_000 : null,
    last_poll_ms: 1_000,
    consecutive_failures: 0,
    last_error: null,
    status: s.status ?? 'online',
    sample: reached ? sample : null,
    details: null,
  };
}
