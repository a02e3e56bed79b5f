import { afterEach, describe, expect, it } from 'vitest';
import type { InventoryMiner } from '../../collector/inventory/schema.ts';
import { createCollectorMetrics } from '../../collector/metrics.ts';
import type { MinerClientPool } from '../../collector/miner-client-pool.ts';
import { createMinerPoller, type MinerPoller } from '../../collector/poll-threads.ts';
import type { PollSink } from '../../collector/scheduler.ts';
import { silentLogger } from '../../runtime/logger.ts';
import { startSimulator, type SimulatedFleet } from '../../simulator/index.ts';

// Poll threads cannot call the leases' owns(): a process whose lease renewals stalled must
// still stop starting polls once its validity has passed (another collector may take its
// miners over), and start again when it is renewed. Real gRPC to a simulated fleet.
const INTERVAL_MS = 300;
let fleet: SimulatedFleet | undefined;
let poller: MinerPoller | undefined;
afterEach(async () => {
  await poller?.stop();
  await fleet?.stop();
  poller = fleet = undefined;
});

describe('poll threads and the leases', () => {
  it('start no poll past the leases’ validity, and resume once it is renewed', async () => {
    fleet = await startSimulator({ miners: 6, seed: 23, baseAddress: `127.23.${Math.floor(Math.random() * 250)}.1` });
    const miners: InventoryMiner[] = fleet.miners.map(m => ({ id: m.id, host: m.host, port: m.port, tenant: m.tenant, site: m.site, credentials: 'default', labels: {}, source: 'file' }));
    const polled: number[] = [];
    const sink: PollSink = { polled: () => void polled.push(Date.now()), missed: () => undefined, statusPushed: () => undefined, cycle: () => undefined };
    let until = Infinity;
    poller = createMinerPoller(
      2,
      {
        intervalMs: INTERVAL_MS,
        concurrency: 4,
        offlineAfterMisses: 3,
        backoffMaxMs: 10_000,
        statusStream: false,
        poll: { detailsIntervalMs: 60_000, fallbackHotTempC: 90, lowHashratePct: 90 },
        pool: {} as MinerClientPool, // the threads make their own clients
        sink,
        pollableUntilMs: () => until,
        metrics: createCollectorMetrics(undefined, { processMetrics: false }),
        log: silentLogger(),
        tickMs: 10,
      },
      { credentials: { resolve: () => Promise.resolve({ username: 'root', password: 'root' }) }, rpcTimeoutMs: 5_000 },
    );
    poller.setInventory(miners);
    poller.start();
    await expect.poll(() => polled.length, { timeout: 60_000, interval: 50 }).toBeGreaterThanOrEqual(2 * miners.length);

    // the renewals stopped: validity passes now. Polls already under way finish; then none
    // starts: a stretch of five intervals with no poll comes (without the gate, six miners are
    // polled every interval and it never does).
    until = Date.now();
    const quietFor = (): number => Date.now() - Math.max(until, polled.at(-1) ?? 0);
    await expect.poll(quietFor, { timeout: 15_000, interval: 50 }).toBeGreaterThanOrEqual(5 * INTERVAL_MS);

    // renewed
    until = Infinity;
    const reopened = Date.now();
    await expect.poll(() => polled.filter(t => t >= reopened).length, { timeout: 20_000, interval: 50 }).toBeGreaterThanOrEqual(miners.length);
  }, 120_000);
});
