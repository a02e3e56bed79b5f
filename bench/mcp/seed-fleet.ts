/**
 * The stored fleet bench/mcp asks about, written through a Store's ports by the collector's own
 * writers, so the bench reads what production stores on either backend: points.ts (raw
 * points), MinerRollups (miner_1m / miner_1h) feeding FleetRollups (fleet_1m / fleet_1h) and
 * WindowStatsWriter (per-miner window statistics), snapshots, aggregates, heartbeat, resolved
 * inventory and events. The miners and their values are test/mcp/seed.ts's synthetic fleet.
 *
 * Polls: every `recentPollMs` (default 5 min) over the last `recentHours` (default 3 h: as long
 * as 5-minute statistics are kept), every `oldPollMs` (default 1 h) before that, back to
 * `hours` (default 49: compare_periods' default call reaches 48 h back). The older polls are
 * sparse to keep seeding 10,000 miners within minutes; they fill the same hourly and daily
 * buckets, hashes and series a denser poller would (fewer points per series). Raw points are
 * written for the polls of the last `rawMinutes` (default 60) only: no default tool call reads
 * older raw points. Offline miners stop answering 30 minutes before now.
 */
import { FleetRollups } from '../../collector/fleet-rollups.ts';
import { offlinePoint, samplePoints } from '../../collector/points.ts';
import { MinerRollups } from '../../collector/rollups.ts';
import { WindowStatsWriter } from '../../collector/window-stats-writer.ts';
import { computeAggregates } from '../../core/fleet-aggregates.ts';
import type { FleetEvent, MinerSnapshot } from '../../core/samples.ts';
import type { SeriesPoint } from '../../store/ports/series.ts';
import type { Store } from '../../store/store.ts';
import { OFFLINE_FOR_MS, sampleOf, syntheticFleet, syntheticSnapshot, type SyntheticMiner } from '../../test/mcp/seed.ts';

const MINUTE = 60_000;
const HOUR = 3_600_000;
export { OFFLINE_FOR_MS };

export interface BenchSeedOptions {
  n: number;
  tenant?: string;
  nowMs: number;
  hours?: number;
  recentHours?: number;
  recentPollMs?: number;
  oldPollMs?: number;
  rawMinutes?: number;
  events?: number;
  /** each miner's resolved address (where the control tools reach it) */
  addressOf: (m: SyntheticMiner) => { host: string; port: number };
}

export interface SeededFleet {
  miners: SyntheticMiner[];
  tenant: string;
  nowMs: number;
  /** the poll interval of the recent history (FleetQuery's pollIntervalMs) */
  pollMs: number;
  events: FleetEvent[];
  snapshots: MinerSnapshot[];
  points: number;
  seedMs: number;
}

/** Poll times of the seeded history, oldest first, all before nowMs. */
export function pollTimes(o: Required<Pick<BenchSeedOptions, 'nowMs' | 'hours' | 'recentHours' | 'recentPollMs' | 'oldPollMs'>>): number[] {
  const out: number[] = [];
  const recentFrom = Math.floor((o.nowMs - o.recentHours * HOUR) / HOUR) * HOUR;
  for (let t = Math.floor((o.nowMs - o.hours * HOUR) / HOUR) * HOUR; t < recentFrom; t += o.oldPollMs) out.push(t);
  // the last poll lands a few seconds before now, as a running collector's would
  for (let t = recentFrom; t < o.nowMs - 5_000; t += o.recentPollMs) out.push(t);
  return out;
}

export async function seedBenchFleet(store: Store, o: BenchSeedOptions): Promise<SeededFleet> {
  const t0 = Date.now();
  const tenant = o.tenant ?? 'acme';
  const nowMs = o.nowMs;
  const recentPollMs = o.recentPollMs ?? 5 * MINUTE;
  const times = pollTimes({ nowMs, hours: o.hours ?? 49, recentHours: o.recentHours ?? 3, recentPollMs, oldPollMs: o.oldPollMs ?? HOUR });
  const rawFrom = nowMs - (o.rawMinutes ?? 60) * MINUTE;
  const miners = syntheticFleet(o.n, tenant);

  const writer = await store.series.openWriter({ bufferMaxPoints: 2_000_000 });
  const fleetRollups = new FleetRollups(writer, { collector: 'bench' });
  const windowStats = new WindowStatsWriter(store.state, { runId: 'bench.1' });
  const rollups = new MinerRollups(writer, {
    onWindow: w => {
      fleetRollups.add(w);
      windowStats.add(w);
    },
  });
  let batch: SeriesPoint[] = [];
  for (const m of miners) {
    for (const t of times) {
      const offline = m.status === 'offline' && t >= nowMs - OFFLINE_FOR_MS;
      if (offline) {
        rollups.addOffline(m.ref, m.model, t);
        if (t >= rawFrom) batch.push(offlinePoint(m.ref, m.model, t));
      } else {
        const s = sampleOf(m, t);
        rollups.addSample(s);
        if (t >= rawFrom) for (const p of samplePoints(s)) batch.push(p);
      }
    }
    if (batch.length >= 50_000) {
      writer.write(batch);
      batch = [];
      await writer.flush();
      await windowStats.flush();
    }
  }
  writer.write(batch);
  // What a collector stopped at nowMs has written (its shutdown writes the open windows as
  // partial ones): seeding 10,000 miners takes minutes, so by the time the tools are asked the
  // bucket that was open at nowMs has closed, and a running collector would have written it.
  rollups.flushAll();
  fleetRollups.flushAll();
  await writer.close({ timeoutMs: 300_000 });
  const { written, dropped } = writer.stats();
  if (dropped > 0) throw new Error(`bench seed: ${dropped} points dropped by the series writer`);
  await windowStats.flush();
  if (windowStats.dropped > 0) throw new Error(`bench seed: ${windowStats.dropped} window statistics dropped`);

  const snapshots = miners.map(m => syntheticSnapshot(m, nowMs, Math.round(OFFLINE_FOR_MS / recentPollMs)));
  for (let i = 0; i < snapshots.length; i += 1_000) await store.state.putSnapshots(snapshots.slice(i, i + 1_000));
  await store.state.putAggregates('collector', computeAggregates(snapshots, nowMs));
  await store.state.putHeartbeat(nowMs - 2_000);
  await store.inventory.writeResolved(
    miners.map(m => ({
      id: m.ref.id,
      ...o.addressOf(m),
      tenant,
      site: m.ref.site,
      credentials: 'default',
      labels: m.ref.labels,
      source: 'file' as const,
    })),
    [],
  );
  const events = eventsOf(miners, nowMs, o.events ?? 300);
  await store.events.record(events);
  return { miners, tenant, nowMs, pollMs: recentPollMs, events, snapshots, points: written, seedMs: Date.now() - t0 };
}

function eventsOf(miners: readonly SyntheticMiner[], nowMs: number, n: number): FleetEvent[] {
  const kinds = ['miner_offline', 'overheating', 'hashboard_lost', 'pool_dead', 'reboot_detected'] as const;
  const out: FleetEvent[] = [];
  for (let i = 0; i < n; i++) {
    const m = miners[(i * 7919) % miners.length]!;
    const kind = kinds[i % kinds.length]!;
    out.push({
      time_ms: nowMs - (n - i) * 30_000,
      tenant: m.ref.tenant,
      site: m.ref.site,
      miner: m.ref.id,
      kind,
      severity: kind === 'miner_offline' || kind === 'hashboard_lost' ? 'critical' : 'warning',
      message: `${kind.replace('_', ' ')} on ${m.ref.id} (${m.hostname}) detected by the collector`,
    });
  }
  return out;
}
