import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCollector, type CollectorHandle } from '../../collector/collector-service.ts';
import { collectorConfigSchema } from '../../collector/config.ts';
import { concurrencyShare, threadOf } from '../../collector/poll-threads.ts';
import { parseConfig } from '../../runtime/config-loader.ts';
import { silentLogger } from '../../runtime/logger.ts';
import { startSimulator, type SimulatedFleet } from '../../simulator/index.ts';
import { MEASUREMENTS } from '../../core/samples.ts';
import { openTestStore, type TestStore } from '../store/backends.ts';

// COLLECTOR_POLL_THREADS > 1: poll threads own disjoint miner sets and send their outcomes to
// the main thread, which writes them. Real gRPC on loopback, the embedded store.

let fleet: SimulatedFleet | undefined;
let collector: CollectorHandle | undefined;
let store: TestStore | undefined;

afterEach(async () => {
  await collector?.stop();
  await fleet?.stop();
  await store?.destroy();
  collector = fleet = store = undefined;
});

async function start(o: { miners: number; threads: number; concurrency: number; intervalMs: number; faults?: string; rpcTimeoutMs?: number }): Promise<{ polls: Map<string, number[]> }> {
  store = await openTestStore('embedded');
  fleet = await startSimulator({ miners: o.miners, seed: 19, baseAddress: `127.19.${Math.floor(Math.random() * 250)}.1`, ...(o.faults ? { faults: o.faults } : {}) });
  const inventoryFile = join(mkdtempSync(join(tmpdir(), 'poll-threads-')), 'inventory.yaml');
  await fleet.writeInventory(inventoryFile);
  const config = parseConfig(collectorConfigSchema, {
    COLLECTOR_INVENTORY_FILE: inventoryFile,
    COLLECTOR_POLL_INTERVAL_MS: String(o.intervalMs),
    COLLECTOR_RPC_TIMEOUT_MS: String(o.rpcTimeoutMs ?? 5_000),
    COLLECTOR_CONCURRENCY: String(o.concurrency),
    COLLECTOR_POLL_THREADS: String(o.threads),
    COLLECTOR_HTTP_PORT: '0',
    MINER_PASSWORD: 'root',
  });
  collector = await startCollector(config, { store, http: false, log: silentLogger(), env: { ...process.env, MINER_PASSWORD: 'root' } });
  // Every successful poll writes one `miner` point stamped with the poll's time: the poll log.
  const polls = new Map<string, number[]>();
  const writer = collector.writer;
  const write = writer.write.bind(writer);
  writer.write = points => {
    for (const p of points) {
      if (p.measurement === MEASUREMENTS.miner && p.fields.up === 1) {
        const id = String(p.tags.miner);
        polls.set(id, [...(polls.get(id) ?? []), p.time_ms]);
      }
    }
    write(points);
  };
  return { polls };
}

async function skippedPolls(): Promise<number> {
  const m = await collector!.metrics.pollsSkipped.get();
  return m.values.reduce((a, v) => a + v.value, 0);
}

/** Polls of each miner inside [fromMs, toMs). */
function countIn(polls: Map<string, number[]>, ids: string[], fromMs: number, toMs: number): Map<string, number> {
  return new Map(ids.map(id => [id, (polls.get(id) ?? []).filter(t => t >= fromMs && t < toMs).length]));
}

describe('poll threads', () => {
  it('split the concurrency exactly and place each miner on one stable thread', () => {
    expect([0, 1, 2].map(i => concurrencyShare(256, i, 3))).toEqual([86, 85, 85]);
    expect([0, 1].map(i => concurrencyShare(256, i, 2)).reduce((a, b) => a + b)).toBe(256);
    const ids = Array.from({ length: 1_000 }, (_, i) => `sim-${i}`);
    const perThread = [0, 0, 0];
    for (const id of ids) perThread[threadOf(id, 3)]!++;
    for (const n of perThread) expect(n).toBeGreaterThan(250);
    expect(ids.map(id => threadOf(id, 3))).toEqual(ids.map(id => threadOf(id, 3)));
  });

  it('with 3 threads poll every miner exactly once per cycle', async () => {
    const intervalMs = 1_000;
    const { polls } = await start({ miners: 30, threads: 3, concurrency: 16, intervalMs });
    const ids = [...collector!.scheduler.trackers.keys()];
    expect(new Set(ids.map(id => threadOf(id, 3))).size).toBe(3);
    // Let every miner get going, then watch six cycles.
    await expect.poll(() => ids.every(id => (polls.get(id)?.length ?? 0) >= 2), { timeout: 90_000, interval: 100 }).toBe(true);
    const from = Date.now();
    const skippedBefore = await skippedPolls();
    await expect.poll(() => Date.now() - from >= 6 * intervalMs, { timeout: 20_000, interval: 200 }).toBe(true);
    // Once per cycle: 6 polls in 6 cycles, give or take the one at each edge of the window
    // (a poll is stamped when its answers arrive, which a loaded machine delays).
    const counts = countIn(polls, ids, from, from + 6 * intervalMs);
    for (const [id, n] of counts) expect(n, `${id} polled ${n} times in 6 cycles`).toBeGreaterThanOrEqual(5);
    for (const [id, n] of counts) expect(n, `${id} polled ${n} times in 6 cycles`).toBeLessThanOrEqual(7);
    expect(await skippedPolls()).toBe(skippedBefore);
    // the main thread mirrors what the threads saw
    for (const t of collector!.scheduler.trackers.values()) expect(t.lastSample?.ref.id).toBe(t.ref.id);
  }, 180_000);

  it('a thread whose every slot is held by hung miners does not delay the other thread', async () => {
    const intervalMs = 1_000;
    const miners = 24;
    const allIds = Array.from({ length: miners }, (_, i) => `sim-${String(i + 1).padStart(4, '0')}`);
    // concurrency 6 over 2 threads: 3 slots each; three miners of thread 0 answer after 60 s, so
    // thread 0 has no free slot while they hang (their polls give up at the 20 s RPC timeout).
    const hung = allIds.filter(id => threadOf(id, 2) === 0).slice(0, 3);
    const { polls } = await start({ miners, threads: 2, concurrency: 6, intervalMs, rpcTimeoutMs: 20_000, faults: `slow=60000@${hung.join('+')}` });
    const ids = [...collector!.scheduler.trackers.keys()];
    expect(ids.sort()).toEqual(allIds);
    const other = ids.filter(id => threadOf(id, 2) === 1);
    expect(other.length).toBeGreaterThan(5);
    await expect.poll(() => other.every(id => (polls.get(id)?.length ?? 0) >= 1), { timeout: 90_000, interval: 100 }).toBe(true);
    // The hung polls hold thread 0's three slots now.
    await expect.poll(() => hung.every(id => collector!.scheduler.trackers.get(id)!.lastPollMs === 0), { timeout: 5_000 }).toBe(true);
    const from = Date.now();
    await expect.poll(() => Date.now() - from >= 5 * intervalMs, { timeout: 20_000, interval: 200 }).toBe(true);
    const counts = countIn(polls, other, from, from + 5 * intervalMs);
    for (const [id, n] of counts) expect(n, `${id} (thread 1) polled ${n} times in 5 cycles`).toBeGreaterThanOrEqual(4);
    // and thread 0's healthy miners were held (the slots were really taken): at most a poll
    // already in flight when the window opened, instead of five
    const held = ids.filter(id => threadOf(id, 2) === 0 && !hung.includes(id));
    const heldCounts = countIn(polls, held, from, from + 5 * intervalMs);
    expect([...heldCounts.values()].reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(held.length);
  }, 180_000);
});
