/**
 * A simulated fleet of mixed models (S9, S19j Pro, S19 XP, S21; real gRPC on loopback) polled by
 * the collector's own poller (pollMiner: the RPCs and normalisation the collector runs) at
 * historical times, stored through the collector's writers (raw points to the series port,
 * MinerRollups -> WindowStatsWriter -> the state port, snapshots): what profitability reads. Next
 * to it, the simulator's ground truth (fleet.truth) read right after each poll, from which the
 * tests compute their expected figures without the query code.
 */
import { samplePoints } from '../../../collector/points.ts';
import { MinerRollups } from '../../../collector/rollups.ts';
import { WindowStatsWriter } from '../../../collector/window-stats-writer.ts';
import { MinerClient } from '../../../collector/miner-client.ts';
import { MinerTracker, pollMiner } from '../../../collector/poller.ts';
import { computeAggregates } from '../../../core/fleet-aggregates.ts';
import type { MinerSample, MinerSnapshot } from '../../../core/samples.ts';
import type { SeriesPoint } from '../../../store/ports/series.ts';
import type { StoreBackend } from '../../../store/store.ts';
import { startSimulator, type SimulatedFleet } from '../../../simulator/index.ts';
import { openTestStore, type TestStore } from '../../store/backends.ts';

export const POLL_MS = 30_000;
const MIN = 60_000;
const FIVE = 5 * MIN;

export interface TruthMiner {
  id: string;
  tenant: string;
  site: string;
  model: string;
  /** means of the truth read after each poll in [startMs, lastClosedMs) */
  hashrate_ghs: number;
  power_w: number;
}

export interface ProfitFixture {
  store: TestStore;
  fleet: SimulatedFleet;
  /** the clock of the query: 3 minutes into a 5-minute bucket, in the past of the real clock */
  nowMs: number;
  startMs: number;
  /** the last 5-minute boundary before nowMs: [startMs, lastClosedMs) is one hour of closed buckets */
  lastClosedMs: number;
  truth: TruthMiner[];
  close(): Promise<void>;
}

export async function openProfitFixture(backend: StoreBackend): Promise<ProfitFixture> {
  const nowMs = Math.floor(Date.now() / FIVE) * FIVE - 2 * MIN;
  const lastClosedMs = Math.floor(nowMs / FIVE) * FIVE;
  const startMs = lastClosedMs - 60 * MIN;
  const store = await openTestStore(backend);
  const fleet = await startSimulator({
    miners: 8,
    seed: 1818,
    models: 's9:25,s19jpro:25,s19xp:25,s21:25',
    sites: 2,
    warmupMs: 100,
    retuneMs: 100,
    cacheMs: 0,
    baseAddress: `127.${100 + (process.pid % 50)}.${Math.floor(Math.random() * 250)}.1`,
  });
  try {
    // Two tenants: acme gets every model, globex one S19 XP and one S21.
    const byModel = new Map<string, string[]>();
    for (const m of fleet.miners) byModel.set(m.model, [...(byModel.get(m.model) ?? []), m.id]);
    const globex = new Set([byModel.get('s19xp')![0]!, byModel.get('s21')![0]!]);
    const tenantOf = (id: string): string => (globex.has(id) ? 'globex' : 'acme');

    const deadline = Date.now() + 20_000;
    while (!fleet.miners.every(m => fleet.truth(m.id).hashrate_ghs > 0 && fleet.truth(m.id).tuner_state.endsWith('STABLE'))) {
      if (Date.now() > deadline) throw new Error('simulated miners did not start hashing within 20 s');
      await new Promise(r => setTimeout(r, 100));
    }

    const series = await store.series.openWriter({ flushIntervalMs: 60_000 });
    const writer = new WindowStatsWriter(store.state, { runId: 'profit.1' });
    const rollups = new MinerRollups(series, { onWindow: w => writer.add(w) });
    const settings = { detailsIntervalMs: 10 * MIN, fallbackHotTempC: 95, lowHashratePct: 90, streamActive: false };
    const trackers = fleet.miners.map(m => {
      const t = new MinerTracker({ id: m.id, host: m.host, port: m.port, tenant: tenantOf(m.id), site: m.site, credentials: 'default', labels: {}, source: 'file' });
      const client = new MinerClient({ minerId: m.id, host: m.host, port: m.port, credentials: { username: 'root', password: 'root' }, timeoutMs: 5_000 });
      return { m, t, client };
    });
    const sums = new Map(fleet.miners.map(m => [m.id, { h: 0, p: 0, n: 0 }]));
    const last = new Map<string, MinerSample>();
    const points: SeriesPoint[] = [];
    for (let at = startMs; at < nowMs; at += POLL_MS) {
      for (const { m, t, client } of trackers) {
        const out = await pollMiner(t, client, settings, () => at);
        if (!out.ok) throw new Error(`poll of ${m.id} failed: ${out.error.message}`);
        const truth = fleet.truth(m.id);
        const s = out.result.sample;
        t.lastSample = s;
        points.push(...samplePoints(s).filter(p => p.measurement === 'miner'));
        rollups.addSample(s);
        last.set(m.id, s);
        if (at < lastClosedMs) {
          const acc = sums.get(m.id)!;
          acc.h += truth.hashrate_ghs;
          acc.p += truth.power_w;
          acc.n++;
        }
      }
      rollups.flushDue(at + POLL_MS, 2 * POLL_MS);
    }
    for (const { client } of trackers) client.close();
    series.write(points);
    await series.close({ timeoutMs: 30_000 });
    await writer.flush();
    const snaps: MinerSnapshot[] = [...last.values()].map(s => ({
      ref: s.ref,
      last_seen_ms: s.time_ms,
      last_poll_ms: s.time_ms,
      consecutive_failures: 0,
      last_error: null,
      status: s.status,
      sample: s,
      details: null,
    }));
    await store.state.putSnapshots(snaps);
    await store.state.putAggregates('collector', computeAggregates(snaps, nowMs));
    const truth: TruthMiner[] = fleet.miners.map(m => {
      const acc = sums.get(m.id)!;
      return { id: m.id, tenant: tenantOf(m.id), site: m.site, model: fleet.truth(m.id).model, hashrate_ghs: acc.h / acc.n, power_w: acc.p / acc.n };
    });
    return {
      store,
      fleet,
      nowMs,
      startMs,
      lastClosedMs,
      truth,
      async close() {
        await fleet.stop();
        await store.destroy();
      },
    };
  } catch (err) {
    await fleet.stop();
    await store.destroy();
    throw err;
  }
}
