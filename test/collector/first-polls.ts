import type { CollectorHandle } from '../../collector/collector-service.ts';

/**
 * Waits until the collector has an outcome for every miner: a sample, or offline after its
 * misses. A fixed sleep alone is not enough on a loaded machine, and counts asserted after it
 * (miners offline, rows written) would race the first polls. Plain loop: it runs in beforeAll,
 * where expect.poll is not allowed.
 */
export async function waitForFirstPolls(collector: CollectorHandle, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pending = [...collector.scheduler.trackers.values()].filter(
      t => t.lastSample === null && t.status !== 'offline',
    );
    if (pending.length === 0) return;
    if (Date.now() > deadline) {
      const ids = pending.slice(0, 5).map(t => t.ref.id);
      throw new Error(
        `${pending.length} miner(s) still without a first poll outcome after ${timeoutMs} ms: ${ids.join(', ')}`,
      );
    }
    await new Promise(r => setTimeout(r, 200));
  }
}
