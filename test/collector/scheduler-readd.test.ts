import { afterEach, describe, expect, it } from 'vitest';
import { createCollectorMetrics } from '../../collector/metrics.ts';
import type { MinerClientPool } from '../../collector/miner-client-pool.ts';
import { PollScheduler, type PollSink } from '../../collector/scheduler.ts';
import type { InventoryMiner } from '../../collector/inventory/schema.ts';
import { silentLogger } from '../../runtime/logger.ts';

// A miner that leaves the scheduler and comes back (a lease handed over and back, an entry
// deleted and added again) is due once per interval, not once per time it was added.
const INTERVAL_MS = 200;
const miner: InventoryMiner = { id: 'm1', host: '127.0.0.1', port: 50_051, tenant: 't', site: 's', credentials: 'default', labels: {}, source: 'file' };
const sink: PollSink = { polled: () => undefined, missed: () => undefined, statusPushed: () => undefined, cycle: () => undefined };
let scheduler: PollScheduler | null = null;
afterEach(async () => {
  await scheduler?.stop();
});

describe('PollScheduler', () => {
  it('keeps one due time per miner when a miner is removed and added again', async () => {
    const due: number[] = [];
    scheduler = new PollScheduler({
      intervalMs: INTERVAL_MS,
      concurrency: 4,
      offlineAfterMisses: 3,
      backoffMaxMs: 10_000,
      statusStream: false,
      poll: { detailsIntervalMs: 60_000, fallbackHotTempC: 90, lowHashratePct: 90 },
      pool: { retain: () => undefined } as unknown as MinerClientPool,
      sink,
      // every due poll passes here first; false keeps the test away from the network
      mayPoll: () => {
        due.push(Date.now());
        return false;
      },
      metrics: createCollectorMetrics(undefined, { processMetrics: false }),
      log: silentLogger(),
      tickMs: 5,
    });
    scheduler.setInventory([miner]);
    scheduler.start();
    for (let i = 0; i < 3; i++) {
      scheduler.setInventory([]);
      scheduler.setInventory([miner]);
    }
    const t0 = Date.now();
    await new Promise(r => setTimeout(r, 5 * INTERVAL_MS + INTERVAL_MS / 2));
    // over five intervals: five due polls (six at most, by where the phase falls), not 4 x 5
    const inWindow = due.filter(t => t >= t0).length;
    expect(inWindow).toBeGreaterThanOrEqual(4);
    expect(inWindow).toBeLessThanOrEqual(6);
  });
});
